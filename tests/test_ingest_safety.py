"""Ingest against its environment: two loads at once, copies left by killed loads, a full disk, options."""

from __future__ import annotations

import errno
import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hostile_corpus import audit, jsonl

from compliance.ingest import load
from compliance.ingest.load import DatabaseLock, IngestError, ingest


def _export(root: Path, prefix: str, n: int) -> Path:
    """An export of n audit logins, ids <prefix>-0, <prefix>-1, ..., one a minute from 10:00."""
    ex = root / prefix
    rows = [audit(prefix, i, occurred_at=f"2025-06-01T10:{i % 60:02d}:00Z") for i in range(n)]
    jsonl(*rows)(ex / "audit" / f"{prefix}.jsonl", ex)
    return ex


def _count(db: Path, sql: str) -> object:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def test_two_ingests_at_once_keep_every_row_of_both(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    exports = [_export(tmp_path, "first", 300), _export(tmp_path, "second", 200)]
    code = "import sys; from compliance.ingest.load import ingest; ingest([sys.argv[1]], sys.argv[2], findings=False)"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(ex), str(db)], stderr=subprocess.PIPE, text=True)
        for ex in exports
    ]
    for p in procs:
        _out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    # The second load waited for the lock and loaded on top of the first one's published database.
    assert _count(db, "select count(*) from audit_events where event_id like 'first-%'") == 300
    assert _count(db, "select count(*) from audit_events where event_id like 'second-%'") == 200
    assert _count(db, "select count(*) from load_runs") == 2


def test_a_held_lock_stops_the_second_ingest_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ex = _export(tmp_path, "e", 3)
    with DatabaseLock(db, 0), pytest.raises(IngestError, match=rf"another ingest \(process {os.getpid()}\)"):
        ingest([ex], db, findings=False, lock_wait_seconds=0.3)
    assert not db.exists()
    assert ingest([ex], db, findings=False).published  # the lock is free again


def test_copies_left_by_dead_loads_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = [tmp_path / f".audit.duckdb.loading-{dead_pid}", tmp_path / f".audit.duckdb.loading-{dead_pid}.wal"]
    live = tmp_path / f".audit.duckdb.loading-{os.getppid()}"  # a process that is still running
    for p in [*stale, live]:
        p.write_bytes(b"x" * 1024)
    other = tmp_path / ".other.duckdb.loading-1"  # another database's copy is not ours to remove
    other.write_bytes(b"x")
    ingest([_export(tmp_path, "e", 3)], db, findings=False)
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists()


def test_a_full_disk_is_reported_as_a_disk_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "audit.duckdb"
    ex = _export(tmp_path, "e", 3)
    ingest([ex], db, findings=False)
    before = db.read_bytes()

    def no_clone(*_a: object) -> None:  # as on ext4, whatever filesystem the test runs on
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    def no_space(_src: Path, dst: Path) -> None:
        Path(dst).write_bytes(b"half a database")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(load.fcntl, "ioctl", no_clone)
    monkeypatch.setattr(load.shutil, "copyfile", no_space)
    with pytest.raises(IngestError, match=r"disk holding .* is full"):
        ingest([_export(tmp_path, "f", 2)], db, findings=False)
    monkeypatch.undo()
    assert not [p for p in tmp_path.iterdir() if ".loading-" in p.name]  # the half copy is the space needed back

    def duckdb_no_space(*_a: object, **_k: object) -> None:
        raise duckdb.IOException('Could not write file "x": No space left on device')

    monkeypatch.setattr(load, "build_retention_rules", duckdb_no_space)
    with pytest.raises(IngestError, match=r"disk holding .* is full"):
        ingest([_export(tmp_path, "g", 2)], db, findings=False)
    assert db.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".loading-" in p.name]


def test_running_out_of_memory_is_reported_as_such_and_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([_export(tmp_path, "e", 3)], db, findings=False)
    before = db.read_bytes()

    def out_of_memory(*_a: object, **_k: object) -> None:
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to pin block of size 256.0 KiB")

    monkeypatch.setattr(load, "build_retention_rules", out_of_memory)
    with pytest.raises(IngestError, match=r"ran out of memory under its memory limit \(2GB\).*--memory-limit"):
        ingest([_export(tmp_path, "f", 2)], db, findings=False, memory_limit="2GB")
    assert db.read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if ".loading-" in p.name]


