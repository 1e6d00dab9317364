"""dsr_monthly_trend on a hand-made register, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def _req(
    request_id: str, jurisdiction: str, request_type: str, received: str, status: str, completed: str | None = None
) -> dict:
    return {"request_id": request_id, "subject_id": "s-" + request_id, "jurisdiction": jurisdiction,
            "request_type": request_type, "received_at": received, "completed_at": completed, "status": status}  # fmt: skip


def test_dsr_monthly_trend(make_db, policy) -> None:
    con = make_db(
        {
            "dsr_requests": [
                _req("r1", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-01-16 10:00:00"),  # on time
                _req("r2", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-02-20 10:00:00"),  # late (due 6 Feb)
                _req("r5", "EU", "access", "2025-01-10 10:00:00", "rejected", "2025-01-12 10:00:00"),
                _req("r9", "EU", "access", "2025-01-02 10:00:00", "completed"),  # no timestamp, due 3 Feb < as_of: late
                _req("r3", "EU", "access", "2025-02-03 10:00:00", "completed", "2025-02-07 10:00:00"),  # on time
                _req("r4", "EU", "access", "2025-02-14 10:00:00", "open"),
                _req("r6", "US-CA", "delete", "2025-01-02 18:00:00", "completed", "2025-02-10 18:00:00"),  # on time
                _req("r7", "US-CA", "delete", "2025-03-20 18:00:00", "open"),  # after as_of
                _req("r8", "AU", "portability", "2025-01-20 10:00:00", "completed", "2025-02-01 10:00:00"),  # no rule
            ]
        }
    )  # fmt: skip
    out = run_query(con, "dsr_monthly_trend", {"as_of": AS_OF}, policy)
    jan, feb = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
    assert out.rows() == [
        # month, jurisdiction, received, on time, late, untracked, rejected/withdrawn, open
        (jan, "AU", 1, 0, 0, 1, 0, 0),
        (jan, "EU", 4, 1, 2, 0, 1, 0),
        (jan, "US-CA", 1, 1, 0, 0, 0, 0),
        (feb, "EU", 2, 1, 0, 0, 0, 1),
    ]
