"""The controls engine: run every control query as of a date and collect one findings frame.

A control whose export was not loaded reports one `skip` row, and one whose SQL fails reports one
`error` row, so a single broken or unfed control never hides the others' findings. Without an as-of
date the newest timestamp in the loaded data decides it (never the wall clock), so the same
database always gives the same findings.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from compliance.queries import QUERY_DIR, Query, bind_used, controls, run_query, tables_read
from compliance.schema import LOG_TABLES, SEVERITIES, SOURCES_BY_FOLDER
from compliance.waivers import apply_waivers

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = [
    "FINDINGS_SCHEMA",
    "SEVERITIES",
    "STATUSES",
    "conform",
    "default_as_of",
    "evaluate_controls",
    "has_stored_runs",
    "loaded_sources",
    "materialised_models",
    "run_controls",
    "select_controls",
    "sort_findings",
]

# Contract section 4: the columns of every control's output, in order.
FINDINGS_SCHEMA: dict[str, pl.DataType] = {
    "control_id": pl.String(),
    "policy_section": pl.String(),
    "resource": pl.String(),
    "status": pl.String(),
    "severity": pl.String(),
    "reason": pl.String(),
    "observed_at": pl.Datetime("us"),
    "evidence": pl.List(pl.String()),
}
# `suppressed` (additive to the contract): an alarm waived by exceptions.yaml; only the engine sets it.
STATUSES = ("alarm", "ok", "info", "skip", "error", "suppressed")
_QUERY_STATUSES = STATUSES[:-1]

# Timestamps that say how far the loaded data reaches. Forward-looking dates (contract ends,
# directory end dates, deadlines) are left out: they may lie in the future by design.
# Audit events' newest instant is read from their hourly rollup, which counts every event (100M events: a scan of
# 0.26 s that every command and cold dashboard page paid).
_AS_OF_COLUMNS: dict[str, tuple[str, ...]] = {
    "audit_system_hours": ("last_at",),
    "usage_events": ("occurred_at",),
    "diagnostic_logs": ("occurred_at",),
    "dsr_requests": ("received_at", "acknowledged_at", "verified_at", "extension_notified_at", "completed_at"),
    "inventory_records": ("snapshot_at",),
    "incidents": (
        "detected_at", "contained_at", "assessment_completed_at", "regulator_notified_at", "subjects_notified_at",
    ),
}  # fmt: skip


def default_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The UTC date of the newest timestamp in the loaded data; ValueError when nothing is loaded."""
    parts = [f"select max({col}) as ts from {table}" for table, cols in _AS_OF_COLUMNS.items() for col in cols]
    cur = con.cursor()
    try:
        rows = cur.execute(f"select max(ts) from ({' union all '.join(parts)})").fetchall()
    finally:
        cur.close()
    newest = rows[0][0] if rows else None
    if newest is None:
        raise ValueError("the database holds no timestamped data, so there is no default as-of date: pass one")
    return newest.date() if isinstance(newest, datetime) else newest


def loaded_sources(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[bool, str | None]]:
    """Per export folder: (loaded, note). Loaded means its table holds rows: a manifest entry whose
    rows were all rejected or duplicates counts as not loaded. The note says what the manifest knows
    of a source that is in it but left its table empty."""
    cur = con.cursor()
    try:
        manifest = {
            src: (files, rejected)
            for src, files, rejected in cur.execute(
                "select source, count(*), coalesce(sum(rows_rejected), 0) from load_manifest group by source"
            ).fetchall()
        }
        out: dict[str, tuple[bool, str | None]] = {}
        for folder, source in SOURCES_BY_FOLDER.items():
            has_rows = bool(cur.execute(f"select exists(select 1 from {source.table})").fetchall()[0][0])
            note = None
            if not has_rows and folder in manifest:
                files, rejected = manifest[folder]
                note = f"{files} file(s) loaded, {rejected} row(s) rejected"
            out[folder] = (has_rows, note)
        return out
    finally:
        cur.close()


