"""audit_located_login_groups on hand-made logins (answers worked out by hand): each actor's located successful
logins per country, and the newest, up to the as-of date, from the all-time totals kept at ingest
(audit_located_login_totals) when the as-of date is on or after their day, from the located-login days alone before
it; and the totals kept right as days are added after them or recomputed among them (a login with coordinates but no
country is a NULL-country key), each step equal to a derive of every day."""

from __future__ import annotations

import datetime as dt

import duckdb
from rows import audit_event
from totals_support import read_after_recomputing, through_dates

from compliance.queries import run_query

SYDNEY = {"geo_country": "AU", "geo_lat": -33.87, "geo_lon": 151.21}


def _login(n: int, actor: str, at: str, **place: object) -> dict:
    return audit_event(f"l{n}", actor, at, "login", **(place or {"geo_country": "DE"}))


EVENTS = [
    _login(1, "ann", "2025-03-01 09:00:00"),  # at Germany's centroid
    _login(2, "ann", "2025-03-01 18:00:00", **SYDNEY),
    _login(3, "ann", "2025-03-02 10:00:00"),
    audit_event("f4", "ann", "2025-03-02 11:00:00", "login", outcome="failure", geo_country="DE"),  # not counted
    audit_event("u5", "bob", "2025-03-02 12:00:00", "login"),  # no place: left out
    _login(6, "bob", "2025-03-03 08:00:00", geo_lat=40.0, geo_lon=-74.0),  # coordinates, no country
]


def _groups(con: duckdb.DuckDBPyConnection, policy, as_of: str) -> list[tuple]:
    out = run_query(con, "audit_located_login_groups", {"as_of": dt.date.fromisoformat(as_of)}, policy)
    return sorted(out.rows(), key=str)


def _through(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return through_dates(con, "audit_located_login_totals")


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


ANN_AU = ("ann", "AU", 1, _at("2025-03-01 18:00"))
ANN_DE_DAY1 = ("ann", "DE", 1, _at("2025-03-01 09:00"))
ANN_DE = ("ann", "DE", 2, _at("2025-03-02 10:00"))
BOB = ("bob", None, 1, _at("2025-03-03 08:00"))


def test_groups_up_to_each_as_of_date(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    assert _through(con) == [(dt.date(2025, 3, 3),)]
    assert _groups(con, policy, "2025-02-28") == []
    assert _groups(con, policy, "2025-03-01") == [ANN_AU, ANN_DE_DAY1]  # before the totals' day: the days alone
    assert _groups(con, policy, "2025-03-02") == [ANN_AU, ANN_DE]
    assert _groups(con, policy, "2025-03-03") == [ANN_AU, ANN_DE, BOB]  # the totals
    assert _groups(con, policy, "2026-01-01") == [ANN_AU, ANN_DE, BOB]


def test_on_or_after_their_day_the_totals_are_read_instead_of_the_days(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    con.execute("update audit_located_login_totals set logins = 99 where actor_id = 'bob'").fetchall()
    assert _groups(con, policy, "2025-03-03")[-1] == ("bob", None, 99, _at("2025-03-03 08:00"))
    assert _groups(con, policy, "2025-03-02") == [ANN_AU, ANN_DE]  # before it: the days


def _add(con: duckdb.DuckDBPyConnection, event_id: str, actor: str, at: str, country: str | None) -> None:
    con.execute(
        """insert into audit_events by name
           select $id as event_id, $actor as actor_id, 'employee' as actor_type, 'login' as action,
                  'success' as outcome, cast($at as timestamp) as occurred_at, cast($day as date) as event_date,
                  $country as geo_country, $lat as geo_lat, $lon as geo_lon""",
        {"id": event_id, "actor": actor, "at": at, "day": at[:10], "country": country,
         "lat": None if country else 51.5, "lon": None if country else -0.1},
    ).fetchall()  # fmt: skip


def _then_every_day(con: duckdb.DuckDBPyConnection, policy, days: list[dt.date], as_of: str) -> list[tuple]:
    """The groups after recomputing `days`, checked equal (and the totals' day) to those after a derive of every
    day."""
    return read_after_recomputing(con, policy, days, lambda: (_groups(con, policy, as_of), _through(con)))[0]


def test_totals_follow_days_added_after_them_and_days_recomputed_among_them(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    # A later day: ann again in Germany, bob at coordinates without a country (the NULL key merged, not doubled),
    # and a new actor.
    _add(con, "n1", "ann", "2025-03-04 07:00:00", "DE")
    _add(con, "n2", "bob", "2025-03-04 09:00:00", None)
    _add(con, "n3", "cy", "2025-03-04 10:00:00", "FR")
    assert _then_every_day(con, policy, [dt.date(2025, 3, 4)], "2025-03-04") == [
        ANN_AU,
        ("ann", "DE", 3, _at("2025-03-04 07:00")),
        ("bob", None, 2, _at("2025-03-04 09:00")),
        ("cy", "FR", 1, _at("2025-03-04 10:00")),
    ]
    assert _through(con) == [(dt.date(2025, 3, 4),)]
    # A day with no located login changes nothing: the totals' day stays the newest day with a row.
    _add(con, "n4", "dan", "2025-03-05 10:00:00", "XX")  # a country without a centroid and no coordinates
    last = _then_every_day(con, policy, [dt.date(2025, 3, 5)], "2025-03-05")[-1]
    assert (last, _through(con)) == (("cy", "FR", 1, _at("2025-03-04 10:00")), [(dt.date(2025, 3, 4),)])
    # 1 March's logins gone: a day among the totals, summed again.
    con.execute("delete from audit_events where event_date = date '2025-03-01'").fetchall()
    assert _then_every_day(con, policy, [dt.date(2025, 3, 1)], "2025-03-05") == [
        ("ann", "DE", 2, _at("2025-03-04 07:00")),
        ("bob", None, 2, _at("2025-03-04 09:00")),
        ("cy", "FR", 1, _at("2025-03-04 10:00")),
    ]
