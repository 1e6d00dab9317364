"""access_actor_drilldown for one actor (worked out by hand): its 'day' view (every event per UTC day and action
group) and its 'hour' view (successful events per weekday and hour on the actor's own clock), from one read."""

from __future__ import annotations

import datetime as dt

import polars as pl
from rows import audit_event

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
d = dt.date
DAY_COLUMNS = ("activity_date", "action_group", "events", "records", "failed")
HOUR_COLUMNS = ("iso_weekday", "local_hour", "events", "records", "data_events")


def _views(con, policy, **params: object) -> tuple[list[tuple], list[tuple]]:
    params = {"as_of": AS_OF, "actor_id": "e1", "start_date": None, "end_date": None} | params
    out = run_query(con, "access_actor_drilldown", params, policy)
    assert set(out["view"].unique().to_list()) <= {"day", "hour"}
    day = out.filter(pl.col("view") == "day")
    hour = out.filter(pl.col("view") == "hour")
    # A row's columns of the other view are NULL.
    assert day.select("iso_weekday", "local_hour", "data_events").null_count().row(0) == (day.height,) * 3
    assert hour.select("activity_date", "action_group", "failed").null_count().row(0) == (hour.height,) * 3
    return day.select(DAY_COLUMNS).rows(), hour.select(HOUR_COLUMNS).rows()


def _event(event_id: str, at: str, action: str, outcome: str = "success", actor: str = "e1", **kw) -> dict:
    return audit_event(event_id, actor, at, action, outcome=outcome, **kw)


ACTIVITY = [
    _event("a1", "2025-03-03 09:00:00", "read", record_count=10),
    _event("a2", "2025-03-03 09:30:00", "export", record_count=5),
    _event("a3", "2025-03-03 08:55:00", "login_failed", "failure"),
    _event("a4", "2025-03-04 08:00:00", "login"),
    _event("a5", "2025-03-04 08:10:00", "search", "denied"),  # counted, and as failed
    _event("a6", "2025-03-05 12:00:00", "role_grant", target_actor_id="e2", role="sre"),
    _event("a7", "2025-03-05 12:05:00", "update", record_count=2),
    _event("a8", "2025-03-11 09:00:00", "read"),  # after as_of
    _event("b1", "2025-03-03 09:00:00", "read", actor="e2"),  # another actor
]


def test_day_view(make_db, policy) -> None:
    con = make_db({"audit_events": ACTIVITY})
    day, _ = _views(con, policy)
    # activity_date, action_group, events, records (absent record_count = 1), failed
    assert day == [
        (d(2025, 3, 3), "export/share", 1, 5, 0),
        (d(2025, 3, 3), "failed sign-in", 1, 1, 1),
        (d(2025, 3, 3), "read/search", 1, 10, 0),
        (d(2025, 3, 4), "read/search", 1, 1, 1),
        (d(2025, 3, 4), "sign-in", 1, 1, 0),
        (d(2025, 3, 5), "admin", 1, 1, 0),
        (d(2025, 3, 5), "change", 1, 2, 0),
    ]
    window, _ = _views(con, policy, start_date=d(2025, 3, 4), end_date=d(2025, 3, 4))
    assert window == [(d(2025, 3, 4), "read/search", 1, 1, 1), (d(2025, 3, 4), "sign-in", 1, 1, 0)]
    assert _views(con, policy, actor_id="nobody") == ([], [])


def _zoned(event_id: str, zone: str | None, at: str, action: str, records: int | None, personal: bool, **kw) -> dict:
    cats = ["user.contact.email"] if personal else []
    return _event(event_id, at, action, actor_timezone=zone, record_count=records, categories=cats, **kw)


