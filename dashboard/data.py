"""The dashboard's only Streamlit-aware data module: the database, cached queries and control results.

- One read-only DuckDB connection per database file version (a cached resource keyed on path and
  mtime, so a re-ingest, which publishes a new file by rename, gets a fresh connection); every call
  works on its own cursor, because one connection refuses concurrent use from Streamlit's threads.
- Query results are cached on (query name, SQL digest, parameters, database version, policy digest):
  editing a `.sql` file, re-ingesting or changing a threshold in settings.yaml invalidates them.
- Controls are read from the findings ingest stored in the database when they are fresh (same SQL,
  policy and as-of date: compliance.stored_findings), and run live otherwise. Either way they are
  cached one by one per (control, SQL digest, as-of date, database version). Only small results are
  kept: the per-control status counts, and the rows that are not `ok` (plus the `ok` rows
  of controls that return few), never the tens of thousands of `ok` rows a big control examines.

Pages never hold SQL: they call `query(name, **params)` or `controls(as_of)` and chart the frames.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from compliance.audit_database import connect_current, connect_read_only
from compliance.catalog import Catalog, load_catalog
from compliance.config.bundle import DEFAULT_POLICY_DIR, Policy, load_policy
from compliance.controls import FINDINGS_SCHEMA, STATUSES, default_as_of, run_controls, select_controls
from compliance.identities import Identities
from compliance.queries import Query, load_queries, run_query
from compliance.reports import control_summary
from compliance.source_staleness import SourceCoverage
from compliance.source_staleness import source_coverage as coverage_of
from compliance.stored_findings import findings_as_of, fresh_controls
from dashboard import auth

DB_ENV = "COMPLIANCE_DB"
MEMORY_ENV = "COMPLIANCE_DASHBOARD_MEMORY"  # DuckDB memory_limit of the dashboard's connection
# Results hold real identifiers (pseudonyms are applied on the page, per viewer), so every cache stays in
# memory: never `persist="disk"`, which would pickle them to ~/.streamlit/cache. A restarted server reads
# the findings ingest stored in the database instead of re-running the controls.
SMALL_OK = 500  # a control's `ok` rows are kept when it returns at most this many
MAX_KEPT_ROWS = 20_000  # cap on the non-ok rows kept per control (the summary still counts them all)


@dataclass(frozen=True)
class Database:
    """One version of the audit database: a re-ingest changes `mtime_ns`, and with it every cache key."""

    path: str
    mtime_ns: int
    size: int

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class ControlResults:
    summary: pl.DataFrame  # control_summary's columns + description, default_severity, rows_kept
    findings: pl.DataFrame  # the kept rows, in the findings schema


def database_path() -> Path:
    """`COMPLIANCE_DB` (set by `compliance serve`), else the demo database, built on first use."""
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env)
    from compliance.demo_database import ensure_demo_database

    return ensure_demo_database(log=lambda _msg: None)


def database() -> Database:
    path = database_path().resolve()
    stat = path.stat()  # FileNotFoundError names the path: the app shows it
    return Database(str(path), stat.st_mtime_ns, stat.st_size)


# --- connection and policy --------------------------------------------------------------------


def _close(con: duckdb.DuckDBPyConnection) -> None:
    con.close()


_open: dict[str, duckdb.DuckDBPyConnection] = {}  # the newest connection per database path
_open_lock = threading.Lock()


@st.cache_resource(max_entries=2, show_spinner=False, on_release=_close)
def _connection(path: str, mtime_ns: int) -> duckdb.DuckDBPyConnection:
    with _open_lock:
        # DuckDB hands a new connection the instance already open for that path, i.e. the file that a
        # re-ingest just replaced: close the old one first, so the path is opened afresh.
        stale = _open.pop(path, None)
        if stale is not None:
            stale.close()
        con = connect_current(path)  # an older database is named with the way to update it, not failed page by page
        _open[path] = con
    # A bound keeps the server's footprint predictable on big data; DuckDB spills beyond it.
    con.execute("SET memory_limit = $limit", {"limit": os.environ.get(MEMORY_ENV, "1GB")}).fetchall()
    return con


@contextmanager
def cursor(db: Database | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh cursor on the database's shared read-only connection, closed after the call."""
    db = db or database()
    cur = _connection(db.path, db.mtime_ns).cursor()
    try:
        yield cur
    finally:
        cur.close()


