"""Scale benchmarks (issue 17): the demo generator's speed and memory, and ingest + check under a memory_limit
small enough that DuckDB must spill to disk, compared with the same steps under the normal limit.

Each step runs in its own interpreter, which reports its own peak RSS and CPU seconds (RUSAGE_SELF, all
threads), so the figures of one step never leak into the next and CPU time is there when the machine is loaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
FULL_LIMIT_MB = 4096  # the 100M target's limit; the spill run scales it down with the events
SPILL_FLOOR_MB = 256

# Appended to every measured child: its own peak RSS and CPU seconds, as the last JSON line. CPU includes the
# processes it ran and waited for (the generator's audit workers); their peak is that of the largest one.
_TRAILER = """
import json as _json, resource as _resource
_u = _resource.getrusage(_resource.RUSAGE_SELF)
_c = _resource.getrusage(_resource.RUSAGE_CHILDREN)
print(_json.dumps({"_cpu": _u.ru_utime + _u.ru_stime + _c.ru_utime + _c.ru_stime, "_peak_mb": _u.ru_maxrss / 1024,
                   "_worker_peak_mb": _c.ru_maxrss / 1024}))
"""

# Polls the size of the folders DuckDB spills into while the step runs (every half second).
_WATCH_TEMP = """
import threading as _threading
from pathlib import Path as _Path
_spill = {{"peak": 0}}
_done = _threading.Event()
def _spilled() -> int:
    total = 0
    for d in _Path({folder!r}).glob({pattern!r}):
        for f in d.rglob('*'):
            try:
                total += f.stat().st_size
            except OSError:
                pass  # a spill file removed while we looked
    return total
def _watch() -> None:
    while not _done.wait(0.5):
        _spill["peak"] = max(_spill["peak"], _spilled())
_threading.Thread(target=_watch, daemon=True).start()
"""


@dataclass(frozen=True)
class Step:
    result: dict
    wall: float
    cpu: float
    peak_mb: float
    worker_peak_mb: float = 0.0  # the largest process the step ran, if any


def run_step(code: str) -> Step:
    """Run Python code in a fresh interpreter; its last JSON line before the trailer is its result."""
    source = textwrap.dedent(code) + _TRAILER
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-3000:])
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    usage = lines[-1]
    return Step(lines[-2] if len(lines) > 1 else {}, wall, usage["_cpu"], usage["_peak_mb"], usage["_worker_peak_mb"])


def _gb(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths if p.is_file()) / 1e9


def generate(scale: int, out: Path, truth: Path) -> Step:
    """Generate the bundle (seed 7) in its own process and print its speed, memory and size."""
    print(f"  generating a {scale:,}-event bundle in {out} ...", flush=True)
    step = run_step(f"""
        import json
        from pathlib import Path
        from compliance.demo import generate_demo
        s = generate_demo(Path({str(out)!r}), seed=7, scale={scale}, truth_path=Path({str(truth)!r}))
        print(json.dumps({{"events": s.counts["audit"], "gzip": sum(p.name.endswith(".gz") for p in (s.out_dir / "audit").iterdir())}}))
    """)
    audit = list((out / "audit").iterdir())
    per_m = step.result["events"] / 1e6
    print(
        f"  generated {step.result['events']:,} audit events in {step.wall:.1f} s ({step.wall / per_m:.1f} s per million; "
        f"CPU {step.cpu:.1f} s, {step.cpu / per_m:.1f} s per million), peak RSS {step.peak_mb:.0f} MB"
        f"{f' (+ each audit worker up to {step.worker_peak_mb:.0f} MB)' if step.worker_peak_mb else ''}; "
        f"audit {_gb(audit):.2f} GB in {len(audit)} files ({step.result['gzip']} gzip), "
        f"bundle {_gb(list(out.rglob('*'))):.2f} GB",
        flush=True,
    )
    return step


def spill_limit_mb(scale: int) -> int:
    """The 4 GB limit scaled down with the events (10M events: 410 MB), so a smaller bundle spills as 100M would."""
    return max(SPILL_FLOOR_MB, round(FULL_LIMIT_MB * scale / 100_000_000))


def _remove_database(db: Path) -> None:
    """The database with its WAL, spill folders, findings file and the load's hidden lock and working copies."""
    for p in [*db.parent.glob(f"{db.name}*"), *db.parent.glob(f".{db.name}*"), db.with_suffix(".findings.parquet")]:
        if p.is_dir():
            shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


