"""access_actor_timeline on hand-made audit events, 2025-03-01 to 2025-03-10 with a 90-day baseline (answers worked
out by hand: the baseline of a day is the median records of the actor's earlier personal-data days in 90 days)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

D = dt.date


def _ev(event_id: str, at: str, action: str, records: int | None = None, **kw) -> dict:
    fields = {"actor_id": "emp-a", "action": action, "record_count": records, "geo_country": "AU"}
    return audit_event(event_id, at=at, **(fields | kw))


EVENTS = [
    _ev("b1", "2025-02-20 10:00:00", "read", 10),  # before the shown window: baseline only
    _ev("b2", "2025-02-21 10:00:00", "read", 30),
    _ev("d1", "2025-03-01 10:00:00", "read", 20, subject_id="s1"),
    _ev("d1f", "2025-03-01 09:00:00", "login_failed", outcome="failure"),
    _ev("d1l", "2025-03-01 09:05:00", "login", geo_country="DE"),
    _ev("d2", "2025-03-02 10:00:00", "export", 5, subject_id="s2"),
    _ev("d3", "2025-03-03 10:00:00", "login"),  # a day without personal data
    _ev("late", "2025-03-11 10:00:00", "read", 99),  # after the window
    _ev("other", "2025-03-01 10:00:00", "read", 7, actor_id="emp-b"),
]


def test_access_actor_timeline(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    params = {"actor_id": "emp-a", "start_date": D(2025, 3, 1), "end_date": D(2025, 3, 10),
              "volume_spike_baseline_days": 90}  # fmt: skip
    out = run_query(con, "access_actor_timeline", params, policy)
    assert out.rows() == [
        # day, events, data events, records, subjects, exports, failed logins, countries, baseline median, days
        (D(2025, 3, 1), 3, 1, 20, 1, 0, 1, "AU, DE", 20.0, 2),  # baseline {10, 30}
        (D(2025, 3, 2), 1, 1, 5, 1, 1, 0, "AU", 20.0, 3),  # {10, 30, 20}
        (D(2025, 3, 3), 1, 0, 0, 0, 0, 0, "AU", 15.0, 4),  # {10, 30, 20, 5}
    ]
