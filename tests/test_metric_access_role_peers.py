"""access_role_peers on hand-made audit events: the 90 days up to 2025-03-10 are 2024-12-11 .. 2025-03-10 (answers
worked out by hand; p99 is DuckDB's interpolated quantile_cont)."""

from __future__ import annotations

import datetime as dt

import pytest
from rows import audit_event

from compliance.queries import run_query

END = dt.date(2025, 3, 10)


def _ev(event_id: str, actor: str, at: str, records: int, subject: str, role: str = "support_agent", **kw) -> dict:
    fields = {"actor_role": role, "categories": ["user.name"], "record_count": records, "subject_id": subject}
    return audit_event(event_id, actor, at, "read", **(fields | kw))


EVENTS = [
    _ev("a1", "emp-a", "2025-03-01 10:00:00", 10, "s1"),
    _ev("a2", "emp-a", "2025-03-02 10:00:00", 60, "s1"),
    _ev("a3", "emp-a", "2025-03-02 11:00:00", 40, "s2"),  # emp-a: days of 10 and 100
    _ev("a0", "emp-a", "2024-12-10 10:00:00", 1000, "s1"),  # day 91 before the end: outside the window
    _ev("b1", "emp-b", "2025-03-01 10:00:00", 20, "s3"),
    _ev("b2", "emp-b", "2025-03-03 10:00:00", 30, "s3"),
    _ev("b3", "emp-b", "2025-03-04 10:00:00", 40, "s4"),  # emp-b: 20, 30, 40
    _ev("c0", "emp-c", "2024-12-01 10:00:00", 500, "s5"),  # outside the window
    _ev("c1", "emp-c", "2025-03-05 10:00:00", 5, "s5"),
    _ev("d1", "emp-d", "2025-03-05 10:00:00", 99, "s6", role="sales_rep"),  # another role
    _ev("v1", "svc-x", "2025-03-05 10:00:00", 999, "s6", actor_type="service"),  # not a person
    _ev("f1", "emp-b", "2025-03-05 10:00:00", 77, "s6", outcome="denied"),  # not done
]


def test_access_role_peers(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    out = run_query(
        con, "access_role_peers", {"actor_id": "emp-a", "end_date": END, "volume_spike_baseline_days": 90}, policy
    )
    rows = out.rows()
    assert [r[:5] for r in rows] == [
        # role, actor, is the actor, active days, records (by records, descending)
        ("support_agent", "emp-a", True, 2, 110),
        ("support_agent", "emp-b", False, 3, 90),
        ("support_agent", "emp-c", False, 1, 5),
    ]
    # median, p99 (10 + 0.99 * 90 = 99.1; 30 + 0.98 * 10 = 39.8), max, subjects
    assert [r[5:] for r in rows] == [
        (55.0, pytest.approx(99.1), 100, 2),
        (30.0, pytest.approx(39.8), 40, 2),
        (5.0, 5.0, 5, 1),
    ]
