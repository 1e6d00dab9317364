"""audit_role_action_groups on hand-made audit events (answers worked out by hand): each actor's successful
personal-data actions per judged role, action and category list up to the as-of date, from the all-time totals kept
at ingest when the as-of date is on or after their day, from the days alone before it; and the totals kept right as
days are added after them, or recomputed among them."""

from __future__ import annotations

import datetime as dt

from rows import audit_event
from totals_support import through_dates

from compliance.ingest.derive import derive_event_rollups
from compliance.queries import run_query


def _ev(n: int, actor: str, at: str, action: str = "read", **kw: object) -> dict:
    return audit_event(f"e{n}", actor, at, action, **({"system": "crm"} | kw))


EVENTS = [
    _ev(1, "ann", "2025-03-01 09:00:00", record_count=4),
    _ev(2, "ann", "2025-03-01 10:00:00", record_count=None),  # counts 1 record
    _ev(3, "ann", "2025-03-02 11:00:00", record_count=3),
    _ev(4, "ann", "2025-03-02 12:00:00", action="export", record_count=7),
    _ev(5, "bob", "2025-03-03 08:00:00", record_count=2, actor_role="sales_rep"),
    _ev(6, "ann", "2025-03-03 09:30:00", action="login"),  # not a data action
    _ev(7, "ann", "2025-03-03 09:45:00", outcome="denied", record_count=50),  # used no data
]


def _groups(con, policy, as_of: str) -> list[tuple]:
    out = run_query(con, "audit_role_action_groups", {"as_of": dt.date.fromisoformat(as_of)}, policy)
    return sorted((r[0], r[1], r[2], r[4], r[5], r[6]) for r in out.rows())  # without the list's key


ANN_READS_2 = ("ann", "support_agent", "read", 2, 5, dt.datetime(2025, 3, 1, 10))
ANN_READS_3 = ("ann", "support_agent", "read", 3, 8, dt.datetime(2025, 3, 2, 11))
ANN_EXPORT = ("ann", "support_agent", "export", 1, 7, dt.datetime(2025, 3, 2, 12))
BOB_READ = ("bob", "sales_rep", "read", 1, 2, dt.datetime(2025, 3, 3, 8))


def test_groups_up_to_each_as_of_date(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    assert through_dates(con, "audit_role_action_totals") == [(dt.date(2025, 3, 3),)]
    assert _groups(con, policy, "2025-02-28") == []
    assert _groups(con, policy, "2025-03-01") == [ANN_READS_2]  # before the totals' day: the days alone
    assert _groups(con, policy, "2025-03-02") == [ANN_EXPORT, ANN_READS_3]
    assert _groups(con, policy, "2025-03-03") == [ANN_EXPORT, ANN_READS_3, BOB_READ]  # the totals
    assert _groups(con, policy, "2026-01-01") == [ANN_EXPORT, ANN_READS_3, BOB_READ]


def test_on_or_after_their_day_the_totals_are_read_instead_of_the_days(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    con.execute("update audit_role_action_totals set events = 99 where actor_id = 'bob'").fetchall()
    assert _groups(con, policy, "2025-03-03")[-1] == ("bob", "sales_rep", "read", 99, 2, dt.datetime(2025, 3, 3, 8))
    assert _groups(con, policy, "2025-03-02") == [ANN_EXPORT, ANN_READS_3]  # before it: the days


def test_totals_follow_days_added_after_them_and_days_recomputed_among_them(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS[:4]})  # through 2025-03-02
    con.execute("insert into audit_events by name select * from audit_events where event_id = 'e1'").fetchall()
    con.execute(
        """update audit_events set event_id = 'e8', occurred_at = timestamp '2025-03-04 09:00:00',
           event_date = date '2025-03-04' where rowid = (select max(rowid) from audit_events)"""
    ).fetchall()
    derive_event_rollups(con, [dt.date(2025, 3, 4)], policy=policy)  # a later day: added to the totals
    later = ("ann", "support_agent", "read", 4, 12, dt.datetime(2025, 3, 4, 9))
    assert _groups(con, policy, "2025-03-04") == [ANN_EXPORT, later]
    assert through_dates(con, "audit_role_action_totals") == [(dt.date(2025, 3, 4),)]

    con.execute("delete from audit_events where event_id = 'e3'").fetchall()  # 2025-03-02's read, gone
    derive_event_rollups(con, [dt.date(2025, 3, 2)], policy=policy)  # a day among the totals: summed again
    assert _groups(con, policy, "2025-03-04") == [
        ANN_EXPORT,
        ("ann", "support_agent", "read", 3, 9, dt.datetime(2025, 3, 4, 9)),
    ]


def test_days_added_one_by_one_merge_into_the_totals_of_their_keys_as_a_sum_of_every_day_does(make_db, policy) -> None:
    # zed has no role (missing from the directory: a NULL key), on the totals' day and on both days added after it;
    # cat is a key new on the last; 2025-03-05 is recomputed with no data action at all first.
    later = [
        _ev(10, "zed", "2025-03-04 09:00:00", actor_role=None, record_count=2),
        _ev(11, "zed", "2025-03-06 09:00:00", actor_role=None, record_count=5),
        _ev(12, "cat", "2025-03-06 10:00:00", action="export", record_count=9),
    ]
    con = make_db({"audit_events": [*EVENTS[:4], _ev(9, "zed", "2025-03-02 13:00:00", actor_role=None), *later]})
    con.execute("create table _later as select * from audit_events where event_date > date '2025-03-02'").fetchall()
    con.execute("delete from audit_events where event_date > date '2025-03-02'").fetchall()
    derive_event_rollups(con, None, policy=policy)  # the totals through 2025-03-02
    for day in ("2025-03-04", "2025-03-05", "2025-03-06"):
        con.execute(
            "insert into audit_events select * from _later where event_date = $day", {"day": dt.date.fromisoformat(day)}
        ).fetchall()
        derive_event_rollups(con, [dt.date.fromisoformat(day)], policy=policy)
    totals = "select * exclude (categories_key) from audit_role_action_totals order by all"
    added = con.sql(totals).fetchall()
    derive_event_rollups(con, None, policy=policy)  # every day summed again
    assert added == con.sql(totals).fetchall()
    assert ("zed", None, "read", 3, 8, dt.datetime(2025, 3, 6, 9), dt.date(2025, 3, 6)) in added
    assert ("cat", "support_agent", "export", 1, 9, dt.datetime(2025, 3, 6, 10), dt.date(2025, 3, 6)) in added
    assert len(added) == 4  # ann's reads and export, zed's reads, cat's export: one row each
