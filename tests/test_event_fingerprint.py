"""The per-date fingerprint of audit events (compliance.stored_findings) that daily loads compare to find the dates
whose rollups and findings to recompute: a role change of an even number of one day's events must change it (a
digest built from DuckDB's several-argument hash, XOR-linear in each argument, cancelled such changes out)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.stored_findings import _write_event_days, changed_event_dates


def test_a_role_change_of_two_events_of_one_day_changes_that_date(make_db) -> None:
    con = make_db({"audit_events": [
        audit_event("a1", "ann", "2025-03-03 09:00:00", "read"),
        audit_event("a2", "ann", "2025-03-03 10:00:00", "read"),
        audit_event("a3", "ann", "2025-03-04 10:00:00", "read"),
    ]})  # fmt: skip
    assert changed_event_dates(con) is None  # no fingerprint stored yet
    _write_event_days(con, computed=True)
    assert changed_event_dates(con) == []
    con.execute("update audit_events set actor_role = 'platform_admin' where event_date = '2025-03-03'").fetchall()
    assert changed_event_dates(con) == [dt.date(2025, 3, 3)]
