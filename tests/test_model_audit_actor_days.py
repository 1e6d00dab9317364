"""audit_actor_days on hand-made audit events (answers worked out by hand): one row per actor, type and UTC day of
successful personal-data actions, with the role held at the end of the day."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query


def _ev(n: int, actor: str, at: str, action: str = "read", outcome: str = "success", **kw) -> dict:
    fields = {"outcome": outcome, "system": "crm", "categories": ["user.contact.email"]}
    return audit_event(f"e{n}", actor, at, action, **(fields | kw))


def test_audit_actor_days(make_db, policy) -> None:
    con = make_db({"audit_events": [
        _ev(1, "ann", "2025-03-03 09:00:00", record_count=10, actor_role="support"),
        _ev(2, "ann", "2025-03-03 15:00:00", record_count=None, actor_role="engineer"),  # later role; counts 1 record
        _ev(3, "ann", "2025-03-03 16:00:00", action="login", actor_role="engineer"),  # not a data action
        _ev(4, "ann", "2025-03-03 17:00:00", outcome="denied", record_count=99),  # used no data
        _ev(5, "ann", "2025-03-04 08:00:00", action="export", record_count=5, actor_role="engineer"),
        _ev(6, "svc", "2025-03-03 10:00:00", record_count=7, actor_type="service", actor_role=None),
    ]})  # fmt: skip
    out = run_query(con, "audit_actor_days", {}, policy).sort("actor_id", "event_date")
    assert out.rows() == [
        ("ann", "employee", dt.date(2025, 3, 3), "engineer", 2, 11, dt.datetime(2025, 3, 3, 15)),
        ("ann", "employee", dt.date(2025, 3, 4), "engineer", 1, 5, dt.datetime(2025, 3, 4, 8)),
        ("svc", "service", dt.date(2025, 3, 3), None, 1, 7, dt.datetime(2025, 3, 3, 10)),
    ]
