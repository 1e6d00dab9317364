"""known_identifiers: every actor and subject id, an id that is both listed once as an actor."""

from __future__ import annotations

from compliance.queries import run_query


def test_known_identifiers(make_db, policy) -> None:
    con = make_db(
        {
            "directory_accounts": [{"actor_id": "e1", "actor_type": "employee", "status": "active"}],
            "audit_events": [
                {"event_id": "a1", "occurred_at": "2025-03-01 10:00:00", "actor_id": "cu1",
                 "actor_type": "customer_user", "action": "read", "outcome": "success", "subject_id": "s1"},
                {"event_id": "a2", "occurred_at": "2025-03-01 10:00:00", "actor_id": "e1", "actor_type": "employee",
                 "action": "role_grant", "outcome": "success", "target_actor_id": "e2", "role": "sre"},
            ],
            "subjects": [{"subject_id": "s2", "tenant_id": "t1"}, {"subject_id": "cu1", "tenant_id": "t1"}],
            "dsr_requests": [{"request_id": "r1", "subject_id": "s3", "jurisdiction": "EU", "request_type": "access",
                              "received_at": "2025-03-01 10:00:00", "status": "open"}],
            "usage_events": [{"event_id": "u1", "occurred_at": "2025-03-01 10:00:00", "user_id": "s4"}],
        }
    )  # fmt: skip
    out = run_query(con, "known_identifiers", {}, policy)
    assert out.rows() == [
        ("actor", "cu1"),  # a customer user acts and is a subject: listed once, as an actor
        ("actor", "e1"),
        ("actor", "e2"),  # the target of a role grant
        ("subject", "s1"),
        ("subject", "s2"),
        ("subject", "s3"),
        ("subject", "s4"),
    ]
