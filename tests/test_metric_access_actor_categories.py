"""access_actor_categories on hand-made audit events, as of 2025-03-10 (answers worked out by hand from roles.yaml:
support_agent may read, search, update, create user.name, user.contact, ...; support_lead may also export)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
D = dt.date


def _ev(event_id: str, at: str, action: str, categories: list[str], role: str | None, **kw) -> dict:
    fields = {"actor_id": "emp-a", "action": action, "categories": categories, "actor_role": role}
    return audit_event(event_id, at=at, **(fields | kw))


EVENTS = [
    _ev("e1", "2025-03-01 10:00:00", "read", ["user.contact.email", "user.name"], "support_agent", record_count=2,
        subject_id="s1", tenant_id="t1"),
    _ev("e2", "2025-03-02 10:00:00", "read", ["user.contact.email"], "support_agent", record_count=1,
        subject_id="s2", tenant_id="t1"),
    # support_agent may not export
    _ev("e3", "2025-03-03 10:00:00", "export", ["user.content.private"], "support_agent", record_count=10,
        subject_id="s1", tenant_id="t2"),
    # promoted: support_lead may export
    _ev("e4", "2025-03-05 10:00:00", "export", ["user.content.private"], "support_lead", record_count=5,
        subject_id="s3", tenant_id="t2"),
    # an unknown role is permitted nothing (record_count absent counts 1)
    _ev("e9", "2025-03-06 10:00:00", "read", ["user.name"], None, subject_id="s4", tenant_id="t3"),
    _ev("e5", "2025-03-04 10:00:00", "read", ["user.name"], "support_agent", outcome="denied"),  # not done
    _ev("e6", "2025-03-04 09:00:00", "login", [], "support_agent"),  # no personal data
    _ev("e7", "2025-03-11 10:00:00", "read", ["user.name"], "support_agent"),  # after as_of
    _ev("e8", "2025-03-04 10:00:00", "read", ["user.name"], "support_agent", actor_id="emp-b"),  # someone else
]  # fmt: skip


def test_access_actor_categories(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    out = run_query(con, "access_actor_categories", {"actor_id": "emp-a", "as_of": AS_OF}, policy)
    assert out.rows() == [
        # role, action, category, events, records, subjects, tenants, first, last, permitted
        (None, "read", "user.name", 1, 1, 1, 1, D(2025, 3, 6), D(2025, 3, 6), False),
        ("support_agent", "export", "user.content.private", 1, 10, 1, 1, D(2025, 3, 3), D(2025, 3, 3), False),
        ("support_agent", "read", "user.contact.email", 2, 3, 2, 1, D(2025, 3, 1), D(2025, 3, 2), True),
        ("support_agent", "read", "user.name", 1, 2, 1, 1, D(2025, 3, 1), D(2025, 3, 1), True),
        ("support_lead", "export", "user.content.private", 1, 5, 1, 1, D(2025, 3, 5), D(2025, 3, 5), True),
    ]
