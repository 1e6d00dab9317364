"""A database built by an older version (a table or column of this version missing) is named, with the way to
bring it up to date, by every command and the dashboard, instead of failing control by control; one ingest of
any folder, even an empty one, brings it up to date."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import build_db_file
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from compliance.audit_database import connect_read_only, schema_gaps
from compliance.cli import app
from compliance.config.bundle import Policy
from compliance.ingest.load import ingest

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
MISSING = ["table audit_category_lists", "column audit_events.categories_key"]
EVENT = {
    "event_id": "e1", "occurred_at": "2025-06-02 09:00:00", "actor_id": "emp_1", "actor_type": "employee",
    "action": "read", "resource": "contacts/1", "system": "crm", "outcome": "success", "record_count": 3,
}  # fmt: skip


@pytest.fixture
def older_db(policy: Policy, tmp_path: Path) -> Path:
    """A database as the version before category keys left it."""
    path = build_db_file(policy, {"audit_events": [EVENT]}, tmp_path / "older.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE audit_events DROP COLUMN categories_key").fetchall()
        con.execute("DROP TABLE audit_category_lists").fetchall()
    return path


def _ingest_nothing(db: Path, tmp_path: Path) -> None:
    """One ingest of an empty export folder: what brings an older database up to date."""
    empty = tmp_path / "empty-export"
    empty.mkdir()
    ingest([empty], db)


def _usable_then_brought_up_to_date(db: Path, tmp_path: Path, control: str) -> None:
    """A database holding what this version no longer keeps: no gap is named, `control` is judged without error,
    then one ingest of an empty folder brings the database up to date."""
    with connect_read_only(db) as con:
        assert schema_gaps(con) == []
    result = CliRunner().invoke(app, ["check", "--db", str(db), "--control", control])
    assert result.exit_code in (0, 1) and '"status": "error"' not in result.output, result.output
    _ingest_nothing(db, tmp_path)


def test_a_database_of_this_version_has_no_gaps(policy: Policy, tmp_path: Path) -> None:
    path = build_db_file(policy, {"audit_events": [EVENT]}, tmp_path / "current.duckdb")
    with connect_read_only(path) as con:
        assert schema_gaps(con) == []


def test_the_gaps_of_an_older_database_are_named(older_db: Path) -> None:
    with connect_read_only(older_db) as con:
        assert schema_gaps(con) == MISSING


COMMANDS = [
    ["check", "--db", "{db}"],
    ["check", "--db", "{db}", "--control", "access.out_of_role"],
    ["export-parquet", "--db", "{db}", "{tmp}/parquet"],
    ["summary", "--db", "{db}", "--as-of", "2025-06-30", "--out", "{tmp}/summary.pdf"],
    ["notify", "--db", "{db}", "--dry-run"],
    ["evidence", "--db", "{db}", "--as-of", "2025-06-30", "--out", "{tmp}/evidence.zip", "--no-notebooks"],
    ["report", "dsr_audit", "--db", "{db}", "--out", "{tmp}/dsr.html"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_commands_name_an_older_database_and_the_way_to_update_it(
    older_db: Path, tmp_path: Path, args: list[str]
) -> None:
    result = CliRunner().invoke(app, [a.format(db=older_db, tmp=tmp_path) for a in args])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())  # the console wraps long lines
    assert "built by an older version" in said
    assert "lacks table audit_category_lists, column audit_events.categories_key" in said
    assert f"compliance ingest EXPORT_DIR --db {older_db}" in said
    assert "Traceback" not in said
    assert "executing" not in said  # named before a notebook's kernel starts


def test_the_dashboard_names_an_older_database(older_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(older_db))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "built by an older version" in errors[0], errors
    assert "audit\\_category\\_lists" in errors[0]  # escaped: shown as text, never as Markdown


def test_one_ingest_of_an_empty_folder_brings_it_up_to_date(older_db: Path, tmp_path: Path) -> None:
    _ingest_nothing(older_db, tmp_path)
    with connect_read_only(older_db) as con:
        assert schema_gaps(con) == []
        keyed = con.execute("select count(*) from audit_events where categories_key is not null").fetchall()
    assert keyed == [(1,)]
    result = CliRunner().invoke(app, ["check", "--db", str(older_db), "--control", "access.out_of_role"])
    assert result.exit_code in (0, 1), result.output
    assert '"status": "error"' not in result.output


def test_an_ingest_drops_the_evidence_tables_nothing_reads_any_more(policy: Policy, tmp_path: Path) -> None:
    """A database from before 2026-12-04's evening keeps each rollup's newest events per day in tables that the
    controls no longer read, and one from before 2026-12-06's late afternoon each subject's last day of processing:
    still usable as it is, and the next ingest drops them."""
    path = build_db_file(policy, {"audit_events": [EVENT]}, tmp_path / "evidence.duckdb")
    retired = [
        "audit_category_evidence",
        "audit_purpose_evidence",
        "audit_transfer_evidence",
        "audit_processed_subjects",
    ]
    with duckdb.connect(str(path)) as con:
        for table in retired:
            con.execute(f"CREATE TABLE {table} (event_date DATE, event_id VARCHAR)").fetchall()
    _usable_then_brought_up_to_date(path, tmp_path, "purpose.undeclared_use")
    with connect_read_only(path) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert tables.isdisjoint(retired) and "audit_purpose_days" in tables


def test_an_ingest_drops_the_directory_copies_nothing_reads_any_more(policy: Policy, tmp_path: Path) -> None:
    """A database from before 2026-12-06's evening holds each event's copy of its actor's directory department,
    home country, status and end date: still usable as it is, and the next ingest drops those columns and keeps
    every event and the enrichment that is read (role, time zone)."""
    path = build_db_file(policy, {"audit_events": [EVENT]}, tmp_path / "copies.duckdb")
    retired = {"actor_department": "VARCHAR", "actor_home_country": "VARCHAR", "actor_status": "VARCHAR",
               "actor_end_date": "DATE"}  # fmt: skip
    with duckdb.connect(str(path)) as con:
        for column, type_ in retired.items():
            con.execute(f"ALTER TABLE audit_events ADD COLUMN {column} {type_}").fetchall()
    _usable_then_brought_up_to_date(path, tmp_path, "access.out_of_role")
    with connect_read_only(path) as con:
        columns = {r[0] for r in con.execute("select column_name from (describe audit_events)").fetchall()}
        events = con.execute("select event_id, actor_timezone from audit_events").fetchall()
    assert columns.isdisjoint(retired) and {"actor_role", "actor_timezone"} <= columns
    assert events == [("e1", "UTC")]  # (emp_1 is in no directory: the zone the enrichment gives then)


def test_an_ingest_rebuilds_a_rollup_that_lacks_a_column(policy: Policy, tmp_path: Path) -> None:
    """A rollup built before one of its columns existed (audit_login_days before `window_minutes`, 2026-12-05): the
    gap is named, and one ingest of an empty folder recreates the rollup and fills it again from the events."""
    login = {**EVENT, "event_id": "l1", "action": "login_failed", "outcome": "failure"}
    path = build_db_file(policy, {"audit_events": [EVENT, login]}, tmp_path / "login.duckdb")
    with duckdb.connect(str(path)) as con:
        con.execute("ALTER TABLE audit_login_days DROP COLUMN window_minutes").fetchall()
    with connect_read_only(path) as con:
        assert schema_gaps(con) == ["column audit_login_days.window_minutes"]
    _ingest_nothing(path, tmp_path)
    with connect_read_only(path) as con:
        assert schema_gaps(con) == []
        rows = con.execute("select actor_id, attempts, failures, window_minutes from audit_login_days").fetchall()
    assert rows == [("emp_1", 1, 1, int(policy.parameters()["failed_login_burst_window_minutes"]))]
