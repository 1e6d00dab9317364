"""The daily rollups of audit events (compliance.ingest.derive.derive_event_rollups) equal what the events give.

A hand-made fixture over three days: 26 reads of contacts on one day by two people with tied timestamps (so
the newest-20 cut and its tie-break by event id matter), a failed read and a login (never counted as a
purpose use), an event without a system whose resource_type names it in the data map, and a use the data map
does not allow. Every rollup row is compared with the same figure computed in Python from the events, and a
recompute of one day (what the incremental daily load does) with a full one. The two controls that read the
rollups are then checked against the events directly: counts, and the newest 20 ids as evidence.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb
import pytest

from compliance.ingest.derive import EVIDENCE_PER_DAY, ROLLUP_TABLES, derive_event_rollups
from compliance.queries import run_query

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
DATA_ACTIONS = {"read", "search", "export", "create", "update", "delete", "deidentify", "share"}


def _event(n: int, day: dt.date, minute: int, **over: object) -> dict[str, object]:
    at = dt.datetime.combine(day, dt.time(9, minute))
    row: dict[str, object] = {
        "event_id": f"ev-{n:03d}", "occurred_at": at, "event_date": day, "actor_id": "emp-a",
        "actor_type": "employee", "action": "read", "outcome": "success", "system": "crm",
        "resource_type": "contact", "categories": ["user.contact.email"], "purpose": "essential.service",
        "record_count": 2,
    }  # fmt: skip
    return row | over


def _events() -> list[dict[str, object]]:
    rows = [_event(n, DAY1, n // 3, actor_id="emp-a" if n % 2 else "emp-b") for n in range(26)]  # ties by 3
    rows += [
        _event(30, DAY1, 50, outcome="failure"),  # a failed read used no data: no purpose use
        _event(31, DAY1, 51, action="login", categories=[], purpose=None),
        _event(32, DAY2, 5, system=None, categories=["user.contact.email", "user.name"]),  # system from its type
        _event(33, DAY2, 6, purpose="marketing.advertising.third_party", record_count=None),  # not allowed
        _event(34, DAY3, 7, categories=["user.biometric"]),
    ]
    return rows


@pytest.fixture
def con(make_db) -> duckdb.DuckDBPyConnection:
    return make_db({"audit_events": _events()})


def _newest(rows: list[dict[str, object]], n: int = EVIDENCE_PER_DAY) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r["occurred_at"], r["event_id"]), reverse=True)
    return [str(r["event_id"]) for r in ordered[:n]]


def _purpose_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    systems = dict(con.sql("select distinct resource_type, system_id from ref_resource_types").fetchall())
    return [
        r | {"system_id": r["system"] or systems.get(r["resource_type"]), "records": r["record_count"] or 1}
        for r in _events()
        if r["purpose"] and r["outcome"] == "success" and r["action"] in DATA_ACTIONS
    ]


def test_category_rollups_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in _events():
        for category in r["categories"]:
            groups[(r["event_date"], category)].append(r)
    days = con.sql("select event_date, data_category, events, first_at, last_at from audit_category_days").fetchall()
    assert sorted(days) == sorted(
        (*k, len(v), min(r["occurred_at"] for r in v), max(r["occurred_at"] for r in v)) for k, v in groups.items()
    )
    kept: dict[tuple, list[str]] = defaultdict(list)
    for day, category, event_id in con.sql(
        "select event_date, data_category, event_id from audit_category_evidence order by occurred_at desc, event_id desc"
    ).fetchall():
        kept[(day, category)].append(event_id)
    assert kept == {k: _newest(v) for k, v in groups.items()}
    assert len(kept[(DAY1, "user.contact.email")]) == EVIDENCE_PER_DAY  # 27 that day, newest 20 kept


def test_purpose_rollups_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    uses = _purpose_rows(con)
    assert {r["event_id"] for r in uses} == {f"ev-{n:03d}" for n in [*range(26), 32, 33, 34]}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in uses:
        groups[(r["event_date"], r["actor_id"], r["system_id"], r["purpose"])].append(r)
    days = con.sql(
        "select event_date, actor_id, system_id, purpose, events, records, first_at, last_at from audit_purpose_days"
    ).fetchall()
    assert sorted(days) == sorted(
        (*k, len(v), sum(r["records"] for r in v), min(r["occurred_at"] for r in v), max(r["occurred_at"] for r in v))
        for k, v in groups.items()
    )
    kept = con.sql(
        "select event_date, actor_id, system_id, purpose, event_id, use_rank from audit_purpose_evidence"
    ).fetchall()
    assert sorted(r[:5] for r in kept) == sorted((*k, i) for k, v in groups.items() for i in _newest(v))
    # use_rank: the rank within the day's system and purpose, whoever acted
    by_use: dict[tuple, list[dict]] = defaultdict(list)
    for r in uses:
        by_use[(r["event_date"], r["system_id"], r["purpose"])].append(r)
    ranked = {(r[0], r[2], r[3], r[4]): r[5] for r in kept}
    for key, rows in by_use.items():
        top = _newest(rows, len(rows))
        for rank, event_id in enumerate(top[:EVIDENCE_PER_DAY], start=1):
            assert ranked[(*key, event_id)] == rank


def test_recomputing_some_days_equals_a_full_derive(con: duckdb.DuckDBPyConnection) -> None:
    # A daily load replaced day 2's events: recompute that day only.
    con.execute("delete from audit_events where event_date = $d", {"d": DAY2}).fetchall()
    con.execute(
        "insert into audit_events by name select 'ev-900' as event_id, timestamp '2025-03-02 10:00:00' as occurred_at,"
        " date '2025-03-02' as event_date, 'emp-c' as actor_id, 'employee' as actor_type, 'read' as action,"
        " 'success' as outcome, 'crm' as system, 'contact' as resource_type, ['user.name'] as categories,"
        " 'essential.service' as purpose"
    ).fetchall()
    assert derive_event_rollups(con, [DAY2]) == 1
    partial = {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in ROLLUP_TABLES}
    assert derive_event_rollups(con) == 3
    assert partial == {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in ROLLUP_TABLES}
    assert ("ev-900",) in con.sql("select event_id from audit_purpose_evidence").fetchall()


@pytest.mark.parametrize("as_of", [DAY1, DAY2, DAY3])
def test_controls_read_the_rollups_exactly(con: duckdb.DuckDBPyConnection, policy, as_of: dt.date) -> None:
    events = [r for r in _events() if r["event_date"] <= as_of]
    datamap = run_query(con, "datamap_undeclared_category", {"as_of": as_of}, policy)
    for row in datamap.iter_rows(named=True):
        category = row["resource"].removeprefix("category:")
        carrying = [r for r in events if category in r["categories"]]
        assert row["evidence"] == _newest(carrying)
        assert f"observed in {len(carrying)} audit events" in row["reason"]
    purpose = run_query(con, "purpose_undeclared_use", {"as_of": as_of}, policy)
    uses = [r for r in _purpose_rows(con) if r["event_date"] <= as_of]
    allowed = purpose.filter(purpose["status"] == "ok").row(0, named=True)
    assert allowed["resource"] == "use:crm/essential.service"
    crm = [r for r in uses if r["system_id"] == "crm" and r["purpose"] == "essential.service"]
    assert allowed["evidence"] == _newest(crm)
    assert f": {len(crm)} events ({sum(r['records'] for r in crm)} records) by 2 actors" in allowed["reason"]
    alarms = purpose.filter(purpose["status"] == "alarm")
    assert alarms["resource"].to_list() == (["actor:emp-a@2025-03-02"] if as_of >= DAY2 else [])
    if as_of >= DAY2:
        assert alarms["evidence"].to_list() == [["ev-033"]]