_STAMP_SECONDS = 1.0  # file stamps are re-read at most this often (one page run reads them dozens of times)
_stamps: dict[str, tuple[float, Any]] = {}


def _recent(name: str, compute: Callable[[], Any]) -> Any:
    now = time.monotonic()
    hit = _stamps.get(name)
    if hit is None or now - hit[0] > _STAMP_SECONDS:
        hit = (now, compute())
        _stamps[name] = hit
    return hit[1]


def _policy_stamp() -> tuple[tuple[str, int], ...]:
    return _recent(
        "policy",
        lambda: tuple((p.name, p.stat().st_mtime_ns) for p in sorted(DEFAULT_POLICY_DIR.iterdir()) if p.is_file()),
    )


def control_catalog() -> Catalog:
    """The control catalog, its files' stamps re-checked at most once a second (a page run asks for it over
    a hundred times: titles, pages, plain-language reasons; each check stats some sixty files)."""
    return _recent("catalog", load_catalog)


def _queries() -> dict[str, Query]:
    """Every query file, re-read when one changes (checked at most once a second)."""
    return _recent("queries", load_queries)


@st.cache_resource(max_entries=2, show_spinner=False)
def _policy(stamp: tuple[tuple[str, int], ...]) -> Policy:
    return load_policy()


def policy() -> Policy:
    """The repository's policy (thresholds for the queries), reloaded when a policy file changes."""
    return _policy(_policy_stamp())


# --- queries ----------------------------------------------------------------------------------


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple | set | frozenset) else value


@st.cache_data(max_entries=1024, show_spinner=False)
def _run(
    name: str, digest: str, params: tuple[tuple[str, Any], ...], path: str, mtime_ns: int, policy_digest: str
) -> pl.DataFrame:
    # digest and policy_digest are unused in the body: they are there to key the cache.
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in params}
    db = Database(path, mtime_ns, 0)
    with cursor(db) as cur:
        return run_query(cur, _queries()[name], values, policy())


def query(name: str, **params: Any) -> pl.DataFrame:
    """The named query's result (cached). Parameters not given come from the policy settings."""
    q = _queries()[name]
    db = database()
    key = tuple(sorted((k, _hashable(v)) for k, v in params.items()))
    return _run(name, q.digest, key, db.path, db.mtime_ns, policy().digest)


@st.cache_resource(max_entries=2, show_spinner=False)
def _known_people(digest: str, path: str, mtime_ns: int, policy_digest: str) -> Identities:
    # One object per database version: every page run asked for it, and building its lookup and its pattern of
    # multi-word ids again took 0.14 s of each warm page at 100M events. Built from the cached result of that very
    # version (not `query`, which would look at the file again). Held in memory only, like the query results.
    return Identities.from_frame(_run("known_identifiers", digest, (), path, mtime_ns, policy_digest))


def identities(reveal: bool = False) -> Identities:
    """The people the database knows (actors and subjects), pseudonymised on screen unless `reveal`."""
    db = database()
    known = _known_people(_queries()["known_identifiers"].digest, db.path, db.mtime_ns, policy().digest)
    return Identities(known.kinds, reveal=True) if reveal else known


def revealable_identities(label: str, *, key: str, what: str, help: str, known: Identities | None = None) -> Identities:
    """The people the database knows (`known`, when the page has them already) behind a reveal toggle
    (`auth.reveal_toggle`, its arguments): pseudonymised unless an investigator switches it on, which is logged."""
    reveal = auth.reveal_toggle(label, key=key, what=what, help=help)
    if known is None:
        return identities(reveal=reveal)
    return known if known.reveal == reveal else Identities(known.kinds, reveal=reveal)


