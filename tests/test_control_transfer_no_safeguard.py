"transfer.no_safeguard on hand-made audit events, as of 2025-03-10 (answers worked out by hand from transfers.yaml)."

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import assert_fields, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _event(event_id: str, subject: str | None, jurisdiction: str | None, region: str | None, at: str, **kw) -> dict:
    fields = {"actor_type": "service", "actor_role": None, "subject_id": subject,
              "subject_jurisdiction": jurisdiction, "processing_region": region} | kw  # fmt: skip
    return audit_event(event_id, "svc", at, "read", **fields)


def test_transfer_no_safeguard(control_findings) -> None:
    tables = {
        "audit_events": [
            # EU may be processed in eu-fra (none_needed) and us-east (dpf) only.
            _event("t1", "s1", "EU", "eu-fra", "2025-03-01 10:00:00"),
            _event("t2", "s1", "EU", "au-syd", "2025-03-02 10:00:00"),
            _event("t3", "s1", "EU", "ap-sin", "2025-03-03 10:00:00"),
            _event("t4", "s1", "EU", "au-syd", "2025-03-04 10:00:00"),
            _event("t5", "s2", "EU", "us-east", "2025-03-02 10:00:00"),
            _event("t6", "s3", "AU", "au-syd", "2025-03-02 10:00:00"),
            # UK has no au-syd rule, but the attempt was denied: nothing processed.
            _event("t7", "s4", "UK", "au-syd", "2025-03-02 10:00:00", outcome="denied"),
            # Unknown jurisdiction: info.
            _event("t8", "s5", None, "us-east", "2025-03-05 10:00:00"),
            # No subject, no region, or after as_of: not examined.
            _event("t9", None, None, "ap-sin", "2025-03-05 10:00:00"),
            _event("t10", "s6", "AU", None, "2025-03-05 10:00:00"),
            _event("t11", "s1", "EU", "ap-sin", "2025-03-11 10:00:00"),
        ]
    }
    rows = control_findings("transfer_no_safeguard", tables, as_of=AS_OF)
    assert verdict_list(rows, "status", "severity", "evidence") == [
        ("source:audit", "info", "info", ["t8"]),
        ("subject:s1", "alarm", "high", ["t4", "t3", "t2"]),
        ("transfer:AU/au-syd", "ok", "info", ["t6"]),
        ("transfer:EU/eu-fra", "ok", "info", ["t1"]),
        ("transfer:EU/us-east", "ok", "info", ["t5"]),
    ]
    assert_fields(
        rows,
        {
            "subject:s1": {
                "reason": (
                    "EU subject s1 had data processed in ap-sin (1 events), au-syd (2 events) from 2025-03-02 to "
                    "2025-03-04, with no lawful transfer mechanism for EU there (allowed: eu-fra (none_needed), "
                    "us-east (dpf))."
                ),
                "observed_at": dt.datetime(2025, 3, 4, 10, 0),
            },
            "transfer:EU/us-east": {
                "reason": (
                    "1 events touching 1 EU subjects were processed in us-east under dpf, from 2025-03-02 to "
                    "2025-03-02."
                )
            },
        },
    )
