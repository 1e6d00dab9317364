"""dsr_requests_as_of on a hand-made register, as of 2025-03-10 (answers worked out by hand from dsr_rules.yaml):
the register row valid on the as-of date and the request's state. This model is the one definition of a request's
state on a date that controls, pages and notebooks read; tests/test_legal_cases.py checks it on the worked cases."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)

REGISTER = [
    # EU access received Mon 6 Jan: one month -> Thu 6 Feb; completed 16 Jan -> completed_on_time.
    {"request_id": "on_time", "subject_id": "s1", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-01-06 10:00:00", "completed_at": "2025-01-16 10:00:00", "status": "completed"},
    # EU access received Mon 3 Feb -> due Mon 3 Mar; still open on 10 Mar -> overdue by 7 days.
    {"request_id": "overdue", "subject_id": "s2", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-02-03 10:00:00", "status": "open"},
    # EU access received Fri 14 Feb -> due Fri 14 Mar: 4 days to go, inside the due-soon window.
    {"request_id": "due_soon", "subject_id": "s3", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-02-14 10:00:00", "status": "open"},
    # Completed on 20 Mar, after the as-of date: still open (and overdue) on 10 Mar.
    {"request_id": "later", "subject_id": "s4", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-02-03 10:00:00", "completed_at": "2025-03-20 10:00:00", "status": "completed"},
    # AU portability: no rule covers it.
    {"request_id": "no_rule", "subject_id": "s5", "jurisdiction": "AU", "request_type": "portability",
     "channel": "webform", "received_at": "2025-01-20 10:00:00", "status": "open"},
    # Received after the as-of date: not in the register yet.
    {"request_id": "future", "subject_id": "s6", "jurisdiction": "EU", "request_type": "access", "channel": "email",
     "received_at": "2025-03-20 18:00:00", "status": "open"},
]  # fmt: skip


def test_dsr_requests_as_of(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "dsr_requests_as_of", {"as_of": AS_OF, "dsr_due_soon_days": 7}, policy).sort("request_id")
    assert out.select(
        "request_id", "status", "effective_due_date", "days_to_deadline", "completed_at", "state"
    ).rows() == [
        ("due_soon", "open", dt.date(2025, 3, 14), 4, None, "due_soon"),
        ("later", "open", dt.date(2025, 3, 3), -7, None, "overdue"),
        ("no_rule", "open", None, None, None, "no_deadline"),
        ("on_time", "completed", dt.date(2025, 2, 6), -32, dt.datetime(2025, 1, 16, 10), "completed_on_time"),
        ("overdue", "open", dt.date(2025, 3, 3), -7, None, "overdue"),
    ]


def test_extension_terms(make_db, policy) -> None:
    # GDPR Art. 12(3) allows two further months from receipt, rolled to the next Irish working day; none of these
    # requests notified an extension, so the extended date is only what a notice would have given.
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "dsr_requests_as_of", {"as_of": AS_OF, "dsr_due_soon_days": 7}, policy).sort("request_id")
    assert out.select("request_id", "extension_allowed", "extension_status", "extended_due_date").rows() == [
        ("due_soon", True, "none", dt.date(2025, 5, 14)),  # received Fri 14 Feb + 3 months: Wed 14 May
        ("later", True, "none", dt.date(2025, 5, 6)),  # 3 Feb + 3 months: Sat 3 May; Mon 5 May is a bank holiday
        ("no_rule", False, "none", None),  # no rule: nothing to extend
        ("on_time", True, "none", dt.date(2025, 4, 7)),  # 6 Jan + 3 months: Sun 6 Apr -> Mon 7 Apr
        ("overdue", True, "none", dt.date(2025, 5, 6)),  # as "later"
    ]
