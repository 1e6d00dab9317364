"""dsr_turnaround_distribution on a hand-made register, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query


def _req(request_id: str, received: str, status: str, completed: str | None, request_type: str = "access") -> dict:
    return dsr_request(request_id, "EU", request_type, received, status, completed, subject_id="s")


def test_dsr_turnaround_distribution(make_db, policy) -> None:
    con = make_db(
        {
            "dsr_requests": [
                _req("c1", "2025-01-31 10:00:00", "completed", "2025-02-10 10:00:00"),  # 10 days, on time
                _req("c2", "2025-01-06 10:00:00", "completed", "2025-02-20 10:00:00"),  # 45 days, due 6 Feb: late
                _req("c3", "2025-01-07 10:00:00", "completed", "2025-01-19 10:00:00", "delete"),  # 12 days
                _req("r1", "2025-02-03 10:00:00", "rejected", "2025-02-05 10:00:00"),  # 2 days
                # 1 Sep 2024 to 9 Jan 2025: 29 + 31 + 30 + 31 + 9 = 130 days, far past its 1 Oct due date
                _req("c4", "2024-09-01 10:00:00", "completed", "2025-01-09 10:00:00"),
                _req("o1", "2025-02-14 10:00:00", "open", None),  # open: no turnaround yet
                _req("c5", "2025-03-11 10:00:00", "completed", "2025-03-12 10:00:00"),  # received after as_of
            ]
        }
    )
    out = run_query(con, "dsr_turnaround_distribution", {"as_of": dt.date(2025, 3, 10)}, policy)
    # jurisdiction, request_type, bin_start, bin_label, requests, closed_late
    assert out.rows() == [
        ("EU", "access", 0, "0-4", 1, 0),
        ("EU", "access", 10, "10-14", 1, 0),
        ("EU", "access", 45, "45-49", 1, 1),
        ("EU", "access", 120, "120+", 1, 1),
        ("EU", "delete", 10, "10-14", 1, 0),
    ]
