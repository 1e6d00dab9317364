"""access_actor_daily on hand-made audit events, as of 2025-03-10 with a 3-day window (answers worked out by hand).

Shown days: 8, 9, 10 March; each day's baseline is the actor's active days in the 3 days before it.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
PARAMS = {"as_of": AS_OF, "actor_id": None, "volume_spike_baseline_days": 3}


def _event(event_id: str, actor: str, day: int, records: int, actor_type: str = "employee") -> dict:
    return audit_event(
        event_id, actor, f"2025-03-{day:02d} 10:00:00", "read", actor_type=actor_type, record_count=records
    )


EVENTS = [
    _event("x0", "e1", 4, 999),  # outside both windows
    _event("x1", "e1", 5, 10),
    _event("x2", "e1", 6, 20),
    _event("x3", "e1", 8, 40),  # baseline 5-7 Mar: 10, 20 -> median 15 over 2 days
    _event("x4", "e1", 10, 100),  # baseline 7-9 Mar: 40 -> median 40 over 1 day
    _event("x5", "e2", 9, 5, "contractor"),  # no baseline
    _event("x6", "svc", 9, 1000, "service"),  # a service principal: only when asked for by id
]


def test_access_actor_daily(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    d = dt.date
    out = run_query(con, "access_actor_daily", PARAMS, policy)
    # actor_id, activity_date, events, records, baseline_median_records, baseline_days
    assert out.rows() == [
        ("e1", d(2025, 3, 8), 1, 40, 15.0, 2),
        ("e1", d(2025, 3, 10), 1, 100, 40.0, 1),
        ("e2", d(2025, 3, 9), 1, 5, None, 0),
    ]
    one = run_query(con, "access_actor_daily", PARAMS | {"actor_id": "svc"}, policy)
    assert one.rows() == [("svc", d(2025, 3, 9), 1, 1000, None, 0)]


def test_top_50_people(make_db, policy) -> None:
    # 51 people active on 9 March with 100..150 records: the smallest (p00) falls outside the top 50.
    con = make_db({"audit_events": [_event(f"y{i}", f"p{i:02d}", 9, 100 + i) for i in range(51)]})
    out = run_query(con, "access_actor_daily", PARAMS, policy)
    actors = set(out["actor_id"])
    assert len(actors) == 50
    assert "p00" not in actors
