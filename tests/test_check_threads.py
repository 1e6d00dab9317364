"""A check splits DuckDB's threads between the controls it runs side by side, and gives the setting back.

The thread count belongs to the database, not to the check (compliance.controls._threads_shared): whatever the
caller had set before a check must hold after it, also when the caller stops early, and a single control keeps
them all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pytest
from conftest import DemoBuild

from compliance.config.bundle import Policy
from compliance.controls import evaluate_controls, run_controls, select_controls

AS_OF = dt.date(2025, 12, 31)
TWO = ["access.off_hours", "access.out_of_role"]


@pytest.fixture
def con(demo_build: DemoBuild) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(demo_build.db), read_only=True)
    yield connection
    connection.close()


def _threads(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select current_setting('threads')").fetchall()[0][0])


def _set_threads(con: duckdb.DuckDBPyConnection, threads: int) -> None:
    con.execute(f"set threads = {int(threads)}").fetchall()


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_the_thread_setting_is_restored_after_a_check(
    con: duckdb.DuckDBPyConnection, policy: Policy, threads: int
) -> None:
    _set_threads(con, threads)
    findings = run_controls(con, policy, AS_OF)
    assert findings.filter(findings["status"] == "error").is_empty()
    assert _threads(con) == threads


def test_two_controls_share_the_threads_and_one_keeps_them(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    _set_threads(con, 4)
    # The setting is read while the controls run: between the frames the generator yields.
    assert [_threads(con) for _ in evaluate_controls(con, policy, AS_OF, select_controls(TWO))] == [2, 2]
    assert [_threads(con) for _ in evaluate_controls(con, policy, AS_OF, select_controls(TWO[:1]))] == [4]
    assert _threads(con) == 4


def test_the_setting_is_restored_when_the_caller_stops_early(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    _set_threads(con, 2)
    frames = evaluate_controls(con, policy, AS_OF, select_controls(TWO))
    next(frames)
    frames.close()  # the caller stops after the first control
    assert _threads(con) == 2
