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

A daily load refreshes them incrementally (`refresh_findings`): a control whose tables the load did
not change keeps its stored rows (when the as-of date moved on, only if its sidecar says the date
merely bounds what it reads: `incremental.as_of: bound`); a control in `window` mode is evaluated
only from the earliest audit event date the load changed, over the audit events of its look-back
before it, and merged with its stored rows of earlier dates; every other control runs in full. Which
event dates changed is found by comparing a per-date fingerprint of `audit_events` kept beside the
findings (`findings_event_days`), so late, re-delivered and replaced events count wherever they fall; a load
of audit events alone fingerprints again only the dates of the events it added, replaced or re-roled
(`changed_event_dates(candidates=...)`), not the history.
tests/test_incremental_findings.py proves the refreshed findings equal a full evaluation, row for row.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from compliance.catalog import Incremental, load_catalog
from compliance.config.bundle import Policy
from compliance.controls import (
    FINDINGS_SCHEMA,
    conform,
    default_as_of,
    evaluate_controls,
    has_stored_runs,
    loaded_sources,
    run_controls,
    select_controls,
    sort_findings,
)
from compliance.ingest.derive import DAILY_ROLLUP_TABLES, DERIVED_TABLES, TOTALS_TABLES
from compliance.queries import Query, bind, read_instead, run_query, tables_read, with_dimensions
from compliance.schema import EVENT_TABLES
from compliance.waivers import apply_waivers

__all__ = [
    "LoadChanges",
    "changed_event_dates",
    "findings_as_of",
    "fresh_controls",
    "refresh_findings",
    "store_findings",
]

_COLUMNS = ", ".join(FINDINGS_SCHEMA)
# What a window-mode control may read among the tables a load changed: the audit events (read from the window's
# dates on), their per-day rollups and those rollups' all-time totals (read whole: recomputed for every changed day
# before the refresh) and the category lists (a load of audit events only adds lists: the key of a stored list never
# changes).
_WINDOW_TABLES = frozenset({"audit_events", *DAILY_ROLLUP_TABLES, *TOTALS_TABLES, "audit_category_lists"})


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
    _store_full(con, policy, as_of, selected, progress, len(selected))
    _write_event_days(con)
    if progress:
        progress("", len(selected), len(selected))
    return as_of


def _store_full(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date,
    queries: Sequence[Query],
    progress: Callable[[str, int, int], None] | None,
    total: int,
    done: int = 0,
) -> int:
    """Evaluate `queries` whole and store their findings; returns `done` plus their count."""
    # Bounded memory: each frame is stored before the next is taken (evaluate_controls keeps at most two
    # controls in flight). Each control's own seconds are stored: run_controls starts the costliest first.
    seconds: dict[str, float] = {}
    for query, frame in evaluate_controls(con, policy, as_of, queries, seconds=seconds):
        done += 1
        if progress:
            progress(str(query.control_id), done, total)
        _store_frame(con, policy, as_of, query, frame, seconds.get(str(query.control_id), 0.0))
    return done


def _store_frame(
    con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date, query: Query, frame: pl.DataFrame, seconds: float
) -> None:
    if frame.filter(pl.col("status") == "error").height:
        # A control that failed here (say, out of memory) is not stored: readers run it live, and
        # the next ingest finds it missing, so stale, and tries again.
        return
    # DuckDB scans the Polars frame in place (replacement scan by its variable name).
    con.execute(f"insert into findings select {_COLUMNS}, $as_of from frame", {"as_of": as_of}).fetchall()
    _store_run(con, policy, as_of, query, frame.height, seconds)


def _store_run(
    con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date, query: Query, rows: int, seconds: float
) -> None:
    con.execute(
        "insert into findings_runs values ($control, $as_of, $sql, $policy, $rows, $seconds)",
        {
            "control": query.control_id,
            "as_of": as_of,
            "sql": query.digest,
            "policy": policy.digest,
            "rows": rows,
            "seconds": round(seconds, 3),
        },
    ).fetchall()


