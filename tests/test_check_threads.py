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
    before = _threads(connection)  # the demo database's instance is shared by the other tests of this process
    yield connection
    _set_threads(connection, before)
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


def test_checks_that_overlap_and_end_out_of_order_restore_the_setting(
    con: duckdb.DuckDBPyConnection, demo_build: DemoBuild, policy: Policy
) -> None:
    """Two connections to one file share its instance and so its thread setting (two dashboard downloads at
    once): the first check to end must not restore while the other runs, nor the last restore the lowered value."""
    _set_threads(con, 4)
    other = duckdb.connect(str(demo_build.db), read_only=True)
    try:
        first = evaluate_controls(con, policy, AS_OF, select_controls(TWO))
        second = evaluate_controls(other, policy, AS_OF, select_controls(TWO))
        next(first)
        next(second)
        assert _threads(con) == 2
        first.close()  # the first to start ends first: the second still runs on the shared setting
        assert _threads(other) == 2
        second.close()
        assert _threads(con) == 4 and _threads(other) == 4
    finally:
        other.close()


def _preserves_order(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0])


@pytest.mark.parametrize("preserve", [True, False])
def test_insertion_order_is_off_during_a_check_and_restored_after(
    con: duckdb.DuckDBPyConnection, policy: Policy, preserve: bool
) -> None:
    """The controls run without preserving insertion order (their findings do not depend on it); the caller's
    setting holds again afterwards, whichever it was."""
    con.execute(f"set preserve_insertion_order = {str(preserve).lower()}").fetchall()
    try:
        assert [_preserves_order(con) for _ in evaluate_controls(con, policy, AS_OF, select_controls(TWO))] == [
            False,
            False,
        ]
        assert _preserves_order(con) is preserve
    finally:
        con.execute("set preserve_insertion_order = true").fetchall()
