"""freshness_by_source on a hand-made database (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event, directory_account, dsr_request

from compliance.queries import run_query


def test_freshness_by_source(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                audit_event("a1", "e1", "2025-03-01 10:00:00"),
                audit_event("a2", "e1", "2025-03-05 12:00:00", "logout"),
            ],
            "dsr_requests": [
                dsr_request("r1", "EU", "access", "2025-02-01 09:00:00", subject_id="s1"),
                # Received earlier, but completed after r1 was received: the export reaches 2025-02-20.
                dsr_request("r0", "EU", "delete", "2025-01-10 09:00:00", "completed", "2025-02-20 16:00:00",
                            subject_id="s2", acknowledged_at="2025-01-11 09:00:00"),
            ],
            "incidents": [
                # Detected in January, regulator notified in March: the register reaches March.
                {"incident_id": "i1", "detected_at": "2025-01-05 08:00:00", "contained_at": "2025-01-06 08:00:00",
                 "regulator_notified_at": "2025-03-03 10:00:00"},
            ],
            "directory_accounts": [
                directory_account("e1", role="sre", start_date="2023-05-02"),
            ],
            # Two audit files over two runs (the second one rejected 3 rows), one dsr file in run 1.
            "load_runs": [
                {"run_id": 1, "started_at": "2025-03-02 00:00:00", "finished_at": "2025-03-02 00:05:00"},
                {"run_id": 2, "started_at": "2025-03-06 00:00:00", "finished_at": "2025-03-06 00:07:00"},
            ],
            "load_manifest": [
                {"file_id": "f1", "source": "audit", "path": "audit/1.jsonl", "run_id": 1, "rows_rejected": 0},
                {"file_id": "f2", "source": "audit", "path": "audit/2.jsonl", "run_id": 2, "rows_rejected": 3},
                {"file_id": "f3", "source": "dsr", "path": "dsr/r.csv", "run_id": 1, "rows_rejected": 0},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "freshness_by_source", {}, policy)
    ts = dt.datetime
    # fmt: off
    assert out.rows() == [
        ("audit", "audit_events", "occurred_at", 2, ts(2025, 3, 1, 10), ts(2025, 3, 5, 12), 2, 3, ts(2025, 3, 6, 0, 7)),
        ("diagnostic", "diagnostic_logs", "occurred_at", 0, None, None, 0, 0, None),
        ("directory", "directory_accounts", "start_date", 1, ts(2023, 5, 2), ts(2023, 5, 2), 0, 0, None),
        ("dsr", "dsr_requests", "received_at or any later step", 2, ts(2025, 1, 10, 9), ts(2025, 2, 20, 16), 1, 0,
         ts(2025, 3, 2, 0, 5)),
        ("incidents", "incidents", "detected_at or any later step", 1, ts(2025, 1, 5, 8), ts(2025, 3, 3, 10), 0, 0,
         None),
        ("inventory", "inventory_records", "snapshot_at", 0, None, None, 0, 0, None),
        ("subjects", "subjects", "created_at", 0, None, None, 0, 0, None),
        ("tenants", "tenants", "contract_started_at", 0, None, None, 0, 0, None),
        ("usage", "usage_events", "occurred_at", 0, None, None, 0, 0, None),
    ]
    # fmt: on
