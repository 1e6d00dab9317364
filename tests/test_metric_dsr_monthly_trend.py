"""dsr_monthly_trend on a hand-made register, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def test_dsr_monthly_trend(make_db, policy) -> None:
    con = make_db(
        {
            "dsr_requests": [
                dsr_request("r1", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-01-16 10:00:00"),  # on time
                dsr_request("r2", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-02-20 10:00:00"),  # late (due 6 Feb)
                dsr_request("r5", "EU", "access", "2025-01-10 10:00:00", "rejected", "2025-01-12 10:00:00"),
                dsr_request("r9", "EU", "access", "2025-01-02 10:00:00", "completed"),  # no timestamp, due 3 Feb < as_of: late
                dsr_request("r3", "EU", "access", "2025-02-03 10:00:00", "completed", "2025-02-07 10:00:00"),  # on time
                dsr_request("r4", "EU", "access", "2025-02-14 10:00:00", "open"),
                dsr_request("r6", "US-CA", "delete", "2025-01-02 18:00:00", "completed", "2025-02-10 18:00:00"),  # on time
                dsr_request("r7", "US-CA", "delete", "2025-03-20 18:00:00", "open"),  # after as_of
                dsr_request("r8", "AU", "portability", "2025-01-20 10:00:00", "completed", "2025-02-01 10:00:00"),  # no rule
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
