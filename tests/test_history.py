"""History: runs kept by as-of date beside the database, and new/resolved/persisting alarms between them."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from cli_support import run_cli
from rows import finding_row

from compliance import history
from compliance.check import render_findings
from compliance.controls import FINDINGS_SCHEMA
from compliance.history import (
    alarms_over_time,
    changes_between_runs,
    first_last_seen,
    record_run,
    recorded_runs,
    time_to_resolve,
)
from compliance.triage_store import store_path

D1, D2, D3 = date(2025, 10, 1), date(2025, 10, 15), date(2025, 11, 1)


def _row(control: str, resource: str, status: str = "alarm", severity: str = "high") -> dict:
    return finding_row(control, resource, status, severity, policy_section="8", reason=f"{control} {resource}",
                       observed_at=datetime(2025, 9, 30, 8), evidence=["e"])  # fmt: skip


def _frame(*rows: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=FINDINGS_SCHEMA)


# Three runs at different as-of dates, shaped by hand:
# R-1 overdue in all three; R-2 overdue in run 1 only; R-3 appears in run 2 and is waived in run 3;
# the audit gap errors in run 2 (an error is not an alarm); ok rows are counted, never kept.
RUN1 = _frame(
    _row("dsr.overdue", "dsr:R-1"),
    _row("dsr.overdue", "dsr:R-2"),
    _row("retention.record_past_retention", "record:a/b/1", severity="critical"),
    _row("dsr.overdue", "dsr:R-9", status="ok", severity="info"),
)
RUN2 = _frame(
    _row("dsr.overdue", "dsr:R-1"),
    _row("dsr.overdue", "dsr:R-3"),
    _row("retention.record_past_retention", "record:a/b/1", severity="critical"),
    _row("security.audit_gap", "control:security.audit_gap", status="error"),
)
RUN3 = _frame(
    _row("dsr.overdue", "dsr:R-1"),
    _row("dsr.overdue", "dsr:R-3", status="suppressed"),
    _row("retention.record_past_retention", "record:a/b/2"),
)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.duckdb"
    path.write_bytes(b"")
    # Recorded out of order, and D2 twice: the latest recording of a date speaks for it.
    record_run(path, RUN3, D3, "check", "p1", recorded_at="2025-11-01T06:00:00Z")
    record_run(path, RUN1, D1, "ingest", "p1", recorded_at="2025-10-01T06:00:00Z")
    record_run(path, RUN1, D2, "ingest", "p1", recorded_at="2025-10-15T06:00:00Z")
    record_run(path, RUN2, D2, "check", "p2", recorded_at="2025-10-15T07:00:00Z")
    return path


def _keys(frame: pl.DataFrame) -> list[str]:
    return frame["resource"].to_list()


def test_runs_are_kept_by_as_of_date_with_their_digests(db: Path) -> None:
    runs = recorded_runs(db)
    assert runs.select("as_of", "source", "policy_digest", "alarms", "suppressed", "errors", "findings").rows() == [
        (D1, "ingest", "p1", 3, 0, 0, 4),
        (D2, "check", "p2", 3, 0, 1, 4),
        (D3, "check", "p1", 2, 1, 0, 3),
    ]
    # The findings digest is that of the file `check --format jsonl` writes for the same findings.
    assert runs["findings_digest"][0] == hashlib.sha256(render_findings(RUN1, "jsonl")).hexdigest()
    # Over the SQL of the controls each run holds: runs 1 and 3 ran the same two controls.
    assert runs["controls_digest"][0] == runs["controls_digest"][2] != runs["controls_digest"][1]
    assert recorded_runs(db, start=D2)["as_of"].to_list() == [D2, D3]
    assert recorded_runs(db, end=D2)["as_of"].to_list() == [D1, D2]


def test_a_run_record_holds_its_counts_its_digests_and_every_finding_but_ok(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Hashed two rows at a time, as a run of a million findings is: the digest is still the whole file's.
    monkeypatch.setattr(history, "_DIGEST_SLICE_ROWS", 2)
    late = datetime(2025, 9, 30, 8, 15, 2, 250000)
    findings = _frame(
        _row("dsr.overdue", "dsr:R-1"),
        _row("dsr.overdue", "dsr:R-3", status="suppressed"),
        _row("dsr.overdue", "dsr:R-9", status="ok", severity="info"),
        _row("security.audit_gap", "control:security.audit_gap", status="error") | {"observed_at": None},
        finding_row("security.mfa_missing", "actor:a-1", "info", "low", reason=None, observed_at=late),
        _row("transfer.no_safeguard", "vendor:v", status="skip", severity="info"),
        _row("transfer.no_safeguard", "vendor:w", status="ok", severity="info"),
    )
    db = tmp_path / "audit.duckdb"
    run_id = record_run(db, findings, D2, "ingest", "p9", recorded_at="2025-10-15T06:00:00Z")
    with sqlite3.connect(store_path(db)) as con:
        run = con.execute(
            "select recorded_at, as_of, source, database, policy_digest, findings_digest, findings, alarms,"
            " suppressed, errors from runs where run_id = ?",
            (run_id,),
        ).fetchone()
        kept = con.execute("select * from run_findings order by rowid").fetchall()
    digest = hashlib.sha256(render_findings(findings, "jsonl")).hexdigest()
    assert run == ("2025-10-15T06:00:00Z", "2025-10-15", "ingest", str(db.resolve()), "p9", digest, 7, 1, 1, 1)
    # Every row but the `ok` ones, in the findings' order, observed_at in RFC 3339 UTC.
    assert kept == [
        (run_id, "dsr.overdue", "dsr:R-1", "alarm", "high", "dsr.overdue dsr:R-1", "2025-09-30T08:00:00Z"),
        (run_id, "dsr.overdue", "dsr:R-3", "suppressed", "high", "dsr.overdue dsr:R-3", "2025-09-30T08:00:00Z"),
        (run_id, "security.audit_gap", "control:security.audit_gap", "error", "high",
         "security.audit_gap control:security.audit_gap", None),
        (run_id, "security.mfa_missing", "actor:a-1", "info", "low", None, "2025-09-30T08:15:02.250Z"),
        (run_id, "transfer.no_safeguard", "vendor:v", "skip", "info", "transfer.no_safeguard vendor:v",
         "2025-09-30T08:00:00Z"),
    ]  # fmt: skip


def test_new_resolved_and_persisting_alarms_across_three_runs(db: Path) -> None:
    first, second = changes_between_runs(db)
    assert (first.before, first.after) == (D1, D2)
    assert _keys(first.new) == ["dsr:R-3"]
    assert _keys(first.resolved) == ["dsr:R-2"]
    assert _keys(first.persisting) == ["dsr:R-1", "record:a/b/1"]
    assert (second.before, second.after) == (D2, D3)
    assert _keys(second.new) == ["record:a/b/2"]
    # R-3 waived: no longer an alarm, so resolved; the old record is gone, so resolved.
    assert _keys(second.resolved) == ["dsr:R-3", "record:a/b/1"]
    assert _keys(second.persisting) == ["dsr:R-1"]
    only = changes_between_runs(db, start=D2, end=D3)
    assert len(only) == 1 and only[0].before == D2


def test_first_last_seen_over_time_and_time_to_resolve(db: Path) -> None:
    seen = {r["resource"]: (r["first_seen"], r["last_seen"]) for r in first_last_seen(db).iter_rows(named=True)}
    assert seen == {
        "dsr:R-1": (D1, D3),
        "dsr:R-2": (D1, D1),
        "dsr:R-3": (D2, D3),  # suppressed still counts as seen
        "record:a/b/1": (D1, D2),
        "record:a/b/2": (D3, D3),
    }
    assert alarms_over_time(db).select("as_of", "alarms", "suppressed").rows() == [
        (D1, 3, 0),
        (D2, 3, 0),
        (D3, 2, 1),
    ]
    ttr = time_to_resolve(db)
    assert ttr.rows() == [
        # D1 -> gone at D2 (14 days); R-3: D2 -> gone at D3 (17 days); R-1 still open.
        ("dsr.overdue", 2, 15.5, 17, 1),
        # record 1: D1 -> gone at D3 (31 days); record 2 still open.
        ("retention.record_past_retention", 1, 31.0, 31, 1),
    ]


def test_an_alarm_that_returns_is_a_second_episode(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    alarm, none = _frame(_row("dsr.overdue", "dsr:R-1")), _frame()
    for day, frame in ((D1, alarm), (D2, none), (D3, alarm)):
        record_run(db, frame, day, "check", "p")
    assert time_to_resolve(db).rows() == [("dsr.overdue", 1, 14.0, 14, 1)]
    assert [(_keys(c.new), _keys(c.resolved)) for c in changes_between_runs(db)] == [
        ([], ["dsr:R-1"]),
        (["dsr:R-1"], []),
    ]


def test_no_history_yet_is_empty_not_an_error(tmp_path: Path) -> None:
    db = tmp_path / "none.duckdb"
    assert recorded_runs(db).is_empty() and changes_between_runs(db) == []
    assert first_last_seen(db).is_empty() and time_to_resolve(db).is_empty()
    assert not store_path(db).exists()


def test_cli_history_prints_changes_between_runs(db: Path) -> None:
    run = run_cli("history", "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert "2025-10-01 │ 2025-10-15 │   1 │        1 │          2" in run.stdout
    assert "2025-10-15 │ 2025-11-01 │   1 │        2 │          1" in run.stdout
    assert "2025-11-01 new      high     retention.record_past_retention record:a/b/2" in run.stdout
    assert "2025-10-15 resolved high     dsr.overdue dsr:R-2" in run.stdout
    csv = db.with_name("changes.csv")
    written = run_cli("history", "--db", str(db), "--no-details", "--output", str(csv))
    assert written.returncode == 0 and "new      " not in written.stdout
    table = pl.read_csv(csv, try_parse_dates=True)
    assert table.columns == ["from_as_of", "to_as_of", "change", "control_id", "resource", "severity", "reason"]
    assert table.filter(pl.col("to_as_of") == D3).select("change", "resource").rows() == [
        ("new", "record:a/b/2"),
        ("resolved", "dsr:R-3"),
        ("resolved", "record:a/b/1"),
        ("persisting", "dsr:R-1"),
    ]
    window = run_cli("history", "--db", str(db), "--from", "2025-10-10", "--to", "2025-10-20")
    assert "only one recorded run in that period" in window.stdout
    empty = run_cli("history", "--db", str(db.with_name("other.duckdb")))
    assert empty.returncode == 0 and "no recorded runs" in empty.stdout
    bad = run_cli("history", "--db", str(db), "--from", "last week")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_check_record_keeps_each_as_of_date(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, db)
    for as_of in ("2025-10-01", "2025-11-15"):
        run = run_cli("check", "--db", str(db), "--as-of", as_of, "--record", "--output", str(tmp_path / "f.jsonl"))
        assert run.returncode == 0, run.stderr
        assert f"(as of {as_of}) in the history" in run.stderr
    assert recorded_runs(db)["as_of"].to_list() == [date(2025, 10, 1), date(2025, 11, 15)]
    refused = run_cli("check", "--db", str(db), "--record", "--control", "dsr.overdue")
    assert refused.returncode == 2 and "--record keeps a whole run" in refused.stderr


def test_ingest_records_runs_that_survive_each_republish(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    partial = tmp_path / "partial"
    shutil.copytree(demo_build.export, partial, ignore=shutil.ignore_patterns("usage", "diagnostic"))
    assert run_cli("ingest", str(partial), "--db", str(db)).returncode == 0
    assert recorded_runs(db)["source"].to_list() == ["ingest"]
    # Nothing new: nothing published, nothing recorded.
    assert run_cli("ingest", str(partial), "--db", str(db)).returncode == 0
    assert recorded_runs(db).height == 1
    # The full export publishes a fresh database file by rename; the history beside it stays.
    full = run_cli("ingest", str(demo_build.export), "--db", str(db))
    assert full.returncode == 0, full.stderr
    with sqlite3.connect(store_path(db)) as con:
        assert con.execute("select count(*) from runs where source = 'ingest'").fetchone()[0] == 2
    runs = recorded_runs(db)
    assert runs["alarms"][-1] > 0
    check = run_cli("check", "--db", str(db), "--record", "--output", str(tmp_path / "f.jsonl"))
    assert check.returncode == 0, check.stderr
    # The same as-of date as the last ingest: both kept, the latest speaks for it, same findings.
    latest = recorded_runs(db).filter(pl.col("as_of") == runs["as_of"][-1])
    assert latest["source"].to_list() == ["check"]
    assert latest["findings_digest"][0] == runs["findings_digest"][-1]
    # The rows it keeps too: the ingest records the findings it stored, the check those it ran.
    kept = "select control_id, resource, status, severity, reason, observed_at from run_findings where run_id = ?"
    with sqlite3.connect(store_path(db)) as con:
        by_ingest, by_check = (con.execute(kept, (r,)).fetchall() for r in (runs["run_id"][-1], latest["run_id"][0]))
    assert by_ingest and by_ingest == by_check
