"""security.audit_gap on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Settings: a system whose median daily event count (calendar days from its first to its last event, empty
days counting 0) is at least 20 may not be silent for more than 24 hours, including the silence from its
last event to the newest event of the whole log.
"""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
START = dt.datetime(2025, 3, 1)


def _ev(system: str | None, at: dt.datetime, i: int) -> dict[str, object]:
    return {
        "event_id": f"{system}-{i:03d}", "occurred_at": at.strftime("%Y-%m-%d %H:%M:%S"),
        "event_date": at.date().isoformat(), "actor_id": "svc-1", "actor_type": "service", "system": system,
        "action": "config_change", "outcome": "success", "categories": [], "actor_timezone": "UTC",
    }  # fmt: skip


def _every(system: str | None, minutes: int, until: dt.datetime, skip: tuple[dt.datetime, dt.datetime] | None = None):
    rows, at, i = [], START, 0
    while at <= until:
        if not (skip and skip[0] < at < skip[1]):
            rows.append(_ev(system, at, i))
        at, i = at + dt.timedelta(minutes=minutes), i + 1
    return rows


def test_security_audit_gap(make_db, policy) -> None:
    end = dt.datetime(2025, 3, 9, 23, 30)
    rows = [
        # crm: hourly, 1..9 Mar, silent between 4 Mar 05:00 and 5 Mar 07:00 (26 h > 24). Daily counts: 24 on 7
        # days, 6 on 4 Mar, 17 on 5 Mar -> median 24 >= 20 -> alarm on the day the silence starts.
        *_every("crm", 60, dt.datetime(2025, 3, 9, 23, 0), skip=(dt.datetime(2025, 3, 4, 5), dt.datetime(2025, 3, 5, 7))),
        # auth: every 30 minutes up to 9 Mar 23:30, the newest event of the log -> 48 a day, longest silence 0.5 h.
        *_every("auth", 30, end),
        # billing: hourly until 6 Mar 23:00, then nothing: 72.5 h to the end of the log -> alarm (median 24 over
        # its own 6 days).
        *_every("billing", 60, dt.datetime(2025, 3, 6, 23, 0)),
        # privacy-ops: 2 events on 1 Mar and 2 on 5 Mar: daily counts 2, 0, 0, 0, 2 -> median 0 < 20 -> info,
        # its 4-day silence is not judged.
        _ev("privacy-ops", dt.datetime(2025, 3, 1, 9), 1),
        _ev("privacy-ops", dt.datetime(2025, 3, 1, 10), 2),
        _ev("privacy-ops", dt.datetime(2025, 3, 5, 9), 3),
        _ev("privacy-ops", dt.datetime(2025, 3, 5, 10), 4),
        # No system: not examined. After as_of: not counted (it would end billing's silence).
        _ev(None, dt.datetime(2025, 3, 2, 9), 1),
        _ev("billing", dt.datetime(2025, 3, 11, 9), 999),
    ]  # fmt: skip
    con = make_db({"audit_events": rows})
    out = run_query(con, "security_audit_gap", {"as_of": AS_OF}, policy)
    got = {r["resource"]: (r["status"], r["severity"]) for r in out.to_dicts()}
    assert got == {
        "system:crm@2025-03-04": ("alarm", "high"),
        "system:billing@2025-03-06": ("alarm", "high"),
        "system:auth": ("ok", "info"),
        "system:privacy-ops": ("info", "info"),
    }
    by = {r["resource"]: r for r in out.to_dicts()}
    crm = by["system:crm@2025-03-04"]
    assert crm["reason"] == (
        "crm logged no audit events for 26.0 hours, from 2025-03-04 05:00:00 to 2025-03-05 07:00:00 UTC; it "
        "typically logs 24.0 events a day (median over 9 days) and may not fall silent for more than 24.0 hours."
    )
    # The events on either side of the silence: hour 77 (4 Mar 05:00) and hour 103 (5 Mar 07:00) from 1 Mar.
    assert crm["evidence"] == ["crm-077", "crm-103"]
    assert crm["observed_at"] == dt.datetime(2025, 3, 4, 5, 0)
    billing = by["system:billing@2025-03-06"]
    assert billing["reason"] == (
        "billing logged no audit events for 72.5 hours, from 2025-03-06 23:00:00 to 2025-03-09 23:30:00 UTC (the "
        "end of the audit log: it has not logged since); it typically logs 24.0 events a day (median over 6 days) "
        "and may not fall silent for more than 24.0 hours."
    )
    assert billing["evidence"] == ["billing-143"]
    assert by["system:auth"]["reason"] == (
        "auth typically logs 48.0 events a day (median over 9 days); its longest silence was 0.5 hours, within 24.0."
    )
    assert by["system:privacy-ops"]["reason"] == (
        "privacy-ops logs too rarely to judge silences: a median of 0.0 events a day over 5 days, under 20."
    )
