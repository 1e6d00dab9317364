"""A check starts its costliest controls first, by each control's own seconds stored with the findings.

Two controls run at a time (compliance.controls): when a long control starts last, it runs alone at the end while
the other slot has nothing left to take. `run_controls` therefore orders the controls by their seconds in the run
stored for the same data and policy (compliance.stored_findings records each control's own seconds), and its
findings do not depend on that order."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import polars as pl
import pytest

import compliance.controls as engine
from compliance.config.bundle import Policy
from compliance.controls import FINDINGS_SCHEMA, evaluate_controls, run_controls, select_controls
from compliance.queries import Query

AS_OF = dt.date(2025, 12, 31)
THREE = ["access.off_hours", "access.out_of_role", "dsr.overdue"]


def _store_runs(con: duckdb.DuckDBPyConnection, policy: Policy, seconds: dict[str, float], as_of: dt.date) -> None:
    for control_id, secs in seconds.items():
        con.execute(
            "insert into findings_runs values ($control, $as_of, 'sql', $policy, 0, $seconds)",
            {"control": control_id, "as_of": as_of, "policy": policy.digest, "seconds": secs},
        ).fetchall()


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The order of the controls each run_controls call hands to evaluate_controls, recorded per call."""
    calls: list[list[str]] = []
    real = engine.evaluate_controls

    def recording(
        con: duckdb.DuckDBPyConnection, policy: Policy, as_of: dt.date | None, queries: Sequence[Query], **kw: Any
    ) -> Iterator[tuple[Query, pl.DataFrame]]:
        calls.append([str(q.control_id) for q in queries])
        return real(con, policy, as_of, queries, **kw)

    monkeypatch.setattr(engine, "evaluate_controls", recording)
    return calls


def test_the_costliest_stored_controls_start_first_and_the_findings_stay_the_same(
    make_db: Callable[[dict], duckdb.DuckDBPyConnection], policy: Policy, started: list[list[str]]
) -> None:
    con = make_db({})
    before = run_controls(con, policy, AS_OF, control_ids=THREE)
    _store_runs(con, policy, {"dsr.overdue": 2.5, "access.out_of_role": 0.4}, AS_OF)
    after = run_controls(con, policy, AS_OF, control_ids=THREE)
    # Unknown cost (off_hours) counts as none; ties keep the catalog order.
    assert started == [THREE, ["dsr.overdue", "access.out_of_role", "access.off_hours"]]
    assert after.equals(before)


def test_runs_of_another_date_or_policy_leave_the_catalog_order(
    make_db: Callable[[dict], duckdb.DuckDBPyConnection], policy: Policy, started: list[list[str]]
) -> None:
    con = make_db({})
    _store_runs(con, policy, {"dsr.overdue": 2.5}, AS_OF)
    con.execute("update findings_runs set policy_digest = 'another policy'").fetchall()
    _store_runs(con, policy, {"access.out_of_role": 2.5}, AS_OF - dt.timedelta(days=1))
    run_controls(con, policy, AS_OF, control_ids=THREE)
    assert started == [THREE]


def test_each_control_s_own_seconds_are_recorded(
    make_db: Callable[[dict], duckdb.DuckDBPyConnection], policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two slow controls run side by side: each is credited its own time, not the time since the previous frame
    was taken (which gave the second of them nothing, as it had finished while the caller waited for the first)."""
    sleeps = {"access.off_hours": 0.3, "access.out_of_role": 0.3, "dsr.overdue": 0.0}

    def slept(con: Any, policy: Policy, as_of: Any, error: Any, query: Query, stored: Any) -> pl.DataFrame:
        time.sleep(sleeps[str(query.control_id)])
        return pl.DataFrame(schema=FINDINGS_SCHEMA)

    monkeypatch.setattr(engine, "_evaluate", slept)
    # No source requirement, so each is evaluated rather than skipped on the empty database.
    queries = [dataclasses.replace(q, requires=()) for q in select_controls(list(sleeps))]
    seconds: dict[str, float] = {}
    ran = [str(q.control_id) for q, _ in evaluate_controls(make_db({}), policy, AS_OF, queries, seconds=seconds)]
    assert ran == list(sleeps)
    assert set(seconds) == set(sleeps)
    assert seconds["access.off_hours"] >= 0.3 and seconds["access.out_of_role"] >= 0.3
    assert seconds["dsr.overdue"] < 0.3
