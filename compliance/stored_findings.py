"""Findings stored in the audit database at ingest, so a reader need not re-run every control.

Running the 28 controls over ten million events takes 10-20 s; a dashboard opened cold cannot wait
for that. `ingest` therefore evaluates the controls once, as of the database's default as-of date,
in its private working copy before publishing it, into two tables (docs/database.md):

- `findings`: every finding, in the contract's columns plus the `as_of` date it was evaluated for;
- `findings_runs`: one row per control with the digests of its SQL text and of the policy.

A reader uses a control's stored rows only when its SQL digest, the policy digest and the as-of date
all match what it would run now (`fresh_controls`); an edited query, a changed threshold or another
as-of date is computed live. Every published load either stores the findings of its own data or
clears them (`--no-findings`), and a control that failed is never stored, so stored findings are
never served stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import duckdb
import polars as pl

from compliance.config.bundle import Policy
from compliance.controls import (
    FINDINGS_SCHEMA,
    default_as_of,
    evaluate_controls,
    run_controls,
    select_controls,
    sort_findings,
)
from compliance.queries import run_query

__all__ = ["findings_as_of", "fresh_controls", "store_findings"]

_COLUMNS = ", ".join(FINDINGS_SCHEMA)
# findings_stored_rows caps the rows it returns (small_ok, max_rows); reading back a whole run needs no cap.
_NO_ROW_CAP = 2**62


def store_findings(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> date | None:
    """Replace the stored findings with every control's findings as of `as_of` (default: the data's
    newest date). Returns the as-of date used, or None when the database holds no dated data."""
    clear_findings(con)
    if as_of is None:
        try:
            as_of = default_as_of(con)
        except ValueError:
            return None
    selected = select_controls()
    started = time.perf_counter()
    # One control at a time (bounded memory): each frame is stored before the next is computed.
    for done, (query, frame) in enumerate(evaluate_controls(con, policy, as_of, selected), start=1):
        seconds = time.perf_counter() - started
        if progress:
            progress(str(query.control_id), done, len(selected))
        started = time.perf_counter()
        if frame.filter(pl.col("status") == "error").height:
            # A control that failed here (say, out of memory) is not stored: readers run it live, and
            # the next ingest finds it missing, so stale, and tries again.
            continue
        # DuckDB scans the Polars frame in place (replacement scan by its variable name).
        con.execute(f"insert into findings select {_COLUMNS}, $as_of from frame", {"as_of": as_of}).fetchall()
        con.execute(
            "insert into findings_runs values ($control, $as_of, $sql, $policy, $rows, $seconds)",
            {
                "control": query.control_id,
                "as_of": as_of,
                "sql": query.digest,
                "policy": policy.digest,
                "rows": frame.height,
                "seconds": round(seconds, 3),
            },
        ).fetchall()
    if progress:
        progress("", len(selected), len(selected))
    return as_of


def clear_findings(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every stored finding (a load that does not evaluate the controls publishes none)."""
    con.execute("delete from findings").fetchall()
    con.execute("delete from findings_runs").fetchall()


def _has_findings_tables(con: duckdb.DuckDBPyConnection) -> bool:
    cur = con.cursor()
    try:
        return bool(cur.sql("select count(*) from duckdb_tables() where table_name = 'findings_runs'").fetchall()[0][0])
    finally:
        cur.close()


def fresh_controls(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> set[str]:
    """The ids of the controls whose stored findings for `as_of` match their current SQL and this
    policy (empty for a database built before findings were stored)."""
    if not _has_findings_tables(con):
        return set()
    current = {q.control_id: q.digest for q in select_controls()}
    runs = run_query(con, "findings_stored_runs", {"as_of": as_of, "policy_digest": policy.digest})
    return {c for c, digest in runs.select("control_id", "sql_digest").iter_rows() if current.get(c) == digest}


def findings_as_of(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> pl.DataFrame:
    """Every control's findings as of `as_of`: the stored rows of fresh controls, the rest run live;
    the same rows and order as `run_controls(con, policy, as_of)`."""
    fresh = fresh_controls(con, policy, as_of)
    stale = [q.control_id for q in select_controls() if q.control_id not in fresh]
    parts = []
    if fresh:
        everything = {"small_ok": _NO_ROW_CAP, "max_rows": _NO_ROW_CAP}
        stored = run_query(con, "findings_stored_rows", {"as_of": as_of, "control_ids": sorted(fresh)} | everything)
        parts.append(stored.cast(FINDINGS_SCHEMA))
    if stale:
        parts.append(run_controls(con, policy, as_of, control_ids=stale))
    return sort_findings(pl.concat(parts) if parts else pl.DataFrame(schema=FINDINGS_SCHEMA))