def test_hour_view_in_new_york(make_db, policy) -> None:
    ny = "America/New_York"
    con = make_db(
        {
            "audit_events": [
                # Mon 3 Mar 14:30 UTC = 09:30 EST (UTC-5): a personal-data read of 10 records
                _zoned("a1", ny, "2025-03-03 14:30:00", "read", 10, True),
                _zoned("a2", ny, "2025-03-03 14:45:00", "login", None, False),  # same hour, not a data event
                # Mon 10 Mar 02:00 UTC = Sun 9 Mar 22:00 EDT (UTC-4 since that morning's DST change)
                _zoned("a3", ny, "2025-03-10 02:00:00", "export", 3, True),
                _zoned("a4", ny, "2025-03-03 15:00:00", "read", None, True, outcome="denied"),  # nothing done
                _zoned("a5", ny, "2025-03-03 15:00:00", "read", None, True, actor="e2"),  # another actor
            ]
        }
    )
    day, hour = _views(con, policy)
    # iso_weekday, local_hour, events, records, data_events
    assert hour == [(1, 9, 2, 11, 1), (7, 22, 1, 3, 1)]
    # The day view keeps the denied read (UTC days).
    assert day == [
        (d(2025, 3, 3), "read/search", 2, 11, 1),
        (d(2025, 3, 3), "sign-in", 1, 1, 0),
        (d(2025, 3, 10), "export/share", 1, 3, 0),
    ]


def test_hour_view_in_zones_off_the_full_hour_and_across_dst_changes(make_db, policy) -> None:
    """Adelaide +10:30 then +9:30, Kathmandu +5:45, St John's -3:30, New York's DST change: each local time worked
    out by hand from the zone's offset that day (IANA tz database)."""
    adelaide, kathmandu, st_johns, new_york = (
        "Australia/Adelaide",
        "Asia/Kathmandu",
        "America/St_Johns",
        "America/New_York",
    )
    events = [
        _zoned("h1", adelaide, "2025-03-03 00:20:00", "read", 1, True),  # ACDT +10:30: Mon 10:50
        _zoned("h2", adelaide, "2025-03-03 00:40:00", "login", None, False),  # same UTC hour: Mon 11:10
        _zoned("h3", kathmandu, "2025-03-04 10:10:00", "search", 2, True),  # +5:45: Tue 15:55
        _zoned("h4", kathmandu, "2025-03-04 10:20:00", "export", 4, False),  # Tue 16:05, no personal data
        _zoned("h5", st_johns, "2025-03-05 12:15:00", "update", 8, True),  # NST -3:30: Wed 08:45, not a read
        _zoned("h6", st_johns, "2025-03-05 12:45:00", "read", 16, True),  # Wed 09:15
        _zoned("h7", new_york, "2025-03-06 14:30:00", "read", 32, True),  # EST -5: Thu 09:30
        _zoned("h8", new_york, "2025-03-09 06:30:00", "read", 64, False),  # EST until 07:00 UTC: Sun 01:30
        _zoned("h9", new_york, "2025-03-09 07:30:00", "export", 128, True),  # EDT -4 from 07:00 UTC: Sun 03:30
        _zoned("h10", adelaide, "2025-04-05 16:15:00", "read", 256, True),  # ACDT until 16:30 UTC: Sun 6 Apr 02:45
        _zoned("h11", adelaide, "2025-04-05 16:45:00", "read", 512, True),  # ACST +9:30 after: Sun 02:15
        _zoned("h12", new_york, "2025-03-06 14:50:00", "read", 1024, True, outcome="failure"),  # nothing done
        _zoned("h13", None, "2025-03-07 23:59:00", "read", None, False),  # no zone: UTC, Fri 23:59
    ]
    con = make_db({"audit_events": events})
    _, hour = _views(con, policy, as_of=d(2025, 4, 10))
    assert hour == [
        (1, 10, 1, 1, 1),
        (1, 11, 1, 1, 0),
        (2, 15, 1, 2, 1),
        (2, 16, 1, 4, 0),
        (3, 8, 1, 8, 0),
        (3, 9, 1, 16, 1),
        (4, 9, 1, 32, 1),
        (5, 23, 1, 1, 0),
        (7, 1, 1, 64, 0),
        (7, 2, 2, 768, 2),
        (7, 3, 1, 128, 1),
    ]
    # The window is on UTC days: 9 March alone holds h8 and h9.
    _, window = _views(con, policy, as_of=d(2025, 4, 10), start_date=d(2025, 3, 9), end_date=d(2025, 3, 9))
    assert window == [(7, 1, 1, 64, 0), (7, 3, 1, 128, 1)]