def select_controls(
    control_ids: Iterable[str] | None = None, sections: Iterable[str] | None = None, root: Path = QUERY_DIR
) -> list[Query]:
    """The control queries under `root`, filtered by catalog id and/or policy section.

    An unknown id is an error (a typo must not silently check nothing); a section without controls
    simply selects none.
    """
    found = controls(root)
    if control_ids is not None:
        wanted = list(dict.fromkeys(control_ids))
        known = {q.control_id for q in found}
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise ValueError(
                f"unknown control id(s): {', '.join(unknown)}; known: {', '.join(sorted(map(str, known)))}"
            )
        found = [q for q in found if q.control_id in wanted]
    if sections is not None:
        wanted_sections = {str(s) for s in sections}
        found = [q for q in found if q.section in wanted_sections]
    return found


def _row(query: Query, resource: str, status: str, severity: str, reason: str) -> dict[str, Any]:
    return {
        "control_id": query.control_id,
        "policy_section": query.section,
        "resource": resource,
        "status": status,
        "severity": severity,
        "reason": reason,
        "observed_at": None,
        "evidence": [],
    }


def _skip_row(query: Query, missing: Sequence[str], notes: dict[str, str]) -> dict[str, Any]:
    if not any(m in notes for m in missing):
        what = f"No {' or '.join(missing)} export was loaded"
    else:
        parts = [
            f"the {m} export held no loadable rows ({notes[m]})" if m in notes else f"no {m} export was loaded"
            for m in missing
        ]
        what = "; ".join(parts)
        what = what[0].upper() + what[1:]
    reason = f"{what}, so {query.control_id} had nothing to examine."
    return _row(query, f"source:{missing[0]}", "skip", "info", reason)


def _error_row(query: Query, exc: Exception) -> dict[str, Any]:
    message = " ".join(str(exc).split())  # one line, for CSV and terminal output
    reason = f"Control {query.control_id} ({query.path.name}) failed, so it evidenced nothing: {type(exc).__name__}: {message}"
    # High: a control that cannot run hides whatever it should have found.
    return _row(query, f"control:{query.control_id}", "error", "high", reason)


