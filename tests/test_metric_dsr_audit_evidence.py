"""dsr_audit_evidence on a hand-made register and audit trail, as of 2025-03-10 (answers worked out by hand).

The audit trail starts on 2025-01-01 (its first event), so a request received before that is left out."""

from __future__ import annotations

import datetime as dt

from rows import audit_event, dsr_request

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, kind: str, subject: str, received: str, completed: str | None, status: str = "completed"):
    return dsr_request(request_id, "EU", kind, received, status, completed, subject_id=subject)


def _ev(event_id: str, at: str, action: str, **kw) -> dict:
    return audit_event(event_id, at=at, **({"actor_id": "priv-1", "action": action} | kw))


REGISTER = [
    _req("d1", "delete", "s1", "2025-01-06 10:00:00", "2025-01-20 12:00:00"),  # case event, erased that day
    _req("d2", "delete", "s2", "2025-01-10 10:00:00", "2025-01-25 12:00:00"),  # erased only after completion day
    _req("a1", "access", "s3", "2025-01-06 10:00:00", "2025-01-15 12:00:00"),  # case event, export while open
    _req("a2", "access", "s6", "2024-12-20 10:00:00", "2025-01-05 12:00:00"),  # received before the trail starts
    _req("o1", "object", "s4", "2025-01-06 10:00:00", "2025-01-09 12:00:00"),  # case event; no fulfilment defined
    _req("c1", "correct", "s5", "2025-01-06 10:00:00", "2025-01-09 12:00:00"),  # its update failed
    _req("d3", "delete", "s7", "2025-01-06 10:00:00", None, status="open"),  # open
    _req("d4", "delete", "s8", "2025-01-06 10:00:00", "2025-03-15 12:00:00"),  # completed after as_of
]
EVENTS = [
    _ev("first", "2025-01-01 00:00:00", "login"),
    _ev("d1-case", "2025-01-07 10:00:00", "read", resource_type="dsr_case", resource_id="d1"),
    _ev("d1-erase", "2025-01-20 11:00:00", "delete", subject_id="s1", actor_id="svc-retention"),
    _ev("d2-erase", "2025-02-01 11:00:00", "deidentify", subject_id="s2", actor_id="svc-retention"),
    _ev("a1-case", "2025-01-07 10:00:00", "update", resource_type="dsr_case", resource_id="a1"),
    _ev("a1-export", "2025-01-14 10:00:00", "export", subject_id="s3"),
    _ev("o1-case", "2025-01-07 10:00:00", "update", resource_type="dsr_case", resource_id="o1"),
    _ev("c1-update", "2025-01-08 10:00:00", "update", subject_id="s5", outcome="failure"),
]


def test_dsr_audit_evidence(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER, "audit_events": EVENTS})
    out = run_query(con, "dsr_audit_evidence", {"as_of": AS_OF}, policy)
    assert out.rows() == [
        # request type, fulfilment actions, completed, with case events, with a fulfilment event
        ("access", "export", 1, 1, 1),
        ("correct", "update", 1, 0, 0),
        ("delete", "deidentify, delete", 2, 1, 1),
        ("object", None, 1, 1, None),
    ]