def clear_findings(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every stored finding (a load that does not evaluate the controls publishes none)."""
    con.execute("delete from findings").fetchall()
    con.execute("delete from findings_runs").fetchall()
    con.execute("delete from findings_event_days").fetchall()


# --- incremental refresh ----------------------------------------------------------------------

_LOAD_TABLES = frozenset({"load_manifest", "load_runs", "rejects"})


@dataclass(frozen=True)
class LoadChanges:
    """What one load changed, so stored findings are refreshed only where it can matter.

    `tables`: every table whose rows the load may have changed (sources it loaded into, what their
    enrichment or derived tables were recomputed from them); `previous_as_of`: the default as-of date
    before the load (stored findings are reused only when they were evaluated for it); `everything`:
    the policy or the database layout changed, so every control runs in full."""

    tables: frozenset[str]
    previous_as_of: date | None
    everything: bool = False
    reenriched: bool = False  # every event row's enrichment was recomputed (not only new rows)
    # The load took the fingerprint of the audit events as they are now (changed_event_dates, after its
    # last change to them): the refresh compares it instead of scanning every event again.
    fingerprint_taken: bool = False

    @classmethod
    def after_load(
        cls,
        loaded_tables: Iterable[str],
        reference_changed: bool,
        previous_as_of: date | None,
        everything: bool,
        fingerprint_taken: bool = False,
    ) -> LoadChanges:
        """The changes of a load that put rows into `loaded_tables`; `reference_changed` when a source the
        enrichment is computed from (directory, subjects, tenants, DSR register, identities) was loaded,
        which re-enriches every event table (compliance.ingest.enrich.rebuild)."""
        tables = set(loaded_tables)
        if tables:
            tables |= _LOAD_TABLES
        if reference_changed:
            tables |= EVENT_TABLES | {"subject_jurisdictions"}
        if "directory_accounts" in tables:
            tables.add("audit_events")  # actor roles of past events (enrich.apply_role_changes)
        for source, rebuilt in DERIVED_TABLES.items():
            if source in tables:
                tables |= rebuilt
        return cls(frozenset(tables), previous_as_of, everything, reference_changed, fingerprint_taken)


@dataclass(frozen=True)
class RefreshPlan:
    """How each control's stored findings were refreshed: `reused`, `window` (from `since`) or `full`."""

    as_of: date | None
    modes: dict[str, str]
    since: date | None = None


def refresh_findings(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    changes: LoadChanges | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RefreshPlan:
    """Bring the stored findings to the data's newest date after a load, re-evaluating only what the
    load can have changed (module docstring). Without `changes` (or when it changed everything) it
    is `store_findings`."""
    selected = select_controls()
    everything = RefreshPlan(None, {str(q.control_id): "full" for q in selected})
    if changes is None or changes.everything or changes.previous_as_of is None:
        return RefreshPlan(store_findings(con, policy, progress=progress), everything.modes)
    try:
        as_of = default_as_of(con)
    except ValueError:
        clear_findings(con)
        return RefreshPlan(None, everything.modes)
    stored = _stored_runs(con, policy, changes.previous_as_of)
    since = _earliest_changed_date(con, taken=changes.fingerprint_taken)
    sources = loaded_sources(con)
    catalog = load_catalog()
    modes: dict[str, str] = {}
    for query in selected:
        inc = catalog[str(query.control_id)].entry.incremental
        fresh = stored.get(str(query.control_id)) == query.digest and all(
            sources.get(f, (False,))[0] for f in query.requires
        )
        modes[str(query.control_id)] = _mode(query, inc, policy, changes, as_of, since) if fresh else "full"
    return _apply(con, policy, as_of, selected, modes, since, progress)


def _stored_runs(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> dict[str, str]:
    """control -> SQL digest of the findings stored for `as_of` under this policy."""
    rows = con.execute(
        "select control_id, sql_digest from findings_runs where as_of = $as_of and policy_digest = $policy",
        {"as_of": as_of, "policy": policy.digest},
    ).fetchall()
    return dict(rows)


def _mode(
    query: Query, inc: Incremental, policy: Policy, changes: LoadChanges, as_of: date, since: date | bool | None
) -> str:
    old = changes.previous_as_of
    assert old is not None
    if as_of < old or not _waivers_unchanged(policy, str(query.control_id), old, as_of):
        return "full"
    changed = tables_read(query) & changes.tables
    same_date = as_of == old or inc.as_of == "bound"
    if not changed and same_date:
        return "reused"
    # A re-enriched table changed in columns the fingerprint does not cover: no window can be trusted.
    windowable = changed <= _WINDOW_TABLES and not changes.reenriched and since is not True
    if windowable and inc.mode == "window" and same_date:
        return "reused" if since is None else "window"
    return "full"


def _waivers_unchanged(policy: Policy, control_id: str, old: date, new: date) -> bool:
    """True when the same waivers of the control are in force on both dates (stored rows were waived
    as of `old`)."""
    waivers = [w for w in policy.exceptions.waivers if w.control == control_id]
    return all(w.in_force(old) == w.in_force(new) for w in waivers)


def _apply(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    as_of: date,
    selected: Sequence[Query],
    modes: dict[str, str],
    since: date | bool | None,
    progress: Callable[[str, int, int], None] | None,
) -> RefreshPlan:
    full = [q for q in selected if modes[str(q.control_id)] == "full"]
    kept = [str(q.control_id) for q in selected if modes[str(q.control_id)] != "full"]
    _forget_except(con, kept)  # controls run whole below, and any control no longer in the catalog
    # Rows kept from the last load (reused, or windowed below) now stand for the new as-of date.
    con.execute(
        "update findings set as_of = $as_of where control_id in (select unnest($ids))", {"as_of": as_of, "ids": kept}
    ).fetchall()
    con.execute(
        "update findings_runs set as_of = $as_of where control_id in (select unnest($ids))",
        {"as_of": as_of, "ids": kept},
    ).fetchall()
    done = 0
    for query in selected:
        if modes[str(query.control_id)] == "window":
            assert isinstance(since, date)
            if not _refresh_window(con, policy, as_of, query, since):
                modes[str(query.control_id)] = "full"
                kept.remove(str(query.control_id))
                _forget_except(con, kept)
                full.append(query)
                continue
            done += 1
            if progress:
                progress(str(query.control_id), done, len(selected))
    done += sum(1 for m in modes.values() if m == "reused")
    _store_full(con, policy, as_of, full, progress, len(selected), done)
    _write_event_days(con, computed=True)  # the events have not changed since _earliest_changed_date
    if progress:
        progress("", len(selected), len(selected))
    return RefreshPlan(as_of, modes, since if isinstance(since, date) else None)


def _forget_except(con: duckdb.DuckDBPyConnection, kept: list[str]) -> None:
    """Delete the stored findings and runs of every control but `kept`."""
    for table in ("findings", "findings_runs"):
        con.execute(f"delete from {table} where control_id not in (select unnest($ids))", {"ids": kept}).fetchall()


# --- window evaluation ---

_DATED_RESOURCE = re.compile(r"@(\d{4}-\d{2}-\d{2})$")
_WINDOW_START = "window_start"  # the parameter a window's reads of audit events are bound to (no control's own)


def _refresh_window(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date, query: Query, since: date) -> bool:
    """Re-evaluate a window-mode control from `since` on and merge it with its stored rows of earlier
    dates; False (nothing changed) when a row it returned is not tied to a date (with `undated: unless_dated`,
    a row other than an ok row), so it must run whole."""
    started = time.perf_counter()
    inc = load_catalog()[str(query.control_id)].entry.incremental
    settings = policy.parameters()
    # A row of a day before `since` that reads events after its day (the look-ahead) may have changed too.
    since -= timedelta(days=inc.lookahead_days(settings))
    frame = _window_rows(con, policy, as_of, query, since - timedelta(days=inc.lookback_days(settings)))
    # With undated ok rows, those are told from the dated rows by their status, not their resource: an actor id
    # may itself end in a date.
    oks_apart = inc.undated == "unless_dated"
    if oks_apart:
        oks, frame = frame.filter(pl.col("status") == "ok"), frame.filter(pl.col("status") != "ok")
    dates = frame["resource"].str.extract(_DATED_RESOURCE.pattern, 1).str.to_date("%Y-%m-%d", strict=False)
    if dates.null_count():
        return False
    frame = apply_waivers(frame.filter(dates >= since), policy.exceptions, as_of)
    con.execute(
        "delete from findings where control_id = $control and ($every or status <> 'ok')"
        " and try_cast(regexp_extract(resource, $dated, 1) as date) >= $since",
        {"control": query.control_id, "since": since, "dated": _DATED_RESOURCE.pattern, "every": not oks_apart},
    ).fetchall()
    con.execute(f"insert into findings select {_COLUMNS}, $as_of from frame", {"as_of": as_of}).fetchall()
    if oks_apart:
        _merge_oks(con, query, oks, as_of)  # (waivers suppress alarms only)
    rows = con.execute(
        "select count(*) from findings where control_id = $control", {"control": query.control_id}
    ).fetchall()
    con.execute("delete from findings_runs where control_id = $control", {"control": query.control_id}).fetchall()
    _store_run(con, policy, as_of, query, int(rows[0][0]), time.perf_counter() - started)
    return True


def _window_rows(
    con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date, query: Query, start: date
) -> pl.DataFrame:
    """The control's rows evaluated over the audit events dated `start` or later (every other table whole).

    Each read of the events is filtered where it is written, so DuckDB applies the date range inside the scan of
    the columns that read needs (a copy of the window's rows, every column, took 0.8 s at 10M events)."""
    whole = query.sql_with({})
    sql = read_instead(whole, "audit_events", f"(select * from audit_events where event_date >= ${_WINDOW_START})")
    cur = con.cursor()
    try:
        # (DuckDB refuses a parameter the text does not use: a control that reads no audit events gets none)
        params = bind(query, {"as_of": as_of}, policy) | ({_WINDOW_START: start} if sql != whole else {})
        return conform(query, with_dimensions(query, cur.sql(sql, params=params).pl()))
    finally:
        cur.close()


def _merge_oks(con: duckdb.DuckDBPyConnection, query: Query, oks: pl.DataFrame, as_of: date) -> None:
    """Replace the control's ok rows with the window's, each kept only when no other row of its resource
    (`R@D` for R) is stored: the window saw the dated rows of its own dates alone, the findings hold them all."""
    con.execute(
        "delete from findings where control_id = $control and status = 'ok'", {"control": query.control_id}
    ).fetchall()
    con.execute(
        f"""insert into findings
            select {_COLUMNS}, $as_of from oks as u
            where u.resource not in (
                select regexp_replace(f.resource, $dated, '') from findings as f
                where f.control_id = $control and f.status <> 'ok'
            )""",
        {"as_of": as_of, "control": query.control_id, "dated": _DATED_RESOURCE.pattern},
    ).fetchall()


# --- the per-date fingerprint of audit events ---


def _write_event_days(con: duckdb.DuckDBPyConnection, computed: bool = False) -> None:
    """Remember, per event date, how many audit events there are and a digest of their ids, files and
    actor roles: what the next refresh compares to find the dates its load changed. `computed`: the
    fingerprint `_earliest_changed_date` just took of these events (`_event_days_now`) is stored as it is,
    instead of scanning every audit event a second time."""
    con.execute("delete from findings_event_days").fetchall()
    if computed:
        con.execute("insert into findings_event_days select * from _event_days_now").fetchall()
        con.execute("drop table _event_days_now").fetchall()
    else:
        con.execute(f"insert into findings_event_days {_EVENT_DAYS.format(where='')}").fetchall()


# One hash of each event's fields joined into one string: DuckDB's hash of several arguments is XOR-linear in each
# of them (hash(e, f, a) xor hash(e, f, b) is the same for every e and f), so under bit_xor a role change applied
# to an even number of events of one day cancelled out, and a daily load kept that day's rollups and findings.
_EVENT_DAYS = """select event_date, count(*) as events,
    bit_xor(hash(concat_ws(chr(31), event_id, coalesce(source_file_id, chr(30)), coalesce(actor_role, chr(30))))) as digest
from audit_events {where} group by event_date"""


def changed_event_dates(
    con: duckdb.DuckDBPyConnection, taken: bool = False, candidates: Sequence[date] | None = None
) -> list[date] | None:
    """Every event date whose audit events (their ids, files and actor roles) differ from the fingerprint
    stored with the findings, in order; None when no fingerprint is stored, so every date must count as
    changed. The fingerprint of the events now is kept as `_event_days_now` for `_write_event_days`
    (`taken`: it is already there, and the events have not changed since). `candidates`: the only dates
    whose events can have changed since the fingerprint was stored (a daily load's: its new events' and
    those it replaced or re-roled); only they are fingerprinted again, the other dates' rows are copied."""
    stored = con.execute("select count(*) from findings_event_days").fetchall()[0][0]
    if not taken:
        _take_fingerprint(con, candidates if stored else None)
    if not stored:
        return None
    rows = con.execute(
        """select distinct coalesce(c.event_date, s.event_date) as event_date
        from _event_days_now c full join findings_event_days s on s.event_date = c.event_date
        where c.events is distinct from s.events or c.digest is distinct from s.digest
        order by event_date"""
    ).fetchall()
    return [r[0] for r in rows]


def _take_fingerprint(con: duckdb.DuckDBPyConnection, candidates: Sequence[date] | None) -> None:
    """`_event_days_now`: the fingerprint of every date (`candidates` None), or of the candidate dates beside the
    stored rows of the others (a daily load: its days, not the history, are read)."""
    if candidates is None:
        con.execute(f"create or replace temp table _event_days_now as {_EVENT_DAYS.format(where='')}").fetchall()
        return
    days = {"days": sorted(set(candidates))}
    con.execute(
        """create or replace temp table _event_days_now as
        select * from findings_event_days where event_date not in (select unnest($days::date[]))""",
        days,
    ).fetchall()
    on_days = _EVENT_DAYS.format(where="where event_date in (select unnest($days::date[]))")
    con.execute(f"insert into _event_days_now {on_days}", days).fetchall()


def _earliest_changed_date(con: duckdb.DuckDBPyConnection, taken: bool = False) -> date | bool | None:
    """The earliest event date whose audit events differ from when the findings were stored; None when
    none differs, True when it cannot be known (no fingerprint stored)."""
    dates = changed_event_dates(con, taken)
    if dates is None:
        has_events = con.execute("select count(*) > 0 from _event_days_now").fetchall()[0][0]
        return True if has_events else None
    return dates[0] if dates else None


def fresh_controls(con: duckdb.DuckDBPyConnection, policy: Policy, as_of: date) -> set[str]:
    """The ids of the controls whose stored findings for `as_of` match their current SQL and this
    policy (empty for a database built before findings were stored)."""
    if not has_stored_runs(con):
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
        # Every stored row, read as stored: sort_findings below gives the order. (findings_stored_rows with no cap
        # gave the same rows, but its ranking windows cost 48 CPU s over 330k findings at 10M events and minutes
        # at 100M, where reading them takes 0.4 CPU s at 10M.)
        stored = run_query(con, "findings_as_of", {"as_of": as_of, "control_ids": sorted(fresh)})
        parts.append(stored.cast(FINDINGS_SCHEMA))
    if stale:
        parts.append(run_controls(con, policy, as_of, control_ids=stale))
    return sort_findings(pl.concat(parts) if parts else pl.DataFrame(schema=FINDINGS_SCHEMA))
