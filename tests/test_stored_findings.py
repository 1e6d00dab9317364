"""Findings stored at ingest: equal to a live run, used only while fresh, refreshed by the next ingest."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from compliance.config.bundle import load_policy
from compliance.controls import default_as_of, run_controls, select_controls
from compliance.ingest.load import ingest
from compliance.stored_findings import findings_as_of, fresh_controls

POLICY = load_policy()
CONTROL_COUNT = len(select_controls())


def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set global TimeZone = 'UTC'").fetchall()
    return con


def test_stored_findings_equal_a_live_run(demo_build) -> None:
    con = _connect(demo_build.db)
    try:
        as_of = default_as_of(con)
        assert len(fresh_controls(con, POLICY, as_of)) == CONTROL_COUNT
        live = run_controls(con, POLICY, as_of)
        assert live.filter(pl.col("status") == "alarm").height > 0  # the comparison is not vacuous
        assert_frame_equal(findings_as_of(con, POLICY, as_of), live)
        # Another date has nothing stored: every control runs live, with its own result.
        earlier = as_of - dt.timedelta(days=30)
        assert fresh_controls(con, POLICY, earlier) == set()
        assert_frame_equal(findings_as_of(con, POLICY, earlier), run_controls(con, POLICY, earlier))
    finally:
        con.close()


def test_another_policy_makes_every_stored_control_stale(demo_build, tmp_path: Path) -> None:
    edited = tmp_path / "policy"
    shutil.copytree(POLICY.directory, edited)
    settings = edited / "settings.yaml"
    settings.write_text(settings.read_text() + "\n# a comment changes the digest\n")
    other = load_policy(edited)
    assert other.digest != POLICY.digest
    con = _connect(demo_build.db)
    try:
        assert fresh_controls(con, other, default_as_of(con)) == set()
    finally:
        con.close()


def test_edited_query_is_run_live_and_the_next_ingest_refreshes_it(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_build.db, db)
    rw = duckdb.connect(str(db))
    # As if dsr.overdue's SQL had been edited since ingest: its stored digest no longer matches.
    rw.execute("update findings_runs set sql_digest = 'edited' where control_id = 'dsr.overdue'").fetchall()
    rw.close()
    con = _connect(db)
    try:
        as_of = default_as_of(con)
        fresh = fresh_controls(con, POLICY, as_of)
        assert "dsr.overdue" not in fresh and len(fresh) == CONTROL_COUNT - 1
        assert_frame_equal(findings_as_of(con, POLICY, as_of), run_controls(con, POLICY, as_of))
    finally:
        con.close()
    summary = ingest([demo_build.export], db)  # no new file, but stale findings: evaluated and published
    assert summary.published and summary.findings_as_of == as_of
    assert all(f.status == "skipped" for f in summary.files)
    con = _connect(db)
    try:
        assert len(fresh_controls(con, POLICY, as_of)) == CONTROL_COUNT
    finally:
        con.close()
    assert not ingest([demo_build.export], db).published  # and now nothing is left to do


def test_ingest_without_findings_stores_none_and_readers_run_live(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "bare.duckdb"
    summary = ingest([demo_build.export], db, findings=False)
    assert summary.published and summary.findings_as_of is None
    con = _connect(db)
    try:
        assert con.sql("select count(*) from findings").fetchall() == [(0,)]
        as_of = default_as_of(con)
        assert fresh_controls(con, POLICY, as_of) == set()
        assert_frame_equal(findings_as_of(con, POLICY, as_of), run_controls(con, POLICY, as_of))
    finally:
        con.close()


def test_database_from_before_stored_findings_has_none_fresh(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    try:
        assert fresh_controls(con, POLICY, dt.date(2025, 1, 1)) == set()
    finally:
        con.close()


@pytest.fixture(scope="module")
def stored_at_once(demo_build) -> tuple[dt.date, pl.DataFrame, pl.DataFrame]:
    """Every control's stored summary and kept rows, read together as a page reads them (two queries)."""
    from dashboard import data

    con = _connect(demo_build.db)
    try:
        as_of = default_as_of(con)
        return (as_of, *data._stored_controls(con, [q.control_id for q in select_controls()], as_of))
    finally:
        con.close()