def conform(query: Query, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in the findings schema; ValueError when the query broke the output contract."""
    if frame.columns != list(FINDINGS_SCHEMA):
        raise ValueError(f"returned columns {frame.columns}, expected {list(FINDINGS_SCHEMA)}")
    frame = frame.cast(FINDINGS_SCHEMA)
    # One pass over the frame for the three checks (each its own pass cost more than the check's own work).
    statuses, severities, wrong_id = frame.select(
        pl.col("status").unique().implode(),
        pl.col("severity").unique().implode(),
        (pl.col("control_id") != query.control_id).sum(),
    ).row(0)
    bad_status = set(statuses) - set(_QUERY_STATUSES)
    bad_severity = set(severities) - set(SEVERITIES)
    if bad_status or bad_severity:
        raise ValueError(f"unknown status {sorted(map(str, bad_status))} or severity {sorted(map(str, bad_severity))}")
    if wrong_id:
        raise ValueError(f"{wrong_id} row(s) carry a control_id other than {query.control_id}")
    return frame


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA)


_STORE_NUMBERS = itertools.count(1)


@contextlib.contextmanager
def materialised_models(
    con: duckdb.DuckDBPyConnection, queries: Sequence[Query], policy: Policy, as_of: date | None
) -> Iterator[dict[str, str]]:
    """Each model that two or more of the queries use, computed once as of `as_of` into a table of a
    private in-memory database attached for the run (so the work the controls share is done once, and
    the audit database stays read-only); yields model -> table for `run_query(stored=...)`.

    A model only one query uses stays inline in it: storing it would cost a table write and lose the
    projection and filter pushdown into it, and save nothing. So does a model that reads a log
    (LOG_TABLES: audit, usage or diagnostic events, itself or through another model): stored, it would
    copy the events, where inline each reader reads only its own columns and days (100M events: storing
    audit_bulk_rule and audit_event_system_rule took 81 s, and five controls ran out of memory). A model
    that cannot be built is left out: the queries that use it compute it inline and report their own
    error."""
    readers = Counter(m.name for q in queries for m in q.models)
    needed = [
        m
        for m in {m.name: m for q in queries for m in q.models}.values()
        if readers[m.name] > 1 and not tables_read(m) & LOG_TABLES
    ]
    if not needed or not isinstance(con, duckdb.DuckDBPyConnection):
        yield {}  # another engine (Spark) runs each query with its models inlined as CTEs
        return
    store = f"check_models_{next(_STORE_NUMBERS)}"
    # duckdb: an in-memory database attached beside a read-only one takes writes (Spark: temp views).
    con.execute(f"attach ':memory:' as {store} (read_only false)").fetchall()
    stored: dict[str, str] = {}
    try:
        for model in needed:
            cur = con.cursor()
            try:
                cur.execute("set enable_progress_bar = false").fetchall()  # stdout may carry the findings
                sql = model.sql_with(stored)
                cur.execute(
                    f"create table {store}.{model.name} as\n{sql}", bind_used(model, sql, {"as_of": as_of}, policy)
                )
                cur.fetchall()
                stored[model.name] = f"{store}.{model.name}"
            except Exception:
                continue  # the controls that read it compute it inline and report the failure
            finally:
                cur.close()
        yield stored
    finally:
        con.execute(f"detach {store}").fetchall()


# Controls run two at a time (the machines have two or more cores): most are small queries that leave a core
# idle while DuckDB plans them, moves their result or runs a single-threaded step, so two overlap well.
_PARALLEL_QUERIES = 2


def evaluate_controls(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date | None,
    queries: Sequence[Query],
    *,
    ahead: int | None = _PARALLEL_QUERIES,
    seconds: dict[str, float] | None = None,
) -> Iterator[tuple[Query, pl.DataFrame]]:
    """Each query's findings frame in turn (a `skip` row when its export is missing, an `error` row
    when it fails), so a caller can keep or store one control at a time. Which sources are loaded is
    read once for all of them.

    `ahead`: how many controls may be started before the caller takes the first of them (None: all, for a
    caller that keeps every frame anyway: a free slot then never waits for the caller to take an earlier,
    longer control). `seconds`, when given, receives each evaluated control's own wall seconds by id."""
    sources = loaded_sources(con)
    if as_of is None and policy.exceptions.waivers:
        # Waivers are judged on the as-of date, so resolve it even for controls that take none.
        with contextlib.suppress(ValueError):
            as_of = default_as_of(con)
    notes = {folder: note for folder, (_, note) in sources.items() if note}
    runnable = [q for q in queries if all(sources.get(f, (False,))[0] for f in q.requires)]
    if as_of is None and any("as_of" in m.params for q in runnable for m in q.models):
        with contextlib.suppress(ValueError):
            as_of = default_as_of(con)  # else the models are left to each control, which reports the error
    with materialised_models(con, runnable if as_of is not None else [], policy, as_of) as stored:
        as_of_error: ValueError | None = None
        if as_of is None and any("as_of" in q.params for q in runnable):
            # Resolved only when a control needs it, so an empty database still gets its skip rows.
            try:
                as_of = default_as_of(con)
            except ValueError as exc:
                as_of_error = exc  # each control that needs the date reports it
        # At most `ahead` controls started and not yet taken: the caller may store each frame before the next.
        pending: deque[tuple[Query, Future]] = deque()
        with _query_pool(con, min(_PARALLEL_QUERIES, len(runnable))) as pool:
            for query in queries:
                unknown = [f for f in query.requires if f not in sources]
                missing = [f for f in query.requires if f in sources and not sources[f][0]]
                if unknown:
                    job = _done(_frame([_error_row(query, ValueError(f"requires unknown source(s) {unknown}"))]))
                elif missing:
                    job = _done(_frame([_skip_row(query, missing, notes)]))
                else:
                    args = (con, policy, as_of, as_of_error, query, stored)
                    job = pool.submit(_timed, seconds, str(query.control_id), _evaluate, *args)
                pending.append((query, job))
                if len(pending) == ahead:
                    done, job = pending.popleft()
                    yield done, job.result()
            while pending:
                done, job = pending.popleft()
                yield done, job.result()


