"""dsr.processing_after_erasure on hand-made requests and events, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event, dsr_request

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, subject_id: str, request_type: str = "delete") -> dict[str, object]:
    received, completed = "2025-01-15 09:00:00", "2025-02-01 12:00:00"
    return dsr_request(request_id, "EU", request_type, received, "completed", completed, subject_id=subject_id)


def _audit(
    event_id: str, subject_id: str, at: str, action: str = "read", outcome: str = "success"
) -> dict[str, object]:
    return audit_event(event_id, "emp-1", at, action, outcome=outcome, resource_type="contact", subject_id=subject_id)


def test_processing_after_erasure(control_findings) -> None:
    tables = {
        "dsr_requests": [
            _req("del-1", "s1"),
            _req("del-2", "s2"),
            _req("del-3", "s3"),
            _req("acc-4", "s4", request_type="access"),  # not an erasure: not examined
        ],
        "audit_events": [
            _audit("a1", "s1", "2025-02-05 10:00:00"),  # read after completion: counts
            _audit("a2", "s1", "2025-02-06 10:00:00", action="export"),  # export after: counts, disclosure
            _audit("a3", "s1", "2025-02-02 10:00:00", action="delete"),  # the erasure itself: ignored
            _audit("a4", "s1", "2025-02-07 10:00:00", outcome="denied"),  # did not happen: ignored
            _audit("a5", "s1", "2025-01-20 10:00:00"),  # before completion: ignored
            _audit("a6", "s1", "2025-02-08 10:00:00", action="login"),  # not a data action: ignored
            _audit("a7", "s2", "2025-02-03 10:00:00", action="update"),  # counts
            _audit("a8", "s3", "2025-01-25 10:00:00"),  # before completion
            _audit("a9", "s4", "2025-02-05 10:00:00"),
        ],
        "usage_events": [
            {"event_id": "u1", "occurred_at": "2025-02-10 10:00:00", "user_id": "s1", "event_name": "call"},
            # After as_of: not yet happened on 10 Mar.
            {"event_id": "u2", "occurred_at": "2025-03-15 10:00:00", "user_id": "s1", "event_name": "call"},
        ],
    }  # fmt: skip
    rows = control_findings("dsr_processing_after_erasure", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:del-1": alarm(  # a2 exported the data
                "critical",
                reason="Subject s1 of delete request del-1 (EU, completed 2025-02-01 12:00:00) was processed afterwards: "
                "2 audit data action(s) and 1 usage event(s) from 2025-02-05 10:00:00 to 2025-02-10 10:00:00; "
                "critical: 1 of them exported or shared the data.",
                evidence=["a1", "a2", "u1"],
                observed_at=dt.datetime(2025, 2, 5, 10),
            ),
            "dsr:del-2": alarm("high", evidence=["a7"]),
            "dsr:del-3": ok(evidence=["del-3"]),
        },
    )


def test_processing_on_the_day_of_completion(control_findings) -> None:
    """Completed at 12:00 on 1 Feb: a read at 15:00 that day is after the erasure (the subject's last day of
    processing is the completion's own), one at 08:00 that day and the erasure's own delete after it are not; a
    subject processed only long before stays ok whatever happened to others."""
    tables = {
        "dsr_requests": [_req("del-5", "s5"), _req("del-6", "s6"), _req("del-7", "s7")],
        "audit_events": [
            _audit("b1", "s5", "2025-02-01 08:00:00"),  # the same day, before completion
            _audit("b2", "s5", "2025-02-03 08:00:00", action="delete"),  # a backup's erasure: not processing
            _audit("b3", "s6", "2025-02-01 15:00:00", action="search"),  # the same day, after completion
            _audit("b4", "s7", "2024-11-01 08:00:00"),
            _audit("b5", "s8", "2025-03-01 08:00:00"),  # no erasure of s8
        ],
        "usage_events": [],
    }  # fmt: skip
    rows = control_findings("dsr_processing_after_erasure", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:del-5": ok(evidence=["del-5"]),
            "dsr:del-6": alarm(
                "high",
                reason="Subject s6 of delete request del-6 (EU, completed 2025-02-01 12:00:00) was processed afterwards: "
                "1 audit data action(s) and 0 usage event(s) from 2025-02-01 15:00:00 to 2025-02-01 15:00:00; "
                "high: used after erasure, not disclosed.",
                evidence=["b3"],
            ),
            "dsr:del-7": ok(evidence=["del-7"]),
        },
    )
