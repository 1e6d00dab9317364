"""audit_actor_bulk_days and audit_actor_bulk_groups on hand-made audit events (answers worked out by hand): each
actor's reads, searches and exports of personal data (records without the backups, which are counted apart) per UTC
day, and over every day up to the as-of date with the busiest day's records, from the all-time totals kept at ingest
when the as-of date is on or after their day, from the days alone before it; and the totals kept right as days are
added after them, or recomputed among them."""

from __future__ import annotations

import datetime as dt

from rows import audit_event
from totals_support import through_dates

from compliance.ingest.derive import derive_event_rollups
from compliance.queries import run_query


def _ev(n: int, actor: str, at: str, action: str = "read", records: int | None = 1, **kw: object) -> dict:
    """An action on `records` contact emails."""
    personal = {"categories": ["user.contact.email"], "resource_type": "contact"}
    return audit_event(f"e{n}", actor, at, action, **(personal | {"record_count": records} | kw))


BACKUP = {"actor_type": "service", "actor_role": "svc_backup", "recipient": "aws"}
EVENTS = [
    _ev(1, "ann", "2025-03-01 09:00:00", records=4),
    _ev(2, "ann", "2025-03-01 10:00:00", "search", records=None),  # counts 1 record
    _ev(3, "ann", "2025-03-02 11:00:00", "export", records=7, recipient="google.com"),
    _ev(4, "ann", "2025-03-02 12:00:00", records=50, outcome="denied"),  # used no data
    _ev(5, "ann", "2025-03-02 12:30:00", "update", records=90),  # not a read, search or export
    _ev(6, "ann", "2025-03-02 13:00:00", records=80, categories=[], resource_type="service_log"),  # no personal data
    _ev(7, "svc", "2025-03-02 01:00:00", "export", records=500, **BACKUP),  # a backup: apart
    _ev(8, "svc", "2025-03-02 02:00:00", records=3, **BACKUP),  # a service account's read counts
    # One actor id the events give two actor types on one day: two rollup rows, one day of 5 + 6 records.
    _ev(9, "cat", "2025-03-03 08:00:00", records=5),
    _ev(10, "cat", "2025-03-03 09:00:00", records=6, actor_type="service"),
    _ev(11, "cat", "2025-03-02 09:00:00", records=10),
]

ANN_1 = ("ann", dt.date(2025, 3, 1), 2, 5, 0, 0, dt.datetime(2025, 3, 1, 10), 5)
ANN_2 = ("ann", dt.date(2025, 3, 2), 1, 7, 0, 0, dt.datetime(2025, 3, 2, 11), 7)
SVC_2 = ("svc", dt.date(2025, 3, 2), 2, 3, 1, 500, dt.datetime(2025, 3, 2, 2), 3)
CAT_2 = ("cat", dt.date(2025, 3, 2), 1, 10, 0, 0, dt.datetime(2025, 3, 2, 9), 10)
CAT_3 = ("cat", dt.date(2025, 3, 3), 2, 11, 0, 0, dt.datetime(2025, 3, 3, 9), 11)


def _groups(con, policy, as_of: str) -> list[tuple]:
    return sorted(run_query(con, "audit_actor_bulk_groups", {"as_of": dt.date.fromisoformat(as_of)}, policy).rows())


def _days(con, policy, as_of: str) -> list[tuple]:
    return sorted(run_query(con, "audit_actor_bulk_days", {"as_of": dt.date.fromisoformat(as_of)}, policy).rows())


def test_the_days_the_totals_do_not_hold_one_row_per_actor_day_whatever_the_actor_types(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})  # totals through 2025-03-03
    assert _days(con, policy, "2025-03-03") == []  # the totals hold every day
    assert _days(con, policy, "2025-03-02") == sorted([ANN_1, ANN_2, SVC_2, CAT_2])  # before them: the days
    con.execute("delete from audit_actor_bulk_totals").fetchall()
    assert _days(con, policy, "2025-03-03") == sorted([ANN_1, ANN_2, SVC_2, CAT_2, CAT_3])


def test_groups_up_to_each_as_of_date(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    assert through_dates(con, "audit_actor_bulk_totals") == [(dt.date(2025, 3, 3),)]
    assert _groups(con, policy, "2025-02-28") == []
    # Before the totals' day: the days alone.
    assert _groups(con, policy, "2025-03-01") == [("ann", 2, 5, 0, 0, dt.datetime(2025, 3, 1, 10), 5)]
    ann = ("ann", 3, 12, 0, 0, dt.datetime(2025, 3, 2, 11), 7)
    svc = ("svc", 2, 3, 1, 500, dt.datetime(2025, 3, 2, 2), 3)
    assert _groups(con, policy, "2025-03-02") == [ann, ("cat", 1, 10, 0, 0, dt.datetime(2025, 3, 2, 9), 10), svc]
    # The totals: cat's busiest day holds 11 (5 + 6 on 2025-03-03), not 10 nor 6.
    everything = [ann, ("cat", 3, 21, 0, 0, dt.datetime(2025, 3, 3, 9), 11), svc]
    assert _groups(con, policy, "2025-03-03") == everything
    assert _groups(con, policy, "2026-01-01") == everything


def test_on_or_after_their_day_the_totals_are_read_instead_of_the_days(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    con.execute("update audit_actor_bulk_totals set busiest_day_records = 99 where actor_id = 'svc'").fetchall()
    assert _groups(con, policy, "2025-03-03")[-1][-1] == 99
    assert _groups(con, policy, "2025-03-02")[-1][-1] == 3  # before it: the days


def test_totals_follow_days_added_after_them_and_days_recomputed_among_them(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS[:3]})  # ann alone, through 2025-03-02
    con.execute("insert into audit_events by name select * from audit_events where event_id = 'e1'").fetchall()
    con.execute(
        """update audit_events set event_id = 'e12', record_count = 20, occurred_at = timestamp '2025-03-04 09:00:00',
           event_date = date '2025-03-04' where rowid = (select max(rowid) from audit_events)"""
    ).fetchall()
    derive_event_rollups(con, [dt.date(2025, 3, 4)], policy=policy)  # a later day: added to the totals
    assert through_dates(con, "audit_actor_bulk_totals") == [(dt.date(2025, 3, 4),)]
    assert _groups(con, policy, "2025-03-04") == [("ann", 4, 32, 0, 0, dt.datetime(2025, 3, 4, 9), 20)]

    con.execute("delete from audit_events where event_id = 'e12'").fetchall()  # 2025-03-04's read, gone
    con.execute("update audit_events set record_count = 30 where event_id = 'e3'").fetchall()  # 2025-03-02: 30
    derive_event_rollups(con, [dt.date(2025, 3, 2), dt.date(2025, 3, 4)], policy=policy)  # summed again
    assert _groups(con, policy, "2025-03-04") == [("ann", 3, 35, 0, 0, dt.datetime(2025, 3, 2, 11), 30)]
