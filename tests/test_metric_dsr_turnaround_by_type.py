"""dsr_turnaround_by_type on a hand-made register, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


REGISTER = [
    # EU access (one month, Dublin time = UTC in winter):
    dsr_request("r1", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-01-16 10:00:00"),  # 10 days, due 6 Feb: on time
    dsr_request("r2", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-02-20 10:00:00"),  # 45 days: late
    dsr_request("r3", "EU", "access", "2025-02-03 10:00:00", "completed", "2025-02-07 10:00:00"),  # 4 days, due 3 Mar: on time
    dsr_request("r4", "EU", "access", "2025-02-14 10:00:00", "open"),
    dsr_request("r5", "EU", "access", "2025-01-10 10:00:00", "rejected", "2025-01-12 10:00:00"),  # closed in 2 days, on time
    # Completed without a timestamp: no turnaround; due Mon 3 Feb (2 Feb is a Sunday), late once as_of passes it.
    dsr_request("r9", "EU", "access", "2025-01-02 10:00:00", "completed"),
    # US-CA delete: received 2 Jan (LA), completed 10 Feb = 39 days, due 16 Feb: on time.
    dsr_request("r6", "US-CA", "delete", "2025-01-02 18:00:00", "completed", "2025-02-10 18:00:00"),
    dsr_request("r7", "US-CA", "delete", "2025-03-20 18:00:00", "open"),  # received after as_of
    # AU portability has no deadline rule: 12 days (Sydney dates 20 Jan -> 1 Feb), timeliness unknown.
    dsr_request("r8", "AU", "portability", "2025-01-20 10:00:00", "completed", "2025-02-01 10:00:00"),
]  # fmt: skip


def test_dsr_turnaround_by_type(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "dsr_turnaround_by_type", {"as_of": AS_OF}, policy)
    assert out.rows() == [
        # request_type, jurisdiction, requests, open, completed, closed, median, p90, on_time_share
        # EU access: turnarounds 2, 4, 10, 45 (discrete quantiles); on time r1, r3, r5 of the 5 closed.
        ("access", "EU", 6, 1, 4, 5, 4, 45, 0.6),
        ("delete", "US-CA", 1, 0, 1, 1, 39, 39, 1.0),
        ("portability", "AU", 1, 0, 1, 1, 12, 12, None),
    ]
