"""Benchmarks that print figures (never timed tests: machines are shared and noisy).

Each comparison runs side by side in one invocation, so ratios are meaningful even when absolute
times drift. Every measured step runs in its own subprocess so its peak memory (max RSS) is its own.

    python bench/benchmark.py                     # ingest + check at 1M and 10M events
    python bench/benchmark.py --scales 1M --only ingest
    python bench/benchmark.py --only dashboard    # page render times (AppTest) on the demo and 10M
    python bench/benchmark.py --only pages --scales 1M   # cold/warm page times in Chromium, demo and 1M
    python bench/benchmark.py --only pages --scales 10M --baseline /tmp/main   # ... beside another checkout
    python bench/benchmark.py --only vendors --scales 1M   # each vendor adapter vs the audit ingest
    python bench/benchmark.py --only spark --scales 1M     # check on DuckDB vs Spark local mode
    python bench/benchmark.py --only generate --scales 10M  # (re)generate the bundle: s per million, CPU, peak RSS, GB
    python bench/benchmark.py --only spill --scales 10M    # ingest + check under 4 GB and under 4 GB x scale/100M
    python bench/benchmark.py --only generate --only ingest --only check --scales 100M   # issue 17 (~6 GB bundle)
    python bench/benchmark.py --only daily --scales 1M,10M # one more day vs a full ingest; a same-sized day per history

Bundles are generated once per scale under bench/results/ (deterministic, seed 7) and reused.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # so `bench.*` imports work when run as a script
# Where bundles and databases are kept between runs (a test points it at a temporary folder).
WORK = Path(os.environ.get("COMPLIANCE_BENCH_DIR", ROOT / "bench" / "results"))
MEMORY_LIMIT = "4GB"


def parse_scale(s: str) -> int:
    s = s.lower()
    return int(float(s[:-1]) * {"k": 1e3, "m": 1e6}[s[-1]]) if s[-1] in "km" else int(s)


# Appended to every measured child: its own peak RSS (all threads, and any process it waited for) as a last line.
_PEAK_TRAILER = """
import json as _json, resource as _resource
print(_json.dumps({"_peak_kb": max(_resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss,
                                   _resource.getrusage(_resource.RUSAGE_CHILDREN).ru_maxrss)}))
"""


def run_measured(code: str) -> tuple[dict, float, float]:
    """Run Python code in a fresh interpreter; return (its JSON result, wall seconds, its own peak RSS in MB)."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + _PEAK_TRAILER], capture_output=True, text=True, cwd=ROOT
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        # A child killed by a signal (the kernel's out-of-memory killer: -9) leaves no message of its own.
        raise RuntimeError(f"{proc.stderr[-3000:]}\nexit status {proc.returncode}")
    json_lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]  # skip progress output
    # The child reports its own peak: RUSAGE_CHILDREN here is a maximum over every child so far.
    peak_mb = json_lines.pop()["_peak_kb"] / 1024
    result = json_lines[-1] if json_lines else {}
    return result, wall, peak_mb


def bundle(scale: int, *, fresh: bool = False) -> Path:
    """The seed-7 bundle of `scale` events, generated (and measured) when missing or when `fresh`."""
    out = WORK / f"export-{scale}"
    if fresh or not (out / "audit").exists():
        from bench.scale_bench import generate

        generate(scale, out, WORK / f"export-{scale}.truth.jsonl")
    return out


def database(scale: int) -> Path:
    db = WORK / f"audit-{scale}.duckdb"
    if not db.exists():
        from compliance.ingest.load import ingest

        ingest([bundle(scale)], db, memory_limit=MEMORY_LIMIT)
    return db