@contextlib.contextmanager
def _query_pool(con: duckdb.DuckDBPyConnection, concurrent: int) -> Iterator[Executor]:
    """An executor for the control queries, `concurrent` (at most _PARALLEL_QUERIES) of them at a time: threads
    for DuckDB (each query runs on its own cursor, see `run_query`), the caller's thread for another engine
    (Spark). Work not yet started is cancelled when the caller stops early; the executor waits for what runs, so
    models are detached only after it."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        yield _InlineExecutor()
        return
    with _threads_shared(con, concurrent):
        pool = ThreadPoolExecutor(max_workers=_PARALLEL_QUERIES, thread_name_prefix="control")
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # before the thread setting is restored


# Per database instance, the settings it had before the first of the checks now running on it changed them (only
# those it changed) and how many such checks run. The settings belong to the instance, which every connection to
# the same file in this process shares (two dashboard downloads of the full findings): the first check to start
# changes them and the last to end restores them, so checks that end out of order cannot leave them changed.
@dataclass
class _HeldSettings:
    """The settings the first check on a database instance changed, and how many checks now run on it."""

    previous: dict[str, str]  # setting name -> its value before that first check
    checks: int = 0


_THREADS_LOCK = threading.Lock()
_threads_held: dict[str, _HeldSettings] = {}


@contextlib.contextmanager
def _threads_shared(con: duckdb.DuckDBPyConnection, queries: int) -> Iterator[None]:
    """DuckDB's threads split between `queries` concurrent queries, and insertion order not preserved, for the
    duration; then both restored.

    Each query's calling thread works on it beside DuckDB's workers, which serve every query of the database:
    with two queries in flight and `threads` at the core count, more threads than cores contended (and waited)
    for the cores. Measured at 1M events on two cores (load about 2.5): a check took 4.0-4.1 CPU s that way and
    3.2 CPU s with one thread per query, in less wall time. The settings belong to the database, so a caller
    running other queries on it meanwhile gets them too (a check is short)."""
    key = _instance_key(con)
    with _THREADS_LOCK:
        held = _threads_held.get(key)
        if held is None:
            held = _threads_held[key] = _HeldSettings(_lower_threads(con, queries) | _unordered(con))
        held.checks += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            held.checks -= 1
            if held.checks == 0:
                del _threads_held[key]
                for name, value in held.previous.items():  # names and values from the two functions below, never data
                    con.execute(f"set {name} = {value}").fetchall()


def _instance_key(con: duckdb.DuckDBPyConnection) -> str:
    """The database instance `con` works on: its file (shared by every connection to it in this process), or
    for an in-memory database the connection itself."""
    rows = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchall()
    path = rows[0][0] if rows else None
    return f"file:{path}" if path else f"memory:{id(con)}"


def _lower_threads(con: duckdb.DuckDBPyConnection, queries: int) -> dict[str, str]:
    """Sets `con`'s threads to their share for `queries` concurrent queries; {"threads": the setting before}, or
    nothing when it stays (one query, one thread, or a setting DuckDB refuses such as fewer threads than
    external_threads)."""
    threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
    share = max(1, threads // max(1, queries))
    if share == threads:
        return {}
    try:
        con.execute(f"set threads = {share}").fetchall()  # an int, never data
    except duckdb.Error:
        return {}
    return {"threads": str(threads)}


def _unordered(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Turns off `preserve_insertion_order`; {"preserve_insertion_order": "true"} when it was on, else nothing.

    No control's findings depend on the order rows flow between its operators (each ends in an ORDER BY, keeps its
    evidence by explicit keys with ties broken by id, and Spark, which keeps no such order, must give the same
    findings: tests/test_spark_parity.py), and run_controls sorts the findings. Keeping the order costs: measured at
    1M events (load 8.5-14), 13 cold checks alternated with main's: 3.3-4.7 CPU s (mean 3.9) without it against
    3.6-4.8 (mean 4.3) with it, lower in 10 of the 13 pairs, same findings. At 10M (load 17-21) two pairs showed
    no difference (23.5-25.9 CPU s against 23.6-24.9)."""
    if not con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]:
        return {}
    con.execute("set preserve_insertion_order = false").fetchall()
    return {"preserve_insertion_order": "true"}


