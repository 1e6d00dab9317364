"""dsr_open_by_deadline on a hand-made register, as of Mon 2025-03-10 with due_soon_days 7 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request as _req  # a short name keeps the aligned table below

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def test_dsr_open_by_deadline(make_db, policy) -> None:
    con = make_db(
        {
            "dsr_requests": [
                _req("o1", "EU", "access", "2025-01-31 10:00:00"),  # due Fri 28 Feb: 10 days overdue
                _req("o2", "EU", "delete", "2025-02-14 10:00:00"),  # due Fri 14 Mar: 4 days
                # 17 Mar is St Patrick's Day (Irish calendar): due Tue 18 Mar, 8 days: on track.
                _req("o2b", "EU", "delete", "2025-02-17 10:00:00"),
                # US-VA counts plain days: 31 Jan (New York) + 45 = 17 Mar, 7 days: still due soon.
                _req("o2c", "US-VA", "access", "2025-01-31 15:00:00"),
                _req("o3", "US-CA", "access", "2025-03-01 17:00:00"),  # 1 Mar (LA) + 45 = 15 Apr: 36 days
                _req("o4", "AU", "portability", "2025-03-01 10:00:00"),  # no rule for AU portability
                _req("o5", "EU", "access", "2025-01-31 10:00:00", "completed", completed_at="2025-02-10 10:00:00"),
                _req("o6", "EU", "access", "2025-03-12 10:00:00"),  # received after as_of
            ]
        }
    )
    out = run_query(con, "dsr_open_by_deadline", {"as_of": AS_OF}, policy)
    d = dt.date
    assert out.rows() == [
        ("o1", "EU", "access", d(2025, 1, 31), d(2025, 2, 28), -10, "overdue", "none"),
        ("o2", "EU", "delete", d(2025, 2, 14), d(2025, 3, 14), 4, "due_soon", "none"),
        ("o2c", "US-VA", "access", d(2025, 1, 31), d(2025, 3, 17), 7, "due_soon", "none"),
        ("o2b", "EU", "delete", d(2025, 2, 17), d(2025, 3, 18), 8, "on_track", "none"),
        ("o3", "US-CA", "access", d(2025, 3, 1), d(2025, 4, 15), 36, "on_track", "none"),
        ("o4", "AU", "portability", d(2025, 3, 1), None, None, "no_deadline", "none"),
    ]
