"""audit_daily_by_system on hand-made events, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

d = dt.date


def _event(event_id: str, at: str, system: str | None) -> dict:
    return audit_event(event_id, "e1", at, system=system)


def test_audit_daily_by_system(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _event("a1", "2025-03-01 08:00:00", "crm"),
                _event("a2", "2025-03-01 20:00:00", "crm"),
                _event("a3", "2025-03-03 08:00:00", "crm"),  # 2 Mar absent: a silent day
                _event("a4", "2025-03-02 08:00:00", None),
                _event("a5", "2025-03-11 08:00:00", "crm"),  # after as_of
            ]
        }
    )
    params = {"as_of": d(2025, 3, 10), "start_date": None, "end_date": None}
    out = run_query(con, "audit_daily_by_system", params, policy)
    assert out.rows() == [("(none)", d(2025, 3, 2), 1), ("crm", d(2025, 3, 1), 2), ("crm", d(2025, 3, 3), 1)]
    window = run_query(
        con, "audit_daily_by_system", params | {"start_date": d(2025, 3, 2), "end_date": d(2025, 3, 2)}, policy
    )
    assert window.rows() == [("(none)", d(2025, 3, 2), 1)]
