"""security.audit_gap on hand-made audit events with different weekly rhythms (answers worked out by hand).

Settings: a silence alarms when it is longer than 24 hours AND its chance under the system's hour-of-week
rhythm is under 0.001; a system needs 2 weeks of history. A slot's p = weeks active / (weeks + 1); the chance of
a silence is the product of (1 - p) over the hours it fully covers.

The log runs six weeks, Mon 2025-01-06 00:00 to Sun 2025-02-16 23:30 (the newest event, from crm).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from rows import audit_event

from compliance.queries import run_query
from tests.findings_support import alarm, assert_findings, finding, ok

AS_OF = dt.date(2025, 2, 17)
START = dt.datetime(2025, 1, 6)  # a Monday
END = dt.datetime(2025, 2, 16, 23, 30)


def _ev(system: str | None, at: dt.datetime) -> dict[str, object]:
    fields = {"actor_type": "service", "actor_role": None, "system": system}
    return audit_event(f"{system}-{at:%m%d%H%M}", "svc-1", at.strftime("%Y-%m-%d %H:%M:%S"), "config_change", **fields)


def _times(start: dt.datetime, until: dt.datetime, minutes: int) -> Iterator[dt.datetime]:
    at = start
    while at <= until:
        yield at
        at += dt.timedelta(minutes=minutes)


def _system(system: str, keep: Callable[[dt.datetime], bool], minutes: int = 20, start=START, until=END):
    return [_ev(system, at) for at in _times(start, until, minutes) if keep(at)]


def _weekday_hours(at: dt.datetime) -> bool:
    return at.weekday() < 5 and 9 <= at.hour < 17


def _rows() -> list[dict[str, object]]:
    outage = (dt.datetime(2025, 1, 20, 12), dt.datetime(2025, 1, 25, 12))
    missed_tuesday = dt.date(2025, 1, 28)
    return [
        # office: Mon-Fri 09:00-16:40 only. Its weekends (64.3 h) and its trailing silence from Fri 14 Feb
        # 16:40 (54.8 h) cover only hours with p = 0: chance 1, no alarm.
        *_system("office", _weekday_hours),
        # payroll: the same rhythm, but silent all of Tue 28 Jan: 27 Jan 16:40 to 29 Jan 09:00 = 40.3 h, covering
        # 40 hours of which Tue 09-16 (8 slots) were active in 5 of 6 weeks: p = 5/7 -> chance (2/7)^8 = 4.4e-05.
        *_system("payroll", lambda at: _weekday_hours(at) and at.date() != missed_tuesday),
        # nightly: every night 01:00-04:40; its silences (20.3 h) are never longer than 24 h.
        *_system("nightly", lambda at: 1 <= at.hour < 5),
        # crm: 24/7 every 30 min, down from Mon 20 Jan 12:00 to Sat 25 Jan 12:00 (120 h): 119 covered hours,
        # each active in 5 of 6 weeks -> (2/7)^119.
        *_system("crm", lambda at: not outage[0] < at < outage[1], minutes=30),
        # billing: 24/7 hourly until Thu 13 Feb 23:00, then nothing until the log ends (72.5 h): 71 covered hours
        # (14 Feb 00:00 - 16 Feb 22:00) each active in 5 of 6 weeks -> (2/7)^71.
        *_system("billing", lambda at: True, minutes=60, until=dt.datetime(2025, 2, 13, 23)),
        # newbie: hourly from Mon 10 Feb for two days: 1.0 week of history (to the log's last hour) < 2: info.
        *_system("newbie", lambda at: True, 60, dt.datetime(2025, 2, 10), dt.datetime(2025, 2, 12)),
        # sporadic: three Mondays at 10:00. Its 336 h silences cover one Monday 10:00 with p = 3/7 -> 0.57.
        *[_ev("sporadic", dt.datetime(2025, 1, d, 10)) for d in (6, 20)],
        _ev("sporadic", dt.datetime(2025, 2, 3, 10)),
        # No system: not examined. After as_of: not counted (it would end billing's silence).
        _ev(None, dt.datetime(2025, 1, 7, 9)),
        _ev("billing", dt.datetime(2025, 2, 18, 9)),
    ]  # fmt: skip


def test_security_audit_gap(control_findings) -> None:
    by = control_findings("security_audit_gap", {"audit_events": _rows()}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "system:payroll@2025-01-27": alarm(
                "high",
                reason="payroll logged no audit events for 40.3 hours, from 2025-01-27 16:40:00 to 2025-01-29 09:00:00 "
                "UTC; over the 5.9 weeks observed it logs in 8 of the 40 silent hours of the week at least every "
                "other week (5.7 active hours expected), so a silence like this has a chance of 4.4e-05, under "
                "0.001, and it is longer than the 24.0 hours allowed.",
                evidence=["payroll-01271640", "payroll-01290900"],
                observed_at=dt.datetime(2025, 1, 27, 16, 40),
            ),
            "system:crm@2025-01-20": alarm("high"),
            "system:billing@2025-02-13": alarm("high"),
            "system:office": ok(
                reason="office fell silent for more than 24.0 hours 6 times over 5.9 weeks (longest 64.3 hours), each "
                "over hours of the week in which it usually does not log."
            ),
            "system:nightly": ok(reason="nightly never fell silent for more than 24.0 hours over 6.0 weeks."),
            "system:sporadic": ok(
                reason="sporadic fell silent for more than 24.0 hours 3 times over 5.9 weeks (longest 336.0 hours), each "
                "over hours of the week in which it usually does not log."
            ),
            "system:newbie": finding(
                "info",
                "info",
                reason="newbie has 1.0 weeks of audit history, under the 2.0 needed to learn its weekly rhythm: its "
                "silences are not judged yet.",
            ),
        },
    )
    crm = by["system:crm@2025-01-20"]
    assert crm["reason"].startswith(
        "crm logged no audit events for 120.0 hours, from 2025-01-20 12:00:00 to 2025-01-25 12:00:00 UTC; over the "
        "6.0 weeks observed it logs in 119 of the 119 silent hours of the week at least every other week (85.0 "
        f"active hours expected), so a silence like this has a chance of {(2 / 7) ** 119:.1e}, under 0.001"
    )
    assert crm["evidence"] == ["crm-01201200", "crm-01251200"]
    billing = by["system:billing@2025-02-13"]
    assert billing["reason"].startswith(
        "billing logged no audit events for 72.5 hours, from 2025-02-13 23:00:00 to 2025-02-16 23:30:00 UTC (the "
        "end of the audit log: it has not logged since); over the 6.0 weeks observed it logs in 71 of the 71 "
        f"silent hours of the week at least every other week (50.7 active hours expected), so a silence like this "
        f"has a chance of {(2 / 7) ** 71:.1e}"
    )
    assert billing["evidence"] == ["billing-02132300"]


def test_weekday_system_never_alarms_on_weekends(make_db, policy) -> None:
    """Forty weeks of a Mon-Fri system: its 39 weekends are 64-65 h silences, none alarms."""
    start, until = dt.datetime(2024, 4, 1), dt.datetime(2025, 1, 3, 17)
    rows = _system("office", _weekday_hours, 60, start, until)
    out = run_query(make_db({"audit_events": rows}), "security_audit_gap", {"as_of": until.date()}, policy)
    assert out.select("resource", "status").rows() == [("system:office", "ok")]
    assert "39 times" in out["reason"][0]


# Public holidays (settings security.audit_gap_holidays): Mon 27 Jan 2025 is Australia Day observed (AU, NSW).
HOLIDAY = dt.date(2025, 1, 27)


def _holiday_rows() -> list[dict[str, object]]:
    return [
        # office: Mon-Fri 09:00-16:40, off on the holiday: silent Fri 24 Jan 16:40 to Tue 28 Jan 09:00 (88.3 h).
        # Its Monday 09-16 slots were active in 5 of 6 weeks (p = 5/7): as an ordinary Monday, chance
        # (2/7)^8 = 4.4e-05, an alarm; as a holiday, each hour takes the weekend's p = 0: chance 1, no alarm.
        *_system("office", lambda at: _weekday_hours(at) and at.date() != HOLIDAY),
        # payroll: the same rhythm, silent on an ordinary Tuesday (4 Feb): (2/7)^8, an alarm, holiday or not.
        *_system("payroll", lambda at: _weekday_hours(at) and at.date() != dt.date(2025, 2, 4)),
        # crm: 24/7 every 30 min, down Sun 26 Jan 12:00 to Tue 28 Jan 12:00 (48 h, 47 covered hours). Its weekend
        # hours are as active as its weekdays (p = 5/7), so the holiday excuses nothing: (2/7)^47, an alarm.
        *_system("crm", lambda at: not dt.datetime(2025, 1, 26, 12) < at < dt.datetime(2025, 1, 28, 12), 30),
    ]


def _statuses(con, policy, holidays: list[dt.date]) -> dict[str, str]:
    params = {"as_of": AS_OF, "security_audit_gap_holidays": holidays, "security_audit_gap_holidays_timezone": "UTC"}
    out = run_query(con, "security_audit_gap", params, policy)
    return {r["resource"]: r["status"] for r in out.to_dicts()}


def test_weekday_system_silent_on_a_public_holiday_does_not_alarm(make_db, policy) -> None:
    con = make_db({"audit_events": _holiday_rows()})
    assert _statuses(con, policy, [HOLIDAY]) == {
        "system:office": "ok",
        "system:payroll@2025-02-03": "alarm",
        "system:crm@2025-01-26": "alarm",
    }
    # Without the holiday the office's long weekend is a missed Monday, as before the calendar was known.
    assert _statuses(con, policy, [])["system:office@2025-01-24"] == "alarm"


def test_the_holiday_calendar_comes_from_the_holidays_package() -> None:
    from compliance.config.dsr_rules import Calendar
    from compliance.deadlines import holiday_dates

    days = holiday_dates(Calendar(country="AU", subdiv="NSW", timezone="Australia/Sydney"), [2025])
    assert HOLIDAY in days and dt.date(2025, 1, 28) not in days
