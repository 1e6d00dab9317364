"""audit_login_groups on hand-made login attempts (answers worked out by hand): each account's attempts, failures,
newest attempt and largest count of failures within the 10-minute burst window up to the as-of date, from the
all-time totals kept at ingest (audit_login_totals) when the as-of date is on or after their day, from the login days
alone before it; and the totals kept right as days are added after them (a day's window reaching into the next day)
or recomputed among them, each step equal to a derive of every day."""

from __future__ import annotations

import datetime as dt

import duckdb
from rows import audit_event
from totals_support import read_after_recomputing, through_dates

from compliance.queries import run_query

WINDOW = 10  # data/policy/settings.yaml: failed_login_burst.window_minutes


def _fail(n: int, actor: str, at: str) -> dict:
    return audit_event(f"f{n}", actor, at, "login", outcome="failure")


EVENTS = [
    _fail(1, "ann", "2025-03-01 09:00:00"),
    _fail(2, "ann", "2025-03-01 09:01:00"),
    _fail(3, "ann", "2025-03-01 09:02:00"),
    audit_event("s4", "ann", "2025-03-02 10:00:00", "login"),
    _fail(5, "bob", "2025-03-03 08:00:00"),
]


def _groups(con: duckdb.DuckDBPyConnection, policy, as_of: str) -> list[tuple]:
    out = run_query(con, "audit_login_groups", {"as_of": dt.date.fromisoformat(as_of)}, policy)
    return sorted(out.rows())


def _through(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return through_dates(con, "audit_login_totals")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ANN_DAY1 = ("ann", WINDOW, 3, 3, _at("2025-03-01 09:02"), 3)
ANN = ("ann", WINDOW, 4, 3, _at("2025-03-02 10:00"), 3)
BOB = ("bob", WINDOW, 1, 1, _at("2025-03-03 08:00"), 1)


def test_groups_up_to_each_as_of_date(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    assert _through(con) == [(dt.date(2025, 3, 3),)]
    assert _groups(con, policy, "2025-02-28") == []
    assert _groups(con, policy, "2025-03-01") == [ANN_DAY1]  # before the totals' day: the days alone
    assert _groups(con, policy, "2025-03-02") == [ANN]
    assert _groups(con, policy, "2025-03-03") == [ANN, BOB]  # the totals
    assert _groups(con, policy, "2026-01-01") == [ANN, BOB]


def test_on_or_after_their_day_the_totals_are_read_instead_of_the_days(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    con.execute("update audit_login_totals set failures = 99 where actor_id = 'bob'").fetchall()
    assert _groups(con, policy, "2025-03-03")[-1] == ("bob", WINDOW, 1, 99, _at("2025-03-03 08:00"), 1)
    assert _groups(con, policy, "2025-03-02") == [ANN]  # before it: the days


def _add(con: duckdb.DuckDBPyConnection, *events: dict) -> None:
    for e in events:
        con.execute(
            """insert into audit_events by name
               select $id as event_id, 'ann' as actor_id, 'employee' as actor_type, 'login' as action,
                      'failure' as outcome, cast($at as timestamp) as occurred_at, cast($day as date) as event_date""",
            {"id": e["event_id"], "at": e["occurred_at"], "day": e["occurred_at"][:10]},
        ).fetchall()


def _then_every_day(con: duckdb.DuckDBPyConnection, policy, days: list[dt.date], as_of: str) -> list[tuple]:
    """The groups after recomputing `days`, checked equal (and the totals' day) to those after a derive of every
    day."""
    return read_after_recomputing(con, policy, days, lambda: (_groups(con, policy, as_of), _through(con)))[0]


def test_totals_follow_days_added_after_them_and_days_recomputed_among_them(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    # Two failures late on 4 March: the login days recomputed reach into 5 March, which holds no attempt; the
    # totals' day is the newest that does.
    _add(con, _fail(6, "ann", "2025-03-04 23:58:00"), _fail(7, "ann", "2025-03-04 23:59:00"))
    assert _then_every_day(con, policy, [dt.date(2025, 3, 4)], "2025-03-04") == [
        ("ann", WINDOW, 6, 5, _at("2025-03-04 23:59"), 3),
        BOB,
    ]
    assert _through(con) == [(dt.date(2025, 3, 4),)]
    # One more just after midnight: its window holds the two of the day before, 3 failures; added to the totals.
    _add(con, _fail(8, "ann", "2025-03-05 00:01:00"))
    assert _then_every_day(con, policy, [dt.date(2025, 3, 5)], "2025-03-05") == [
        ("ann", WINDOW, 7, 6, _at("2025-03-05 00:01"), 3),
        BOB,
    ]
    # 1 March's failures gone: a day among the totals, summed again; ann's largest window is now 5 March's.
    con.execute("delete from audit_events where event_date = date '2025-03-01'").fetchall()
    assert _then_every_day(con, policy, [dt.date(2025, 3, 1)], "2025-03-05") == [
        ("ann", WINDOW, 4, 3, _at("2025-03-05 00:01"), 3),
        BOB,
    ]