def _cpu_recorded(cpu: list[float]) -> Callable[[str], tuple[dict, float, float]]:
    """`run_measured` that appends each child's CPU seconds (user + system, all threads) to `cpu`: on a
    shared machine they drift far less than wall times."""

    def measured(code: str) -> tuple[dict, float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        result = run_measured(code)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        return result

    return measured


def bench_ingest(scale: int) -> None:
    export = bundle(scale)
    audit_glob = str(export / "audit" / "*.jsonl*")
    audit_bytes = sum(p.stat().st_size for p in (export / "audit").iterdir())
    raw_db = WORK / f"raw-{scale}.duckdb"
    our_db = WORK / f"ours-{scale}.duckdb"
    for p in (raw_db, our_db):
        p.unlink(missing_ok=True)

    cpu: list[float] = []  # CPU seconds of each measured step
    measured = _cpu_recorded(cpu)
    _raw_count, t_count, m_count = measured(f"""
        import duckdb, json
        con = duckdb.connect(); con.execute("set memory_limit='{MEMORY_LIMIT}'").fetchall()
        n = con.execute("select count(*) from read_json('{audit_glob}', format='newline_delimited', ignore_errors=true)").fetchall()[0][0]
        print(json.dumps({{"rows": n}}))
    """)
    raw_load, t_raw, m_raw = measured(f"""
        import duckdb, json
        con = duckdb.connect('{raw_db}'); con.execute("set memory_limit='{MEMORY_LIMIT}'").fetchall()
        con.execute("create table audit as select * from read_json('{audit_glob}', format='newline_delimited', ignore_errors=true)").fetchall()
        print(json.dumps({{"rows": con.execute("select count(*) from audit").fetchall()[0][0]}}))
    """)
    raw_db.unlink(missing_ok=True)
    # The same files our load reads, every source, each with DuckDB's own reader and auto-detection.
    readers = []
    kinds = {
        "jsonl": ("*.jsonl*", "read_json('{}', format='newline_delimited', ignore_errors=true)"),
        "csv": ("*.csv*", "read_csv('{}', union_by_name=true)"),
        "parquet": ("*.parquet", "read_parquet('{}', union_by_name=true)"),
    }
    for folder in sorted(p for p in export.iterdir() if p.is_dir()):
        for kind, (pattern, reader) in kinds.items():
            if list(folder.glob(pattern)):
                readers.append((f"{folder.name}_{kind}", reader.format(folder / pattern)))
    stmts = "; ".join(f"create table {t} as select * from {r}" for t, r in readers)
    _, t_raw_all, m_raw_all = measured(f"""
        import duckdb
        con = duckdb.connect('{raw_db}'); con.execute("set memory_limit='{MEMORY_LIMIT}'").fetchall()
        con.execute("set enable_progress_bar = false").fetchall()
        con.execute(\"\"\"{stmts}\"\"\").fetchall()
    """)
    ours, t_ours, m_ours = measured(f"""
        import json
        from pathlib import Path
        from compliance.ingest.load import ingest
        s = ingest([Path('{export}')], Path('{our_db}'), memory_limit='{MEMORY_LIMIT}')
        a = next(r for r in s.by_source() if r['source'] == 'audit')
        print(json.dumps({{"audit_loaded": a['rows_loaded'], "audit_rejected": a['rows_rejected'],
                          "audit_duplicate": a['rows_duplicate'], "all_rows": sum(r['rows_read'] for r in s.by_source()),
                          "seconds": s.seconds, "findings_seconds": s.findings_seconds,
                          "findings_cpu_seconds": s.findings_cpu_seconds}}))
    """)
    t_findings = float(ours["findings_seconds"])
    t_load = t_ours - t_findings
    print(
        f"\n## ingest, {scale:,} audit events ({audit_bytes / 1e9:.2f} GB of audit JSONL), memory_limit {MEMORY_LIMIT}"
    )
    print(f"{'step':58} {'seconds':>8} {'Mevents/s':>10} {'peak MB':>8} {'CPU s':>7}")
    n = raw_load.get("rows", scale)
    c_count, c_raw, c_raw_all, c_ours = cpu
    c_findings = float(ours["findings_cpu_seconds"])
    for name, t, m, c in (
        ("DuckDB read_json count(*), audit files (parse only)", t_count, m_count, c_count),
        ("DuckDB read_json -> table, audit files only", t_raw, m_raw, c_raw),
        ("DuckDB raw readers -> tables, every file of the export", t_raw_all, m_raw_all, c_raw_all),
        ("compliance ingest, every file (validate, dedupe, enrich)", t_load, float("nan"), c_ours - c_findings),
        ("  + evaluate and store every control's findings", t_findings, float("nan"), c_findings),
        ("  = compliance ingest, the whole command", t_ours, m_ours, c_ours),
    ):
        print(f"{name:58} {t:8.1f} {n / t / 1e6:10.2f} {m:8.0f} {c:7.1f}")
    # The findings step is the work of a `check` (benchmarked below), not of reading files: the ratio
    # against the raw readers is the load's; the whole command's is printed beside it.
    print(f"ratio ours (load) / raw readers over the same files: {t_load / t_raw_all:.2f}x   (target <= 1.5x)")
    print(f"ratio ours (whole command, findings included) / raw readers: {t_ours / t_raw_all:.2f}x")
    print(f"CPU ratio ours (load) / raw readers: {(c_ours - c_findings) / c_raw_all:.2f}x")
    print(f"CPU ratio ours (whole command, findings included) / raw readers: {c_ours / c_raw_all:.2f}x")
    print(f"ratio ours (load) / read_json table of the audit files alone: {t_load / t_raw:.2f}x")
    print(
        f"audit rows: loaded {ours['audit_loaded']:,}, duplicates {ours['audit_duplicate']:,}, rejected {ours['audit_rejected']:,}"
    )
    raw_db.unlink(missing_ok=True)
    our_db.replace(WORK / f"audit-{scale}.duckdb")  # the check benchmark reuses this load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", default="1M,10M", help="comma-separated audit event counts, e.g. 1M,10M")
    ap.add_argument(
        "--only",
        choices=["generate", "ingest", "check", "spill", "daily", "dashboard", "vendors", "pages", "spark"],
        action="append",
    )
    ap.add_argument(
        "--baseline", type=Path, help="pages: another checkout (e.g. `git archive main` unpacked) measured alongside"
    )
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["ingest", "check", "dashboard"])
    scales = [parse_scale(s) for s in args.scales.split(",")]
    print(f"# benchmark ({time.strftime('%Y-%m-%d %H:%M')}, {sys.platform}, python {sys.version.split()[0]})")
    for scale in scales:
        if "generate" in only:
            print(f"\n## generate, {scale:,} audit events (seed 7)")
            bundle(scale, fresh=True)
        if "ingest" in only:
            bench_ingest(scale)
    if "spill" in only:
        from bench.scale_bench import bench_spill

        bench_spill(scales, bundle, WORK)
    if "daily" in only:
        from bench.daily_bench import bench_daily

        bench_daily(scales, WORK, run_measured, bundle, MEMORY_LIMIT)
    if "check" in only:
        from bench.check_bench import bench_check

        bench_check(scales)
    if "spark" in only:
        from bench.spark_bench import bench_spark

        bench_spark(scales)
    if "vendors" in only:
        from bench.vendor_bench import bench_vendors

        bench_vendors(scales, WORK, run_measured)
    if "dashboard" in only:
        try:
            from bench.dashboard_bench import bench_dashboard
        except ImportError:
            print("\n## dashboard: bench/dashboard_bench.py not present")
        else:
            from compliance.demo_database import ensure_demo_database

            bench_dashboard([ensure_demo_database(), *[database(s) for s in scales if s >= 10_000_000]])
    if "pages" in only:
        from bench.dashboard_bench import bench_pages
        from compliance.demo_database import ensure_demo_database

        bench_pages([ensure_demo_database(), *[database(s) for s in scales]], baseline=args.baseline)


if __name__ == "__main__":
    main()