def _done(result: Any) -> Future:
    future: Future = Future()
    future.set_result(result)
    return future


class _InlineExecutor(Executor):
    """Runs each submitted call at once in the caller's thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return _done(fn(*args, **kwargs))


def _timed(seconds: dict[str, float] | None, key: str, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(*args)`, its wall seconds put into `seconds[key]` when `seconds` is given."""
    started = time.perf_counter()
    result = fn(*args)
    if seconds is not None:
        seconds[key] = time.perf_counter() - started
    return result


def _evaluate(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date | None,
    as_of_error: ValueError | None,
    query: Query,
    stored: dict[str, str],
) -> pl.DataFrame:
    """One control's conformed, waived findings, or its `error` row (isolation is the point)."""
    try:
        if as_of is None and "as_of" in query.params and as_of_error is not None:
            raise as_of_error
        frame = conform(query, run_query(con, query, {"as_of": as_of}, policy, stored))
        return apply_waivers(frame, policy.exceptions, as_of)
    except Exception as exc:
        return _frame([_error_row(query, exc)])


def run_controls(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date | None = None,
    control_ids: Iterable[str] | None = None,
    sections: Iterable[str] | None = None,
    *,
    root: Path = QUERY_DIR,
) -> pl.DataFrame:
    """Every selected control's findings as of `as_of` (default: `default_as_of`), sorted by
    (control_id, resource) and then by the remaining columns, so a run is reproducible."""
    selected = select_controls(control_ids, sections, root)
    previous: dict[str, float] = {}
    if has_stored_runs(con):
        if as_of is None:
            with contextlib.suppress(ValueError):
                as_of = default_as_of(con)  # the stored runs are looked up by it (else evaluate_controls resolves it)
        previous = _stored_seconds(con, policy, as_of) if as_of is not None else {}
    # The costliest controls first, by their seconds in the run stored with the findings of the same data and
    # policy (when there is one): the last to run, beside a slot with nothing left to take, are then short ones.
    # Every frame is kept and the findings sorted below, so neither the order nor `ahead` changes them.
    ordered = sorted(selected, key=lambda q: -previous.get(str(q.control_id), 0.0))
    parts = [frame for _, frame in evaluate_controls(con, policy, as_of, ordered, ahead=None)]
    return sort_findings(pl.concat(parts, how="vertical") if parts else _frame([]))


def has_stored_runs(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `con` is a DuckDB database holding stored control runs (compliance.stored_findings)."""
    if not isinstance(con, duckdb.DuckDBPyConnection):
        return False
    cur = con.cursor()
    try:
        return bool(cur.sql("select count(*) from duckdb_tables() where table_name = 'findings_runs'").fetchall()[0][0])
    finally:
        cur.close()


def _stored_seconds(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> dict[str, float]:
    """Each control's wall seconds in the run stored for `as_of` under this policy; empty when none is."""
    runs = run_query(con, "findings_stored_runs", {"as_of": as_of, "policy_digest": policy.digest})
    return {str(c): float(s) for c, s in runs.select("control_id", "seconds").iter_rows() if s is not None}


_ORDER_KEYS = ("control_id", "resource", "status", "severity", "observed_at", "reason")


def sort_findings(frame: pl.DataFrame) -> pl.DataFrame:
    """Findings in their reproducible order: (control_id, resource), then the remaining columns.

    A control gives one row per resource (tests/test_check_order.py), so the first two keys usually decide the
    order alone; the sort then leaves out the long reason texts, which cost it about half its time (at 1M events,
    112k rows: 0.28 CPU s with every key, 0.15 with the check for ties included)."""
    keys = list(_ORDER_KEYS)
    if frame.select(pl.struct(keys[:2]).is_duplicated().any()).item() is False:
        keys = keys[:2]  # no two rows share (control_id, resource): the later keys never decide anything
    return frame.sort(keys, nulls_last=True, maintain_order=True)
