"""access_actor_hours in the actor's own time zone (New York), as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query


def _event(event_id: str, at: str, action: str = "read", outcome: str = "success", **kw) -> dict:
    fields = {"actor_id": "e1", "action": action, "outcome": outcome, "actor_timezone": "America/New_York"}
    return audit_event(event_id, at=at, **(fields | kw))


def test_access_actor_hours(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                # Mon 3 Mar 14:30 UTC = 09:30 EST (UTC-5): a personal-data read of 10 records
                _event("a1", "2025-03-03 14:30:00", categories=["user.name"], record_count=10),
                _event("a2", "2025-03-03 14:45:00", "login"),  # same hour, not a data event
                # Mon 10 Mar 02:00 UTC = Sun 9 Mar 22:00 EDT (UTC-4 since that morning's DST change)
                _event("a3", "2025-03-10 02:00:00", "export", categories=["user.contact.email"], record_count=3),
                _event("a4", "2025-03-03 15:00:00", outcome="denied"),  # nothing done
                _event("a5", "2025-03-03 15:00:00", actor_id="e2"),  # another actor
            ]
        }
    )
    params = {"as_of": dt.date(2025, 3, 10), "actor_id": "e1", "start_date": None, "end_date": None}
    out = run_query(con, "access_actor_hours", params, policy)
    # iso_weekday, local_hour, events, records, data_events
    assert out.rows() == [(1, 9, 2, 11, 1), (7, 22, 1, 3, 1)]
