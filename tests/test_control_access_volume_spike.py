"""access.volume_spike on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Settings: baseline = the person's own active days in the 90 days before the day, trusted from 10 days;
alarm when robust z = (day - median) / (1.4826 * max(MAD, 1)) > 6, the day is above 1.5x the largest day of that
window (a recurring peak is not a spike), the day is above the 0.99 quantile
(quantile_cont) of role peers' daily volumes over the same window, and the day has >= 500 records.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query
from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def _day(event_id: str, actor_id: str, date: str, records: int, role: str, **kw: object) -> dict[str, object]:
    fields = {"action": "read", "actor_role": role, "record_count": records} | kw
    return audit_event(event_id, actor_id, f"{date} 10:00:00", **fields)


def _days(actor_id: str, role: str, values: list[int], start: int = 1) -> list[dict[str, object]]:
    """One read a day from 1 Feb 2025 (day `start`) on, with the given record counts."""
    return [_day(f"{actor_id}-{i}", actor_id, f"2025-02-{start + i:02d}", v, role) for i, v in enumerate(values)]


def test_access_volume_spike(control_findings) -> None:
    rows = [
        # emp-spike: 12 baseline days 10,12,14 (x4): median 12, |x - 12| = 2,0,2 (x4) -> MAD 2.
        *_days("emp-spike", "support_agent", [10, 12, 14] * 4),
        # 3 Mar: 1500 + 500 = 2000 records. z = (2000 - 12) / (1.4826 * 2) = 670.4 > 6.
        # Peers (support_agent, other people, 3 Dec..2 Mar): emp-steady 50 (x12), emp-peer1 100, 200, 300,
        # emp-peer2 400, 600: 17 values; h = 0.99 * 16 = 15.84 -> 400 + 0.84 * (600 - 400) = 568 < 2000 -> alarm.
        _day("spike-big", "emp-spike", "2025-03-03", 1500, "support_agent", action="export", recipient="google.com"),
        _day("spike-small", "emp-spike", "2025-03-03", 500, "support_agent"),
        # 6 Mar: 400 records, far above her baseline but under the 500-record floor -> no alarm.
        _day("spike-400", "emp-spike", "2025-03-06", 400, "support_agent"),
        # emp-steady: 12 days of exactly 50 (MAD 0, floored to 1); 4 Mar: 600, z = 550 / 1.4826 = 371 > 6, but
        # peers now include emp-spike's 2000 of 3 Mar: 18 values, h = 0.99 * 17 = 16.83 -> 600 + 0.83 * 1400
        # = 1762 >= 600 -> not a spike among peers -> ok.
        *_days("emp-steady", "support_agent", [50] * 12),
        _day("steady-600", "emp-steady", "2025-03-04", 600, "support_agent"),
        _day("peer1-a", "emp-peer1", "2025-01-10", 100, "support_agent"),
        _day("peer1-b", "emp-peer1", "2025-01-11", 200, "support_agent"),
        _day("peer1-c", "emp-peer1", "2025-01-12", 300, "support_agent"),
        _day("peer2-a", "emp-peer2", "2025-01-13", 400, "support_agent"),
        _day("peer2-b", "emp-peer2", "2025-01-14", 600, "support_agent"),
        # emp-solo, the only sre: 10 days of 20 (MAD 0 -> 1); 5 Mar: 900, z = 880 / 1.4826 = 593.6; no peer
        # to compare with -> the own baseline decides -> alarm.
        *_days("emp-solo", "sre", [20] * 10),
        _day("solo-900", "emp-solo", "2025-03-05", 900, "sre"),
        # emp-new: only 5 baseline days (< 10) before a 5000-record day: baseline not trusted -> ok.
        *_days("emp-new", "billing_admin", [10] * 5),
        _day("new-5000", "emp-new", "2025-03-07", 5000, "billing_admin"),
        # Not counted: a failed read, a service account, an event after as_of.
        _day("steady-fail", "emp-steady", "2025-03-08", 90000, "support_agent", outcome="failure"),
        _day("svc-big", "svc-etl", "2025-03-05", 900000, "svc_analytics_etl", actor_type="service"),
        _day("solo-future", "emp-solo", "2025-03-11", 90000, "sre"),
    ]  # fmt: skip
    by = control_findings("access_volume_spike", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-spike@2025-03-03": alarm(
                "high",
                reason="emp-spike (support_agent) touched 2000 records in 2 events on 2025-03-03; their 90-day median is "
                "12.0 (MAD 2.0, 12 active days), robust z 670.44 > 6.0, and above 1.5x their largest day in that "
                "window (14); role peers' p99 is 568.0 (over 17 peer-days); floor 500 records.",
                evidence=["spike-big", "spike-small"],  # largest first
                observed_at=dt.datetime(2025, 3, 3, 10, 0),
            ),
            "actor:emp-solo@2025-03-05": alarm(
                "high",
                reason="emp-solo (sre) touched 900 records in 1 event on 2025-03-05; their 90-day median is 20.0 (MAD "
                "0.0, 10 active days), robust z 593.55 > 6.0, and above 1.5x their largest day in that window "
                "(20); no role peers were active in that window to compare; floor 500 records.",
            ),
            "actor:emp-steady": ok(
                reason="emp-steady: 13 active days, daily median 50.0 records, max 600; no day above both their own "
                "baseline (robust z > 6.0 and 1.5x their largest day in the window) and their role peers, with at "
                "least 500 records."
            ),
            "actor:emp-new": ok(),
            "actor:emp-peer1": ok(),
            "actor:emp-peer2": ok(),
        },
    )


def _month_end_rows(actor_id: str) -> list[dict[str, object]]:
    """A billing admin alone in her role: 40 records every weekday of Jan-Jul 2025, 3000 on each month's last
    weekday (the month-end invoicing run), and once, on Wed 11 Jun, 20000."""
    rows, day = [], dt.date(2025, 1, 1)
    while day <= dt.date(2025, 7, 31):
        if day.weekday() < 5:
            next_weekday = day + dt.timedelta(days=3 if day.weekday() == 4 else 1)
            month_end = next_weekday.month != day.month
            records = 20000 if day == dt.date(2025, 6, 11) else 3000 if month_end else 40
            rows.append(_day(f"{actor_id}-{day}", actor_id, day.isoformat(), records, "billing_admin"))
        day += dt.timedelta(days=1)
    return rows


def test_a_recurring_month_end_peak_is_part_of_the_rhythm(make_db, policy) -> None:
    """The first month-end run is new behaviour (its 90-day window holds 22 days of 40): an alarm. Every later
    one is no larger than 1.5x the previous month-end in its window: no alarm. The 20000-record day is 6.7x the
    largest day of its window (3000): an alarm."""
    con = make_db({"audit_events": _month_end_rows("emp-billing")})
    out = run_query(con, "access_volume_spike", {"as_of": dt.date(2025, 7, 31)}, policy)
    alarms = sorted(out.filter(out["status"] == "alarm")["resource"].to_list())
    assert alarms == ["actor:emp-billing@2025-01-31", "actor:emp-billing@2025-06-11"]
    june = out.filter(out["resource"] == "actor:emp-billing@2025-06-11")["reason"][0]
    assert "above 1.5x their largest day in that window (3000)" in june
