"""load_files: the manifest joined to its runs (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

ts = dt.datetime
LOADS = {
    "load_runs": [
        {"run_id": 1, "started_at": "2025-03-02 00:00:00", "finished_at": "2025-03-02 00:05:00"},
        {"run_id": 2, "started_at": "2025-03-06 00:00:00", "finished_at": None},  # unfinished: its start counts
    ],
    "load_manifest": [
        {"file_id": "f2", "source": "audit", "path": "audit/2.jsonl", "size_bytes": 200, "run_id": 2, "rows_read": 10,
         "rows_loaded": 6, "rows_duplicate": 1, "rows_rejected": 3, "newest_event_at": "2025-03-05 12:00:00"},
        {"file_id": "f1", "source": "audit", "path": "audit/1.jsonl", "size_bytes": 100, "run_id": 1, "rows_read": 5,
         "rows_loaded": 5, "rows_duplicate": 0, "rows_rejected": 0, "newest_event_at": "2025-03-01 10:00:00"},
        {"file_id": "f3", "source": "dsr", "path": "dsr/r.csv", "size_bytes": 50, "run_id": 1, "rows_read": 2,
         "rows_loaded": 2, "rows_duplicate": 0, "rows_rejected": 0},
    ],
}  # fmt: skip


def test_load_files(make_db, policy) -> None:
    out = run_query(make_db(LOADS), "load_files", {}, policy)
    assert out.rows() == [
        ("audit", "audit/1.jsonl", "f1", 100, 1, ts(2025, 3, 2, 0, 5), 5, 5, 0, 0, ts(2025, 3, 1, 10)),
        ("audit", "audit/2.jsonl", "f2", 200, 2, ts(2025, 3, 6), 10, 6, 1, 3, ts(2025, 3, 5, 12)),
        ("dsr", "dsr/r.csv", "f3", 50, 1, ts(2025, 3, 2, 0, 5), 2, 2, 0, 0, None),
    ]
