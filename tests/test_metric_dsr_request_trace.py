"""dsr_request_trace on a hand-made register and audit trail, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
T = dt.datetime

REGISTER = [
    {"request_id": "r1", "subject_id": "s1", "jurisdiction": "EU", "request_type": "delete", "channel": "webform",
     "received_at": "2025-01-06 10:00:00", "acknowledged_at": "2025-01-07 09:00:00",
     "verified_at": "2025-01-08 09:00:00", "completed_at": "2025-01-20 12:00:00", "status": "completed",
     "status_reason": "fulfilled"},
    {"request_id": "r2", "subject_id": "s2", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-01-06 10:00:00", "status": "open"},
]  # fmt: skip


def _ev(event_id: str, at: str, actor: str, system: str, action: str, **kw) -> dict:
    return audit_event(event_id, actor, at, action, **({"system": system} | kw))


EVENTS = [
    _ev("ev-before", "2025-01-02 09:00:00", "emp-1", "crm", "read", resource_type="contact", resource_id="c-1",
        subject_id="s1"),
    # a case event that also names the subject: one row, as a case event
    _ev("ev-case", "2025-01-10 10:00:00", "priv-1", "privacy-ops", "update", resource_type="dsr_case",
        resource_id="r1", subject_id="s1"),
    _ev("ev-denied", "2025-01-15 08:00:00", "emp-2", "crm", "read", outcome="denied", resource_type="contact",
        resource_id="c-1", subject_id="s1"),
    _ev("ev-erase", "2025-01-20 11:50:00", "svc-retention", "crm", "delete", actor_type="service",
        resource_type="contact", subject_id="s1", record_count=3),
    _ev("ev-after", "2025-02-01 09:00:00", "emp-1", "crm", "read", resource_type="contact", resource_id="c-1",
        subject_id="s1"),
    _ev("ev-future", "2025-03-20 09:00:00", "emp-1", "crm", "read", resource_type="contact", resource_id="c-1",
        subject_id="s1"),  # after as_of
    _ev("ev-other", "2025-01-10 09:00:00", "emp-1", "crm", "read", resource_type="contact", subject_id="s9"),
    _ev("ev-r2", "2025-01-10 09:00:00", "priv-1", "privacy-ops", "read", resource_type="dsr_case", resource_id="r2"),
]  # fmt: skip


def test_dsr_request_trace(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER, "audit_events": EVENTS})
    out = run_query(con, "dsr_request_trace", {"request_ids": ["r1"], "as_of": AS_OF}, policy)
    M = (None, None, None, None, None, None)  # a register milestone names no actor, system or event
    assert out.rows() == [
        ("r1", T(2025, 1, 2, 9), "audit", "before receipt", "subject data read", "emp-1", "crm", "read",
         "contact:c-1", 1, "ev-before"),
        ("r1", T(2025, 1, 6, 10), "register", "milestone", "received via webform", *M),
        ("r1", T(2025, 1, 7, 9), "register", "milestone", "acknowledged", *M),
        ("r1", T(2025, 1, 8, 9), "register", "milestone", "identity verified", *M),
        ("r1", T(2025, 1, 10, 10), "audit", "while open", "case update", "priv-1", "privacy-ops", "update",
         "dsr_case:r1", 1, "ev-case"),
        ("r1", T(2025, 1, 15, 8), "audit", "while open", "subject data read (denied)", "emp-2", "crm", "read",
         "contact:c-1", 1, "ev-denied"),
        ("r1", T(2025, 1, 20, 11, 50), "audit", "while open", "subject data delete", "svc-retention", "crm", "delete",
         "contact", 3, "ev-erase"),
        ("r1", T(2025, 1, 20, 12), "register", "milestone", "completed (fulfilled)", *M),
        ("r1", T(2025, 2, 1, 9), "audit", "after closure", "subject data read", "emp-1", "crm", "read",
         "contact:c-1", 1, "ev-after"),
    ]  # fmt: skip


def test_dsr_request_trace_shows_the_art_12a_steps(make_db, policy) -> None:
    uk = {"request_id": "u1", "subject_id": "s-u", "jurisdiction": "UK", "request_type": "access", "channel": "email",
          "received_at": "2025-02-03 10:00:00", "clarification_requested_at": "2025-02-10 10:00:00",
          "clarification_received_at": "2025-02-24 10:00:00", "id_requested_at": "2025-02-03 11:00:00",
          "status": "open"}  # fmt: skip
    con = make_db({"dsr_requests": [uk]})
    # As of 20 Feb the clarification had been asked for, not yet answered.
    out = run_query(con, "dsr_request_trace", {"request_ids": ["u1"], "as_of": dt.date(2025, 2, 20)}, policy)
    assert out["step"].to_list() == ["received via email", "identity information requested", "clarification requested"]
