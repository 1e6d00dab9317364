"""access_by_hour_weekday on hand-made audit events, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def _event(event_id: str, actor: str, at: str, action: str = "read", records: int | None = None, **kw) -> dict:
    return audit_event(event_id, actor, at, action, **({"resource_type": "contact", "record_count": records} | kw))


EVENTS = [
    _event("a1", "e1", "2025-03-03 09:15:00", records=10),  # Mon 09h
    _event("a2", "e2", "2025-03-03 09:45:00", "export", records=5),  # Mon 09h
    _event("a3", "e1", "2025-03-09 23:10:00"),  # Sun 23h, record_count absent = 1
    _event("a7", "e3", "2023-12-31 23:00:00", records=2),  # Sun 23h, before the 2024-01-01 Monday anchor
    _event("a4", "e1", "2025-03-04 09:00:00", "login"),  # not a data action
    _event("a5", "e1", "2025-03-04 10:00:00", outcome="denied"),  # nothing accessed
    _event("a6", "e1", "2025-03-11 10:00:00"),  # after as_of
]


def test_access_by_hour_weekday(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    params = {"as_of": AS_OF, "start_date": None, "end_date": None}
    out = run_query(con, "access_by_hour_weekday", params, policy)
    # iso_weekday, hour_utc, events, records, actors
    assert out.rows() == [(1, 9, 2, 15, 2), (7, 23, 2, 3, 2)]

    since = run_query(con, "access_by_hour_weekday", params | {"start_date": dt.date(2024, 1, 1)}, policy)
    assert since.rows() == [(1, 9, 2, 15, 2), (7, 23, 1, 1, 1)]  # a7 (2023) left out

    until = run_query(con, "access_by_hour_weekday", params | {"end_date": dt.date(2025, 3, 8)}, policy)
    assert until.rows() == [(1, 9, 2, 15, 2), (7, 23, 1, 2, 1)]  # a3 (9 Mar) left out