def _ingest(export: Path, db: Path, limit_mb: int) -> Step:
    _remove_database(db)
    return run_step(
        _WATCH_TEMP.format(folder=str(db.parent), pattern=f".{db.name}.loading-*.tmp")
        + f"""
import json
from pathlib import Path
from compliance.ingest.load import ingest
s = ingest([Path({str(export)!r})], Path({str(db)!r}), memory_limit='{limit_mb}MB')
_done.set()
print(json.dumps({{"findings_seconds": s.findings_seconds, "spilled_mb": max(_spill["peak"], _spilled()) / 1e6}}))
"""
    )


def _check(db: Path, limit_mb: int, findings_out: Path) -> Step:
    temp = db.with_name(db.name + ".check.tmp")
    return run_step(
        _WATCH_TEMP.format(folder=str(db.parent), pattern=temp.name)
        + f"""
import duckdb, json
from compliance.config.bundle import load_policy
from compliance.controls import run_controls
con = duckdb.connect({str(db)!r}, read_only=True,
                     config={{'memory_limit': '{limit_mb}MB', 'temp_directory': {str(temp)!r}}})
con.execute("set global TimeZone = 'UTC'").fetchall()
findings = run_controls(con, load_policy())
_done.set()
findings.write_parquet({str(findings_out)!r})
print(json.dumps({{"findings": findings.height, "spilled_mb": _spill["peak"] / 1e6}}))
"""
    )


# A cache, not evidence: which files it remembers depends on how recently each was written before the load.
_NOT_COMPARED = {"load_file_hashes"}


def _table_counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = con.execute("select table_name from duckdb_tables() order by 1").fetchall()
        names = [r[0] for r in tables if r[0] not in _NOT_COMPARED]
        return {n: con.execute(f'select count(*) from "{n}"').fetchall()[0][0] for n in names}
    finally:
        con.close()


def _same_stored_findings(a: Path, b: Path) -> bool:
    """The findings each load stored, compared as multisets (EXCEPT ALL both ways)."""
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false").fetchall()
        con.execute("attach $a as a (read_only)", {"a": str(a)}).fetchall()
        con.execute("attach $b as b (read_only)", {"b": str(b)}).fetchall()
        diff = con.execute(
            "select (select count(*) from (select * from a.findings except all select * from b.findings))"
            " + (select count(*) from (select * from b.findings except all select * from a.findings))"
        ).fetchall()[0][0]
        return diff == 0
    finally:
        con.close()


def bench_spill(scales: list[int], bundle: Callable[[int], Path], work: Path) -> None:
    """Ingest and check each bundle under 4 GB and under the proportionally small limit; same results?"""
    for scale in scales:
        export = bundle(scale)
        small = spill_limit_mb(scale)
        runs: dict[int, tuple[Step, Step, Path]] = {}
        for limit in (FULL_LIMIT_MB, small):
            db = work / f"spill-{scale}-{limit}mb.duckdb"
            loaded = _ingest(export, db, limit)
            found = db.with_suffix(".findings.parquet")
            checked = _check(db, limit, found)
            runs[limit] = (loaded, checked, db)
        print(f"\n## spill, {scale:,} audit events: memory_limit {FULL_LIMIT_MB} MB against {small} MB")
        print(f"{'step':40} {'limit MB':>8} {'wall s':>8} {'CPU s':>8} {'peak RSS MB':>11} {'spilled MB':>10}")
        for limit, (loaded, checked, _db) in runs.items():
            for name, step in (
                ("compliance ingest (findings included)", loaded),
                ("full check (run_controls)", checked),
            ):
                print(
                    f"{name:40} {limit:8d} {step.wall:8.1f} {step.cpu:8.1f} {step.peak_mb:11.0f} {step.result['spilled_mb']:10.0f}"
                )
        (_, _, full_db), (_, _, small_db) = runs[FULL_LIMIT_MB], runs[small]
        same_tables = _table_counts(full_db) == _table_counts(small_db)
        same_stored = _same_stored_findings(full_db, small_db)
        checks = [pl.read_parquet(db.with_suffix(".findings.parquet")) for db in (full_db, small_db)]
        same_check = checks[0].equals(checks[1])
        print(
            f"same row count in every table: {same_tables}; same stored findings: {same_stored}; "
            f"same check findings ({checks[0].height:,}): {same_check}"
        )
        for db in (full_db, small_db):
            _remove_database(db)