@pytest.mark.parametrize("control_id", [q.control_id for q in select_controls()])
def test_dashboard_reads_stored_rows_as_it_would_compute_them(demo_build, stored_at_once, control_id: str) -> None:
    from dashboard import data

    as_of, all_summaries, all_rows = stored_at_once
    con = _connect(demo_build.db)
    try:
        alone_summary, alone_rows = data._stored_controls(con, [control_id], as_of)
        live_summary, live_rows = data._live_control(con, control_id, as_of)
    finally:
        con.close()
    of_control = pl.col("control_id") == control_id
    assert_frame_equal(alone_summary, live_summary)
    assert_frame_equal(alone_rows, live_rows)
    # Read with every other control, its slice is the same.
    assert_frame_equal(all_summaries.filter(of_control), live_summary)
    assert_frame_equal(all_rows.filter(of_control), live_rows)


def test_a_control_that_fails_at_ingest_is_not_stored(demo_build, tmp_path: Path, monkeypatch) -> None:
    import compliance.controls as controls_module
    from compliance.stored_findings import store_findings

    db = tmp_path / "copy.duckdb"
    shutil.copyfile(demo_build.db, db)
    real = controls_module.run_query

    def flaky(con, query, params=None, policy=None, stored=None):
        if getattr(query, "control_id", None) == "dsr.overdue":
            raise duckdb.OutOfMemoryException("out of memory (simulated)")
        return real(con, query, params, policy, stored)

    monkeypatch.setattr(controls_module, "run_query", flaky)
    rw = duckdb.connect(str(db))
    try:
        as_of = store_findings(rw, POLICY)
        stored = {r[0] for r in rw.execute("select distinct control_id from findings").fetchall()}
        fresh = fresh_controls(rw, POLICY, as_of)
    finally:
        rw.close()
    # Stored as fresh, its error row would hide the control's alarms until the data changed.
    assert "dsr.overdue" not in stored and "dsr.overdue" not in fresh
    assert len(fresh) == CONTROL_COUNT - 1


def test_demo_database_from_an_older_version_is_brought_up_to_date(demo_build, tmp_path: Path) -> None:
    from compliance.demo_database import ensure_demo_database

    db = tmp_path / "demo.duckdb"
    shutil.copytree(demo_build.export, tmp_path / "demo" / "export")  # where ensure_demo_database looks
    shutil.copyfile(demo_build.db, db)
    rw = duckdb.connect(str(db))
    # Tables later versions added (derived, bookkeeping, a contract source, the DSR timeline).
    older = ("retention_rules_resolved", "findings_runs", "findings", "incident_notifications", "dsr_states",
             "audit_category_days", "audit_transfer_subjects")  # fmt: skip
    for table in older:
        rw.execute(f"drop table {table}").fetchall()
    rw.close()
    messages: list[str] = []
    assert ensure_demo_database(db, log=messages.append) == db
    assert messages and "older version" in messages[0]
    con = _connect(db)
    try:
        assert con.sql("select count(*) from retention_rules_resolved").fetchall()[0][0] > 0
        assert con.sql("select count(*) from dsr_states").fetchall()[0][0] > 0
        # the daily rollups of audit events, derived again for every day
        assert (
            con.sql("select count(distinct event_date) from audit_category_days").fetchall()
            == con.sql("select count(distinct event_date) from audit_events where len(categories) > 0").fetchall()
        )
        assert con.sql("select count(*) from audit_transfer_subjects").fetchall()[0][0] > 0
        assert {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()} >= set(older)
        assert len(fresh_controls(con, POLICY, default_as_of(con))) == CONTROL_COUNT
    finally:
        con.close()


def test_two_processes_asking_for_a_fresh_demo_database_build_it_once(demo_build, tmp_path: Path) -> None:
    # Test workers (or servers) started together on a fresh checkout: the second waits for the first's build
    # and uses it, instead of ingesting while the first still writes, and reading a database that then changes.
    import subprocess
    import sys

    db = tmp_path / "demo.duckdb"
    shutil.copytree(demo_build.export, tmp_path / "demo" / "export")  # where ensure_demo_database looks
    code = (
        "import sys; from pathlib import Path; from compliance.demo_database import ensure_demo_database; "
        "ensure_demo_database(Path(sys.argv[1]), log=lambda m: print('LOG', m, flush=True))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    logs = [line for out in outs for line in out.splitlines() if line.startswith("LOG ")]
    assert logs == [f"LOG ingesting it into {db}..."]
    con = _connect(db)
    try:
        assert con.sql("select count(*) from audit_events").fetchall()[0][0] > 0
    finally:
        con.close()
