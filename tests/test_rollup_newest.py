"""The newest events the category, use and transfer rollups keep per group-day (compliance.ingest.derive.
ROLLUP_NEWEST): each kept list is that day's 20 newest events, ties at one instant broken by id; a derive of every
day keeps them for each group's newest days only, a derive of some days for those days; and the three controls that
list a group's 20 most recent events as evidence give the same rows whether a day's list is kept or its events are
read (every list dropped), at as-of dates that need kept, missing and no lists."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
from rows import audit_event

from compliance.ingest.derive import ROLLUP_NEWEST, derive_event_rollups
from compliance.queries import run_query
from tests.newest_support import kept_newest_lists

CONTROLS = ("datamap_undeclared_category", "purpose_undeclared_use", "transfer_no_safeguard")


def _read(n: int, at: str, **kw: object) -> dict:
    """A successful read of a contact's email by a support agent on the CRM, for support, of an EU subject served
    in eu-fra (a use and a transfer the policy allows)."""
    fields = {"system": "crm", "purpose": "essential.service.operations.support", "subject_id": f"s{n % 3}", "subject_jurisdiction": "EU",
              "processing_region": "eu-fra"} | kw  # fmt: skip
    return audit_event(f"e{n:02d}", "ann", at, "read", **fields)


# 2025-03-03: 25 reads, 8 of them at one instant around the 20th newest (ids decide which are kept); 2025-03-02: 3
# reads, one of them of a subject of unknown jurisdiction; 2025-03-01: one.
EVENTS = [
    _read(1, "2025-03-01 08:00:00"),
    _read(2, "2025-03-02 08:00:00"),
    _read(3, "2025-03-02 09:00:00", subject_jurisdiction=None),
    _read(4, "2025-03-02 10:00:00"),
    *(_read(n, f"2025-03-03 09:{n:02d}:00") for n in range(10, 27)),
    *(_read(n, "2025-03-03 08:30:00") for n in range(27, 35)),
]
AS_OF_DATES = [dt.date(2025, 3, d) for d in (1, 2, 3, 10)]


def _lists(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        n.days: con.execute(
            f"select event_date, {', '.join(n.keys)} from {n.days} where newest_events is not null order by all"
        ).fetchall()
        for n in ROLLUP_NEWEST
    }


def _controls(con: duckdb.DuckDBPyConnection, policy, as_of: dt.date) -> dict[str, pl.DataFrame]:
    return {q: run_query(con, q, {"as_of": as_of}, policy).sort("resource") for q in CONTROLS}


def _without_lists(con: duckdb.DuckDBPyConnection) -> None:
    for n in ROLLUP_NEWEST:
        con.execute(f"update {n.days} set newest_events = null").fetchall()


def test_a_derive_of_every_day_keeps_each_groups_newest_days_and_a_day_derived_its_own(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    kept, wrong = kept_newest_lists(con)
    assert wrong == []
    # Every group's newest day is 2025-03-03 (25 events), except the unknown jurisdiction's transfer (2025-03-02).
    day3, day2 = dt.date(2025, 3, 3), dt.date(2025, 3, 2)
    assert _lists(con) == {
        "audit_category_days": [(day3, "user.contact.email")],
        "audit_use_days": [(day3, "crm", "essential.service.operations.support")],
        "audit_transfer_days": [(day2, None, "eu-fra"), (day3, "EU", "eu-fra")],
    }
    newest = con.execute("select newest_events from audit_category_days where event_date = $d", {"d": day3}).fetchall()[
        0
    ][0]
    # 17 reads from 09:10 to 09:26, then 3 of the 8 at 08:30: e34, e33, e32 (the largest ids).
    assert [e["event_id"] for e in newest] == [f"e{n}" for n in (*range(26, 9, -1), 34, 33, 32)]

    derive_event_rollups(con, [dt.date(2025, 3, 1)], policy=policy)
    kept_after, wrong = kept_newest_lists(con)
    assert wrong == [] and kept_after == kept + 3  # 2025-03-01's row of each rollup


def test_the_controls_give_the_same_rows_from_kept_lists_as_from_the_events(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    derive_event_rollups(con, [dt.date(2025, 3, 1)], policy=policy)  # kept: 03-01 and the newest days; not 03-02
    kept = {as_of: _controls(con, policy, as_of) for as_of in AS_OF_DATES}
    _without_lists(con)
    for as_of in AS_OF_DATES:
        for query, frame in _controls(con, policy, as_of).items():
            assert frame.equals(kept[as_of][query]), (query, as_of)
    evidence = kept[dt.date(2025, 3, 10)]["datamap_undeclared_category"]["evidence"].to_list()
    assert evidence == [[f"e{n}" for n in (*range(26, 9, -1), 34, 33, 32)]]


def test_on_the_demo_the_controls_give_the_same_rows_without_any_kept_list(demo_build, policy, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_build.db, db)
    with duckdb.connect(str(db)) as con:
        kept, wrong = kept_newest_lists(con)
        assert wrong == [] and kept > 0
        newest = con.execute("select max(event_date) from audit_events").fetchall()[0][0]
        dates = [newest, newest - dt.timedelta(days=40), newest - dt.timedelta(days=200)]
        with_lists = {as_of: _controls(con, policy, as_of) for as_of in dates}
        _without_lists(con)
        for as_of in dates:
            for query, frame in _controls(con, policy, as_of).items():
                assert frame.equals(with_lists[as_of][query]), (query, as_of)
