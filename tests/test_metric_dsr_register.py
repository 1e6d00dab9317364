"""dsr_register on a hand-made register, as of Mon 2025-03-10 with due_soon_days 7 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
d = dt.date


def _req(request_id: str, jurisdiction: str, request_type: str, received: str, status: str = "open", **kw) -> dict:
    return dsr_request(request_id, jurisdiction, request_type, received, status, **({"channel": "email"} | kw))


REQUESTS = [
    _req("o1", "EU", "access", "2025-01-31 10:00:00"),  # due Fri 28 Feb: 10 days overdue
    _req("o2", "EU", "delete", "2025-02-14 10:00:00"),  # due Fri 14 Mar: 4 days, due soon
    _req("o4", "AU", "portability", "2025-03-01 10:00:00"),  # no rule for AU portability
    # completed 10 days after receipt, before its 28 Feb due date
    _req("c1", "EU", "access", "2025-01-31 10:00:00", "completed", completed_at="2025-02-10 10:00:00"),
    # received Mon 6 Jan, due Thu 6 Feb, completed 20 Feb: late, 45 days
    _req("c2", "EU", "access", "2025-01-06 10:00:00", "completed", completed_at="2025-02-20 10:00:00"),
    _req("r1", "EU", "access", "2025-02-03 10:00:00", "rejected", completed_at="2025-02-05 10:00:00"),
    # US-CA: received Thu 20 Feb (09:00 in Los Angeles), 45 days -> Sun 6 Apr -> Mon 7 Apr (Code Civ. Proc. 12a);
    # acknowledgement due 10 business
    # days later, Thu 6 Mar (21, 24-28 Feb, 3-6 Mar), and none came: late as of 10 Mar.
    _req("ca1", "US-CA", "access", "2025-02-20 17:00:00"),
    _req("o6", "EU", "access", "2025-03-12 10:00:00"),  # received after as_of: not in the register yet
]


def test_dsr_register(make_db, policy) -> None:
    con = make_db({"dsr_requests": REQUESTS})
    out = run_query(con, "dsr_register", {"as_of": AS_OF}, policy)
    cols = ["request_id", "status", "received_date", "effective_due_date", "days_to_deadline", "ack_due_date",
            "ack_late", "closed_date", "turnaround_days", "state"]  # fmt: skip
    # newest receipt first
    assert out.select(cols).rows() == [
        ("o4", "open", d(2025, 3, 1), None, None, None, None, None, None, "no_deadline"),
        ("ca1", "open", d(2025, 2, 20), d(2025, 4, 7), 28, d(2025, 3, 6), True, None, None, "on_track"),
        ("o2", "open", d(2025, 2, 14), d(2025, 3, 14), 4, None, None, None, None, "due_soon"),
        ("r1", "rejected", d(2025, 2, 3), d(2025, 3, 3), -7, None, None, d(2025, 2, 5), 2, "rejected"),
        ("c1", "completed", d(2025, 1, 31), d(2025, 2, 28), -10, None, None, d(2025, 2, 10), 10, "completed_on_time"),
        ("o1", "open", d(2025, 1, 31), d(2025, 2, 28), -10, None, None, None, None, "overdue"),
        ("c2", "completed", d(2025, 1, 6), d(2025, 2, 6), -32, None, None, d(2025, 2, 20), 45, "completed_late"),
    ]
    assert out["subject_id"][0] == "s-o4"
    assert set(out["channel"]) == {"email"}
    # Every request a rule covers carries the deadline engine's explanation.
    assert out.filter(out["request_id"] != "o4")["explanation"].str.len_chars().min() > 20


def test_dsr_register_due_soon_window(make_db, policy) -> None:
    con = make_db({"dsr_requests": REQUESTS})
    out = run_query(con, "dsr_register", {"as_of": AS_OF, "dsr_due_soon_days": 3}, policy)
    assert out.filter(out["request_id"] == "o2")["state"].to_list() == ["on_track"]  # 4 days > 3
