"""Hostile and malformed exports (tests/hostile_corpus.py): each case gets its exact outcome, and no
good row of any other file is lost. One load of one bundle holding every case, shared by the table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hostile_corpus import CASES, GOOD, Case, write_bundle

from compliance.ingest.load import IngestSummary, ingest


@pytest.fixture(scope="module")
def loaded_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[IngestSummary, Path, Path]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "outside.jsonl").write_text('{"event_id": "outside"}\n')
    export = write_bundle(root / "export")
    db = root / "audit.duckdb"
    summary = ingest([export], db, findings=False)
    return summary, export, db


def _query(db: Path, sql: str, params: dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or {}).fetchall()


def _rejects_of(db: Path, path: Path) -> list[tuple[int, str]]:
    """(line, raw text) of the rows rejected from one export file, in line order."""
    return _query(db, "select line, raw from rejects where path = $p order by line", {"p": str(path)})


def test_the_corpus_is_large_and_covers_every_source() -> None:
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
    folders = {c.path.split("/")[0] for c in CASES}
    assert {
        "audit",
        "diagnostic",
        "usage",
        "dsr",
        "inventory",
        "directory",
        "tenants",
        "subjects",
        "incidents",
    } <= folders


def test_no_good_row_is_lost_and_the_load_is_published(loaded_bundle: tuple[IngestSummary, Path, Path]) -> None:
    summary, _export, db = loaded_bundle
    assert summary.published
    for rel, (table, key, n) in GOOD.items():
        got = _query(db, f'select count(*) from {table} where "{key}" like $k', {"k": "good-%"})[0][0]
        assert got == n, rel
    # The header injection case ran nothing: every table is still there, nothing was written outside.
    assert not Path("/tmp/pwn.py").exists()
    # The default as-of date comes from loaded rows only, never from a rejected year 9999.
    from compliance.controls import default_as_of

    with duckdb.connect(str(db), read_only=True) as con:
        assert str(default_as_of(con)) == "2025-06-01"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_case_outcome(case: Case, loaded_bundle: tuple[IngestSummary, Path, Path]) -> None:
    summary, export, db = loaded_bundle
    path = export / case.path
    exp = case.expect
    if exp.kind == "unread":
        reasons = [u.reason for u in summary.unread if u.path == path or path in u.path.parents]
        assert reasons and all(exp.reason in r for r in reasons), reasons
        assert not [f for f in summary.files if f.path == path or path in f.path.parents]
        return
    results = [f for f in summary.files if f.path == path or path in f.path.parents]
    assert len(results) == 1, [(f.path, f.status) for f in summary.files if case.id in str(f.path)]
    f = results[0]
    if exp.kind == "failed":
        assert f.status == "failed" and exp.reason in f.note, f.note
        logged = _query(db, "select reason from rejects where path = $p", {"p": str(path)})
        assert logged == [(f"file not loaded: {f.note}",)]
        return
    if exp.kind == "skipped":
        assert f.status == "skipped" and f.note.startswith("same content as")
        return
    assert f.status == "loaded", f.note
    assert (f.rows_loaded, f.rows_rejected) == (exp.loaded, exp.rejected)
    reasons = [r[0] for r in _query(db, "select reason from rejects where path = $p", {"p": str(path)})]
    assert len(reasons) == exp.rejected
    assert all(exp.reason in r for r in reasons), reasons
    manifest = _query(db, "select rows_loaded, rows_rejected from load_manifest where path = $p", {"p": str(path)})
    assert manifest == [(exp.loaded, exp.rejected)]
    if exp.reject_lines:
        lines = _query(db, "select line from rejects where path = $p order by line", {"p": str(path)})
        assert tuple(r[0] for r in lines) == exp.reject_lines
    if exp.row_lines:
        lines = _query(
            db, "select source_line from usage_events where event_id like $k order by 1", {"k": case.id + "-%"}
        )
        assert tuple(r[0] for r in lines) == exp.row_lines
    assert f.blank_lines == exp.blank_lines


def test_a_rejected_line_keeps_its_raw_text_escaped_and_bounded(
    loaded_bundle: tuple[IngestSummary, Path, Path],
) -> None:
    _summary, export, db = loaded_bundle
    [(line, raw)] = _rejects_of(db, export / "audit/badbyte.jsonl")
    assert line == 2 and "\\xff\\xfe" in raw
    [(line, raw)] = _rejects_of(db, export / "audit/huge.jsonl")
    assert line == 1 and raw.startswith('{"event_id": "a-huge-0"') and len(raw) <= 10_000


@pytest.mark.parametrize(
    ("file", "rejects"),
    [
        pytest.param(
            "usage/qnl-bad.csv",
            [(4, "u-quoted-newline-then-bad-1,2025-06-01T10:00:00Z,u1,x,yes")],
            id="after_a_quoted_line_break",
        ),
        pytest.param(
            "usage/blank-bad.csv",
            [(5, "u-blank-lines-then-bad-1,2025-06-01T10:00:00Z,u1,x,maybe")],
            id="after_blank_lines",
        ),
    ],
)
def test_a_reject_shows_its_own_line(
    loaded_bundle: tuple[IngestSummary, Path, Path], file: str, rejects: list[tuple[int, str]]
) -> None:
    _summary, export, db = loaded_bundle
    assert _rejects_of(db, export / file) == rejects


def test_rows_after_an_unclosed_quote_load_with_their_lines(loaded_bundle: tuple[IngestSummary, Path, Path]) -> None:
    _summary, export, db = loaded_bundle
    rejects = _rejects_of(db, export / "usage/unterm2.csv")
    assert rejects == [
        (2, 'u-two-unclosed-quotes-0,2025-06-01T10:00:00Z,u1,"a,true'),
        (4, 'u-two-unclosed-quotes-2,2025-06-01T10:00:00Z,u1,"b,true'),
        (6, "bad,row,x,y,z,w"),
    ]
    got = _query(
        db, "select event_id, source_line from usage_events where event_id like 'u-two-unclosed-quotes-%' order by 1"
    )
    assert got == [("u-two-unclosed-quotes-1", 3), ("u-two-unclosed-quotes-3", 5)]


def test_injected_values_are_stored_as_text(loaded_bundle: tuple[IngestSummary, Path, Path]) -> None:
    _summary, _export, db = loaded_bundle
    got = _query(db, "select actor_id, system from audit_events where event_id = 'a-sql-values-0'")
    assert got == [("x'); delete from audit_events; --", "'; drop table rejects; --")]


def test_cli_names_every_unread_and_failed_file_and_exits_1(
    loaded_bundle: tuple[IngestSummary, Path, Path], tmp_path: Path
) -> None:
    _summary, export, _db = loaded_bundle
    db = tmp_path / "cli.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "compliance", "ingest", str(export), "--db", str(db), "--no-findings"],
        capture_output=True, text=True, timeout=300, env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "not read: " in proc.stdout and "passwd.jsonl" in proc.stdout and "not loaded: " in proc.stdout
    assert "lines-blank.csv: 3 blank line(s)" in proc.stdout  # skipped lines are counted, never silent
    assert "the other files were loaded" in proc.stderr
    assert db.exists()