def queries_digest() -> str:
    """One digest over every query file: shown in the sidebar, so a screenshot names the SQL it ran."""
    import hashlib

    h = hashlib.sha256()
    for name, q in sorted(_queries().items()):
        h.update(name.encode())
        h.update(q.digest.encode())
    return h.hexdigest()[:12]


@st.cache_data(max_entries=8, show_spinner=False)
def _default_as_of(path: str, mtime_ns: int) -> date | None:
    with cursor(Database(path, mtime_ns, 0)) as cur:
        try:
            return default_as_of(cur)
        except ValueError:
            return None


def as_of_default() -> date | None:
    """The newest date in the loaded data (the controls' own default); None for an empty database."""
    db = database()
    return _default_as_of(db.path, db.mtime_ns)


# --- controls ---------------------------------------------------------------------------------


def catalog() -> pl.DataFrame:
    """Every control: id, plain title, policy section, default severity, what it checks in words (settings
    as their current values, never `$name`) and its SQL digest."""
    settings = policy().parameters()
    columns = ("control_id", "title", "policy_section", "default_severity", "description", "digest")
    cat = control_catalog()
    rows = [
        (c.id, c.title, c.section, c.severity, cat.description(c.id, settings), c.query.digest) for c in cat.values()
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String), orient="row")


def page_controls(page_key: str) -> list[str]:
    """The ids of the controls a page presents, in their catalog order on it (compliance.catalog)."""
    return control_catalog().ids_on_page(page_key)


def _trim(findings: pl.DataFrame) -> pl.DataFrame:
    ok = findings.filter(pl.col("status") == "ok")
    rest = findings.filter(pl.col("status") != "ok")
    # Alarms first, so the cap never drops an alarm in favour of an info row.
    rest = rest.sort(pl.col("status").replace_strict({"alarm": 0, "error": 1}, default=2), maintain_order=True)
    kept = rest.head(MAX_KEPT_ROWS)
    if ok.height <= SMALL_OK:
        kept = pl.concat([kept, ok])
    return kept.sort(["control_id", "resource"], nulls_last=True, maintain_order=True)