def test_a_memory_limit_option_is_bound_never_spliced(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ex = _export(tmp_path, "e", 3)
    with pytest.raises(IngestError, match="not a size like 4GB"):
        ingest([ex], db, findings=False, memory_limit="1GB'; drop table audit_events; --")
    assert ingest([ex], db, findings=False, memory_limit="512MB").published


def test_cli_reports_a_held_lock_without_a_traceback(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ex = _export(tmp_path, "e", 3)
    with DatabaseLock(db, 0):
        proc = subprocess.run(
            [sys.executable, "-m", "compliance", "ingest", str(ex), "--db", str(db), "--no-findings", "--wait", "0.2"],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "another ingest" in proc.stderr and "Nothing was published" in proc.stderr


def test_cli_time_window_options_and_an_export_folder_named_like_a_pattern(tmp_path: Path) -> None:
    ex = _export(tmp_path / "exports[1]?*", "e", 4)  # glob characters in the folder: still read exactly
    db = tmp_path / "audit.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "compliance", "ingest", str(ex), "--db", str(db), "--no-findings",
         "--earliest", "2025-01-01", "--latest", "2025-06-01T10:01:30"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    # Events at 10:00 and 10:01 are inside the window; 10:02 and 10:03 are after --latest.
    assert _count(db, "select count(*) from audit_events") == 2
    assert _count(db, "select count(*) from rejects where reason like '%outside the plausible window 2025-01-01%'") == 2
    bad = subprocess.run(
        [sys.executable, "-m", "compliance", "ingest", str(ex), "--db", str(db), "--latest", "soon"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "--earliest/--latest" in bad.stderr


def _join_types(con: duckdb.DuckDBPyConnection, events: Path) -> list[str]:
    sql = (
        "explain select * from read_json($f, format='newline_delimited') t left join lookup l on l.subject = t.subject"
    )
    return re.findall(r"Join Type: (\w+)", con.execute(sql, {"f": [str(events)]}).fetchall()[0][1])


def test_while_loading_the_lookups_stay_the_join_build_side(tmp_path: Path) -> None:
    # DuckDB guesses a gzip JSON Lines file holds a handful of rows and turns the LEFT join around (RIGHT):
    # the events become the hash table. At 100M events that table spilled 27 GB and ran out of memory.
    events = tmp_path / "events.jsonl.gz"
    with gzip.open(events, "wt") as f:
        f.writelines(json.dumps({"id": f"e{i}", "subject": f"s{i % 50}"}) + "\n" for i in range(2000))
    con = duckdb.connect()
    con.execute("create table lookup as select 's' || range as subject, 'x' as j from range(200000)").fetchall()
    assert _join_types(con, events) == ["RIGHT"]  # DuckDB's own choice, which the guard exists for
    with load._lookups_on_build_side(con):
        assert _join_types(con, events) == ["LEFT"]
        assert _join_types(con.cursor(), events) == ["LEFT"]  # the loaders' own cursors too
    assert _join_types(con, events) == ["RIGHT"]  # the controls, run after loading, keep the optimizer
    with pytest.raises(RuntimeError), load._lookups_on_build_side(con):
        raise RuntimeError("a load that fails")
    assert con.execute("select current_setting('disabled_optimizers')").fetchall() == [("",)]


def test_the_build_side_guard_names_the_optimizer_once() -> None:
    assert load._optimizers_off("", "build_side_probe_side") == "build_side_probe_side"
    assert load._optimizers_off("join_order", "build_side_probe_side") == "join_order,build_side_probe_side"
    already = "join_order,build_side_probe_side"
    assert load._optimizers_off(already, "build_side_probe_side") == already
    con = duckdb.connect()
    con.execute("set global disabled_optimizers = 'build_side_probe_side'").fetchall()
    with load._lookups_on_build_side(con):
        setting = con.execute("select current_setting('disabled_optimizers')").fetchall()
        assert setting == [("build_side_probe_side",)]
    with pytest.raises(RuntimeError), load._lookups_on_build_side(con):
        raise RuntimeError("a load that fails")
    assert con.execute("select current_setting('disabled_optimizers')").fetchall() == [("build_side_probe_side",)]


def test_the_fast_read_of_gzip_files_runs_with_the_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ex = tmp_path / "export"
    for day in range(3):
        rows = [audit(f"d{day}", i, occurred_at=f"2025-06-0{day + 1}T10:{i:02d}:00Z") for i in range(40)]
        jsonl(*rows)(ex / "audit" / f"2025-06-0{day + 1}.jsonl", ex)
    for plain in sorted((ex / "audit").glob("*.jsonl")):
        with gzip.open(plain.with_suffix(".jsonl.gz"), "wb") as f:
            f.write(plain.read_bytes())
        plain.unlink()
    seen: list[str] = []
    insert = load._Loader._insert

    def spy(self: load._Loader, cur: duckdb.DuckDBPyConnection, *args: object, **kwargs: object) -> int:
        seen.append(cur.execute("select current_setting('disabled_optimizers')").fetchall()[0][0])
        return insert(self, cur, *args, **kwargs)

    monkeypatch.setattr(load._Loader, "_insert", spy)
    db = tmp_path / "audit.duckdb"
    ingest([ex], db, findings=False)
    assert seen and all("build_side_probe_side" in s for s in seen)
    assert _count(db, "select count(*) from audit_events") == 120
