"""access_actor_activity for one actor, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
d = dt.date


def _event(event_id: str, at: str, action: str, outcome: str = "success", actor: str = "e1", **kw) -> dict:
    return audit_event(event_id, actor, at, action, outcome=outcome, **kw)


EVENTS = [
    _event("a1", "2025-03-03 09:00:00", "read", record_count=10),
    _event("a2", "2025-03-03 09:30:00", "export", record_count=5),
    _event("a3", "2025-03-03 08:55:00", "login_failed", "failure"),
    _event("a4", "2025-03-04 08:00:00", "login"),
    _event("a5", "2025-03-04 08:10:00", "search", "denied"),  # counted, and as failed
    _event("a6", "2025-03-05 12:00:00", "role_grant", target_actor_id="e2", role="sre"),
    _event("a7", "2025-03-05 12:05:00", "update", record_count=2),
    _event("a8", "2025-03-11 09:00:00", "read"),  # after as_of
    _event("b1", "2025-03-03 09:00:00", "read", actor="e2"),  # another actor
]


def test_access_actor_activity(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    params = {"as_of": AS_OF, "actor_id": "e1", "start_date": None, "end_date": None}
    out = run_query(con, "access_actor_activity", params, policy)
    # activity_date, action_group, events, records (absent record_count = 1), failed
    assert out.rows() == [
        (d(2025, 3, 3), "export/share", 1, 5, 0),
        (d(2025, 3, 3), "failed sign-in", 1, 1, 1),
        (d(2025, 3, 3), "read/search", 1, 10, 0),
        (d(2025, 3, 4), "read/search", 1, 1, 1),
        (d(2025, 3, 4), "sign-in", 1, 1, 0),
        (d(2025, 3, 5), "admin", 1, 1, 0),
        (d(2025, 3, 5), "change", 1, 2, 0),
    ]
    window = run_query(
        con, "access_actor_activity", params | {"start_date": d(2025, 3, 4), "end_date": d(2025, 3, 4)}, policy
    )
    assert window.rows() == [(d(2025, 3, 4), "read/search", 1, 1, 1), (d(2025, 3, 4), "sign-in", 1, 1, 0)]