def _stored_controls(
    cur: duckdb.DuckDBPyConnection, control_ids: list[str], as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The controls' summaries and kept rows from the findings ingest stored (aggregated in DuckDB)."""
    params = {"as_of": as_of, "control_ids": control_ids}
    summary = run_query(cur, _queries()["findings_stored_summary"], params)
    kept = run_query(
        cur, _queries()["findings_stored_rows"], params | {"small_ok": SMALL_OK, "max_rows": MAX_KEPT_ROWS}
    )
    return summary, kept.cast(FINDINGS_SCHEMA)


def _live_control(cur: duckdb.DuckDBPyConnection, control_id: str, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    findings = run_controls(cur, policy(), as_of, control_ids=[control_id])
    return control_summary(findings), _trim(findings)


@st.cache_data(max_entries=8, show_spinner=False)
def _fresh(as_of: date, path: str, mtime_ns: int, policy_digest: str, queries: str) -> frozenset[str]:
    # The controls whose findings ingest stored for this as-of date, SQL and policy.
    with cursor(Database(path, mtime_ns, 0)) as cur:
        return frozenset(fresh_controls(cur, policy(), as_of))


def _counted(control_id: str, summary: pl.DataFrame, kept: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A control's summary (zeros when it returned no rows: it had nothing to examine) with its kept row count."""
    if summary.height == 0:
        row = {"control_id": control_id, "policy_section": select_controls([control_id])[0].section, "rows": 0}
        row |= {s: 0 for s in STATUSES} | {"highest_severity": None, "note": None}
        summary = pl.DataFrame([row], schema=summary.schema)
    return summary.with_columns(pl.lit(kept.height, pl.Int64).alias("rows_kept")), kept


@st.cache_data(max_entries=28 * 12, show_spinner=False)
def _live_control_cached(
    control_id: str, digest: str, as_of: date, path: str, mtime_ns: int, policy_digest: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    # Cached on its own, so pages and as-of dates share a control's live run, the expensive part. digest and
    # policy_digest are unused in the body: they are there to key the cache.
    with cursor(Database(path, mtime_ns, 0)) as cur:
        return _counted(control_id, *_live_control(cur, control_id, as_of))


@st.cache_data(max_entries=64, show_spinner=False)
def _stored_controls_cached(
    control_ids: tuple[str, ...], as_of: date, path: str, mtime_ns: int, policy_digest: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    # Every stored control of a page in two queries (the Overview's 28: 2 queries instead of 56, 100M events:
    # about 0.6 s less on a cold page).
    with cursor(Database(path, mtime_ns, 0)) as cur:
        return _stored_controls(cur, list(control_ids), as_of)


@st.cache_data(
    max_entries=64,
    show_spinner="Evaluating the controls as of this date: once per date and database, cached afterwards.",
)
def _controls(
    controls: tuple[tuple[str, str], ...], as_of: date, path: str, mtime_ns: int, policy_digest: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    # A page's set of controls in one entry (one key, two frames to unpickle on a warm rerun): the ones whose
    # findings ingest stored for this date, SQL and policy read together, the others run live one by one.
    fresh = _fresh(as_of, path, mtime_ns, policy_digest, queries_digest())
    stored_ids = tuple(control_id for control_id, _ in controls if control_id in fresh)
    if stored_ids:
        stored_summary, stored_kept = _stored_controls_cached(stored_ids, as_of, path, mtime_ns, policy_digest)
    summaries, rows = [], []
    for control_id, digest in controls:
        if control_id in fresh:
            of_control = pl.col("control_id") == control_id
            summary, kept = _counted(control_id, stored_summary.filter(of_control), stored_kept.filter(of_control))
        else:
            summary, kept = _live_control_cached(control_id, digest, as_of, path, mtime_ns, policy_digest)
        summaries.append(summary)
        rows.append(kept)
    empty = pl.DataFrame(schema=FINDINGS_SCHEMA)
    summary = pl.concat(summaries) if summaries else control_summary(empty)
    return summary, (pl.concat(rows) if rows else empty)


def controls(as_of: date, control_ids: Iterable[str] | None = None) -> ControlResults:
    """The controls' results as of `as_of` (all controls, or those given)."""
    db = database()
    cat = catalog()
    if control_ids is not None:
        cat = cat.filter(pl.col("control_id").is_in(list(control_ids)))
    key = tuple(cat.select("control_id", "digest").iter_rows())
    summary, findings = _controls(key, as_of, db.path, db.mtime_ns, policy().digest)
    summary = summary.join(
        cat.select("control_id", "title", "default_severity", "description"), on="control_id", how="left"
    ).sort("control_id")
    return ControlResults(summary=summary, findings=findings)


def full_findings_loader(as_of: date) -> Callable[[], pl.DataFrame]:
    """A function that returns every row of every control, `ok` rows included, never cached.

    For a deferred download: Streamlit calls it on another thread, outside the script run, so it
    opens its own read-only connection instead of touching the cached resources.
    """
    db, pol = database(), policy()

    def load() -> pl.DataFrame:
        with connect_read_only(db.path) as con:
            return findings_as_of(con, pol, as_of)  # stored rows where fresh, live otherwise

    return load


def clear_caches() -> None:
    """Drop every cached result and connection (the benchmark's cold start)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    with _open_lock:
        _open.clear()


# --- how far each source reaches (compliance.source_staleness) ------------------------------------


def source_coverage(as_of: date, source: str) -> SourceCoverage:
    """How far `source`'s data reaches against `as_of`, judged by settings.freshness.stale_after_days."""
    return coverage_of(query("freshness_by_source"), as_of, policy().settings.freshness.stale_after_days, source)
