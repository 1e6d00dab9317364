"""Shared fixtures: a tiny in-memory audit database built from hand-written rows.

`make_db({"audit_events": [{...}, ...], ...})` creates every table of docs/database.md, writes the
reference tables from the repository's policy files, inserts the given rows (absent columns are
NULL) and derives `dsr_deadlines`, `retention_rules_resolved` and the daily rollups, so a query test states its input
and its expected answer literally.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from compliance.config.bundle import Policy, load_policy
from compliance.ingest.derive import (
    LOG_DAYS,
    build_dsr_deadlines,
    build_incident_local_dates,
    build_retention_rules,
    derive_event_rollups,
    derive_log_days,
    derive_usage_subjects,
)
from compliance.ingest.enrich import assign_category_keys
from compliance.ingest.reference import write_reference_tables
from compliance.ingest.tables import create_tables

# Before any import of it: the assert helpers of findings_support then report the differences like a test's own asserts.
pytest.register_assert_rewrite("tests.findings_support")

Rows = Mapping[str, Sequence[Mapping[str, Any]]]
Findings = dict[str, dict[str, Any]]  # resource -> finding (findings_support.Finding)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


def build_db(policy: Policy, rows: Rows, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    con = con or duckdb.connect()
    con.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()  # GLOBAL: cursors start from global settings
    create_tables(con)
    write_reference_tables(con, policy)
    for table, table_rows in rows.items():
        if not table_rows:
            continue
        schema = dict(con.sql(f"SELECT * FROM {table} LIMIT 0").pl().schema)
        frame = pl.DataFrame([{k: r.get(k) for k in schema if k in r} for r in table_rows], infer_schema_length=None)
        con.register("_rows", frame.to_arrow())
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows").fetchall()
        con.unregister("_rows")
    assign_category_keys(con)  # as an ingest keys the category lists of the events it inserted
    build_dsr_deadlines(con, policy)
    build_incident_local_dates(con, policy)
    build_retention_rules(con)
    derive_event_rollups(con, policy=policy)
    derive_usage_subjects(con)
    for log in LOG_DAYS:
        derive_log_days(con, log)
    return con


def build_db_file(policy: Policy, rows: Rows, path: Path) -> Path:
    """build_db into a database file at `path`, closed again, for what opens the file itself (the command line, a
    notebook, the dashboard)."""
    con = duckdb.connect(str(path))
    try:
        build_db(policy, rows, con)
    finally:
        con.close()
    return path


@pytest.fixture
def make_db(policy: Policy) -> Iterator[Callable[[Rows], duckdb.DuckDBPyConnection]]:
    made: list[duckdb.DuckDBPyConnection] = []

    def make(rows: Rows) -> duckdb.DuckDBPyConnection:
        con = build_db(policy, rows)
        made.append(con)
        return con

    yield make
    for con in made:
        con.close()


@pytest.fixture
def control_findings(make_db: Callable[[Rows], duckdb.DuckDBPyConnection], policy: Policy) -> Callable[..., Findings]:
    """`control_findings(query, rows, **params)`: the query run on a database made of `rows`, its findings keyed by
    resource (findings_support.findings_by_resource), the setup every control test shares."""
    from tests.findings_support import findings_by_resource

    def run(query: str, rows: Rows, **params: object) -> Findings:
        return findings_by_resource(make_db(rows), query, policy, **params)

    return run


# --- bundles built once per test session (shared by xdist workers): the demo bundle first ------------

DEMO_TEST_SCALE = 20_000  # audit events asked for; the generator's realism floor yields ~70k


@dataclass(frozen=True)
class DemoBuild:
    export: Path
    truth: Path
    db: Path


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """A small deterministic demo export, its ground truth and its ingested database (built once, see built_once)."""
    from compliance.demo import generate_demo

    def generate(export: Path) -> Path:
        generate_demo(export, seed=7, scale=DEMO_TEST_SCALE, truth_path=export.parent / "export.truth.jsonl")
        return export

    db = built_once(tmp_path_factory, f"demo-{DEMO_TEST_SCALE}", "demo.duckdb", generate)
    return DemoBuild(db.parent / "export", db.parent / "export.truth.jsonl", db)


def built_once(
    tmp_path_factory: pytest.TempPathFactory, folder: str, db_name: str, build: Callable[[Path], Path]
) -> Path:
    """`build(export_dir)`'s export bundle ingested into `<session temp>/<folder>/<db_name>`, once per session: xdist
    workers share the session's base temp folder and take a file lock, so the first builds and the others reuse it."""
    from compliance.ingest.load import ingest

    # The session's temp folder: under xdist each worker's basetemp sits in it, else it is the basetemp
    # itself (its parent is shared by every session, which would reuse a database built by old code).
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / folder
    root.mkdir(parents=True, exist_ok=True)
    db = root / db_name
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not db.exists():
                ingest([build(root / "export")], db)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return db


# --- the second, hand-made bundle with other rhythms and missing/empty sources (tests/rhythm_bundle.py) ---


@pytest.fixture(scope="session")
def rhythm_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ingested database of the rhythm bundle, built once per session (shared by xdist workers)."""
    from tests.rhythm_bundle import write_rhythm_bundle

    return built_once(tmp_path_factory, "rhythm-bundle", "rhythm.duckdb", write_rhythm_bundle)


@pytest.fixture(scope="session")
def stale_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ingested database of tests/stale_bundle.py (a DSR export ending 62 days before the as-of date)."""
    from tests.stale_bundle import write_stale_bundle

    return built_once(tmp_path_factory, "stale-bundle", "stale.duckdb", write_stale_bundle)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo database the dashboard tests render (built once per session and worker)."""
    from dashboard_support import build_small_demo

    return build_small_demo(tmp_path_factory.getbasetemp() / "dashboard-demo")


@pytest.fixture(scope="module")
def serve_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], AbstractContextManager[str]]:
    """`streamlit run dashboard/app.py` on a database, for a browser test module's `server` fixture: its log goes
    to a fresh temporary folder (read it when a page fails); the context yields the dashboard's URL."""
    from dashboard_support import dashboard_on

    return lambda db: dashboard_on(db, tmp_path_factory.mktemp("streamlit") / "server.log")


@pytest.fixture(scope="module")
def browser(server: object) -> Iterator[object]:
    """Headless Chromium for a browser test module, launched once the module's `server` fixture is up (and per
    server, where that fixture is parametrised)."""
    from dashboard_support import chromium_browser

    with chromium_browser() as launched:
        yield launched


@pytest.fixture(scope="session")
def demo_findings(demo_db: Path) -> pl.DataFrame:
    """What the controls engine finds on the small demo database as of its default date."""
    from compliance.controls import run_controls

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        return run_controls(con, load_policy())
    finally:
        con.close()
