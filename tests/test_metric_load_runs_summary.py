"""load_runs_summary: each run with its manifest totals (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

ts = dt.datetime


def test_load_runs_summary(make_db, policy) -> None:
    con = make_db(
        {
            "load_runs": [
                {"run_id": 1, "started_at": "2025-03-02 00:00:00", "finished_at": "2025-03-02 00:05:00",
                 "policy_version": "v0.2", "policy_digest": "0123456789abcdef0123", "exports": ["/x/a", "/x/b"]},
                {"run_id": 2, "started_at": "2025-03-06 00:00:00", "finished_at": "2025-03-06 00:01:00",
                 "policy_version": "v0.2", "policy_digest": "ffff", "exports": ["/x/c"]},  # loaded nothing new
            ],
            "load_manifest": [
                {"file_id": "f1", "source": "audit", "path": "a", "run_id": 1, "rows_read": 10, "rows_loaded": 6,
                 "rows_duplicate": 1, "rows_rejected": 3},
                {"file_id": "f2", "source": "dsr", "path": "b", "run_id": 1, "rows_read": 2, "rows_loaded": 2,
                 "rows_duplicate": 0, "rows_rejected": 0},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "load_runs_summary", {}, policy)
    assert out.rows() == [
        (1, ts(2025, 3, 2), ts(2025, 3, 2, 0, 5), "v0.2", "0123456789abcdef", "/x/a, /x/b", 2, 12, 8, 1, 3),
        (2, ts(2025, 3, 6), ts(2025, 3, 6, 0, 1), "v0.2", "ffff", "/x/c", 0, 0, 0, 0, 0),
    ]
