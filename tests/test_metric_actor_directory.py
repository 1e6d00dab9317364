"""actor_directory: directory accounts plus actors only the audit log knows (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query


def test_actor_directory(make_db, policy) -> None:
    con = make_db(
        {
            "directory_accounts": [
                {"actor_id": "e1", "actor_type": "employee", "role": "sre", "department": "SRE", "status": "active",
                 "timezone": "Europe/Berlin", "mfa_enabled": True, "home_country": "DE", "start_date": "2023-01-02"},
            ],
            "audit_events": [
                {"event_id": "a1", "occurred_at": "2025-03-01 10:00:00", "actor_id": "e1", "actor_type": "employee",
                 "action": "login", "outcome": "success"},
                {"event_id": "a2", "occurred_at": "2025-03-01 10:00:00", "actor_id": "cu1",
                 "actor_type": "customer_user", "action": "login", "outcome": "success"},
                {"event_id": "a3", "occurred_at": "2025-03-02 10:00:00", "actor_id": "cu1",
                 "actor_type": "customer_user", "action": "logout", "outcome": "success"},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "actor_directory", {"actor_id": None}, policy)
    cu1 = ("cu1", "customer_user", None, None, None, None, None, None, None, None, False, 2)
    e1 = ("e1", "employee", "sre", "SRE", "active", "Europe/Berlin", True, "DE", dt.date(2023, 1, 2), None, True, 1)
    assert out.rows() == [cu1, e1]
    # One actor: from the audit log alone, from the directory, or unknown to both.
    for actor_id, rows in (("cu1", [cu1]), ("e1", [e1]), ("nobody", [])):
        assert run_query(con, "actor_directory", {"actor_id": actor_id}, policy).rows() == rows
