"""vendor_principals and vendor_unmatched_principals on hand-made events (worked out by hand)."""

from __future__ import annotations

from datetime import datetime

from compliance.queries import run_query


def _ev(event_id: str, actor_id: str, source: str, at: str = "2025-03-01 09:00:00") -> dict:
    return {"event_id": event_id, "occurred_at": datetime.fromisoformat(at), "actor_id": actor_id,
            "actor_type": "employee", "action": "login", "outcome": "success", "log_source": source}  # fmt: skip


ROWS = {
    "directory_accounts": [{"actor_id": "emp-1", "actor_type": "employee", "role": "engineer", "status": "active"}],
    "audit_events": [
        _ev("a1", "emp-1", "audit"),  # the contract's own audit log: not a vendor event
        _ev("a2", "stranger", "audit"),
        _ev("o1", "emp-1", "okta"),  # matched (through identities/ at load, or by id)
        _ev("o2", "bob@x.io", "okta", "2025-03-02 10:00:00"),
        _ev("o3", "bob@x.io", "okta", "2025-03-01 08:00:00"),
        _ev("c1", "arn:aws:iam::1:user/zed", "cloudtrail"),
    ],
}


def test_vendor_principals(make_db, policy) -> None:
    out = run_query(make_db(ROWS), "vendor_principals", {}, policy)
    assert out.rows() == [("cloudtrail", 1, 1, 1, 1), ("okta", 3, 2, 1, 2)]


def test_vendor_unmatched_principals(make_db, policy) -> None:
    out = run_query(make_db(ROWS), "vendor_unmatched_principals", {"max_rows": 10}, policy)
    assert out.rows() == [
        ("okta", "bob@x.io", "employee", 2, datetime(2025, 3, 1, 8), datetime(2025, 3, 2, 10)),
        ("cloudtrail", "arn:aws:iam::1:user/zed", "employee", 1, datetime(2025, 3, 1, 9), datetime(2025, 3, 1, 9)),
    ]
    assert run_query(make_db(ROWS), "vendor_unmatched_principals", {"max_rows": 1}, policy).height == 1
