"""access_actor_profile on a hand-made directory and audit trail, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
D = dt.date


def _ev(event_id: str, actor: str, at: str, action: str, **kw) -> dict:
    return audit_event(event_id, actor, at, action, **({"geo_country": "AU"} | kw))


DIRECTORY = [
    {"actor_id": "emp-a", "actor_type": "employee", "role": "support_agent", "department": "Support",
     "status": "active", "start_date": "2024-01-01", "mfa_enabled": True, "home_country": "AU",
     "timezone": "Australia/Sydney"},
    {"actor_id": "emp-z", "actor_type": "contractor", "role": "sre", "department": "SRE", "status": "terminated",
     "start_date": "2023-01-01", "end_date": "2024-12-31", "mfa_enabled": False, "home_country": "DE",
     "timezone": "Europe/Berlin"},
]  # fmt: skip
EVENTS = [
    _ev("a1", "emp-a", "2025-03-01 10:00:00", "read", actor_role="support_agent", record_count=4, subject_id="s1",
        tenant_id="t1"),
    _ev("a2", "emp-a", "2025-03-02 10:00:00", "export", actor_role="support_lead", record_count=6, subject_id="s2",
        tenant_id="t1", geo_country="NZ"),
    _ev("a3", "emp-a", "2025-03-02 09:00:00", "login_failed", outcome="failure"),
    _ev("a4", "emp-a", "2025-03-03 10:00:00", "read", outcome="denied", subject_id="s9"),  # not a data action done
    _ev("a5", "emp-a", "2025-03-20 10:00:00", "read", record_count=50),  # after as_of
    _ev("u1", "cust-1", "2025-03-01 10:00:00", "read", actor_type="customer_user", actor_role="customer_user",
        subject_id="s3", tenant_id="t2"),
]  # fmt: skip


def test_access_actor_profile(make_db, policy) -> None:
    con = make_db({"directory_accounts": DIRECTORY, "audit_events": EVENTS})

    def profile(actor: str) -> list[tuple]:
        return run_query(con, "access_actor_profile", {"actor_id": actor, "as_of": AS_OF}, policy).rows()

    assert profile("emp-a") == [
        ("emp-a", "employee", "support_agent", "support_agent, support_lead", "Support", "active", D(2024, 1, 1), None,
         True, "AU", "Australia/Sydney",
         # first, last, active days, events, data events, records, subjects, tenants, failed logins, countries
         D(2025, 3, 1), D(2025, 3, 3), 3, 4, 2, 10, 2, 1, 1, "AU, NZ"),
    ]  # fmt: skip
    # Not in the directory: the audit trail alone (record_count absent counts 1).
    assert profile("cust-1") == [
        ("cust-1", "customer_user", None, "customer_user", None, None, None, None, None, None, None,
         D(2025, 3, 1), D(2025, 3, 1), 1, 1, 1, 1, 1, 1, 0, "AU"),
    ]  # fmt: skip
    # In the directory, never in the audit trail.
    assert profile("emp-z") == [
        ("emp-z", "contractor", "sre", None, "SRE", "terminated", D(2023, 1, 1), D(2024, 12, 31), False, "DE",
         "Europe/Berlin", None, None, 0, 0, 0, 0, 0, 0, 0, None),
    ]  # fmt: skip
    assert profile("nobody") == []
