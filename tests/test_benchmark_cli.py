"""`python bench/benchmark.py` as the README shows it, at a small scale in a temporary folder: it must run and
print the check's comparison with the plain actor-day pass. Its figures are never asserted (speed is not tested)."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.paths import REPO_ROOT


def _benchmark(bench_dir: Path, only: str, timeout: int) -> str:
    """What `bench/benchmark.py --scales 10k --only <only>` prints with its bundles in `bench_dir`; it must succeed."""
    env = dict(os.environ, COMPLIANCE_BENCH_DIR=str(bench_dir))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--scales", "10k", "--only", only],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_check_benchmark_prints_the_honest_ratio(tmp_path: Path) -> None:
    out = _benchmark(tmp_path, "check", timeout=900)
    assert re.search(r"plain actor-day GROUP BY over audit_events \(actor_id, event_date, count\(\*\), "
                     r"sum\(record_count\)\), [\d,]+ groups: cold \(first query of a fresh process\) [\d.]+ s, "
                     r"[\d.]+ CPU s; warm \(best of 3 after it\) [\d.]+ s, [\d.]+ CPU s", out), out  # fmt: skip
    assert re.search(r"full check \(28 controls\), \d+ alarms, 0 errors, process peak \S+ MB: cold \(first query of "
                     r"its own fresh process\) [\d.]+ s, [\d.]+ CPU s; warm \(run again\) [\d.]+ s", out), out  # fmt: skip
    # both sides under the same conditions, cold and warm, wall and CPU
    assert re.search(r"check / pass, both cold \(the honest comparison: a check always starts cold; target <= 10x\): "
                     r"[\d.]+x wall, [\d.]+x CPU", out), out  # fmt: skip
    assert re.search(r"check / pass, both warm \(.*\): [\d.]+x wall, [\d.]+x CPU", out), out
    assert re.search(r"of which the \d+ shared models \(queries/models/\), built once: [\d.]+ s", out), out
    assert len(re.findall(r"^(access|dsr|security|retention|datamap)\.\S+ +[\d.]+ +\d+$", out, re.MULTILINE)) >= 20
    assert (tmp_path / "audit-10000.duckdb").exists()  # kept for the next run, outside the repository


@pytest.mark.slow
def test_daily_benchmark_prints_the_ratio_and_compares_the_findings(tmp_path: Path) -> None:
    out = _benchmark(tmp_path, "daily", timeout=1800)
    assert re.search(
        r"10,000: new day \d{4}-\d{2}-\d{2} \(\d+ files\).*stored findings equal to the full ingest's: True", out
    ), out
    num = r" +[\d.]+"  # full s, CPU s, peak MB, daily s, load s, findings s, record s, CPU s, peak MB, ratio, CPU ratio
    assert re.search(rf"^ +10,000{num * 10}% +[\d.]+%$", out, re.MULTILINE), out
    own = r"10,000: load plus stored findings alone \(the ingest's own seconds\): daily [\d.]+ s of full [\d.]+ s = [\d.]+%"
    assert re.search(own, out), out
    # the same-sized day: at the smallest scale, the whole newest day, alone in its folder
    assert "a day of the same size onto each history" in out, out
    assert re.search(r"^ +10,000 +[\d,]+ +[\d.]+ +[\d.]+ +[\d.]+ +(clone|bytes) +[\d.]+$", out, re.MULTILINE), out


def test_a_same_sized_day_keeps_one_line_in_n_of_the_day_files(tmp_path: Path) -> None:
    from bench.daily_bench import sample_day

    export = tmp_path / "export"
    (export / "audit").mkdir(parents=True)
    (export / "diagnostic").mkdir()
    with gzip.open(export / "audit" / "2025-12-31.jsonl.gz", "wt", encoding="utf-8") as f:
        f.writelines(f'{{"event_id": "e{n}"}}\n' for n in range(10))
    (export / "audit" / "2025-12-30.jsonl").write_text('{"event_id": "older"}\n', encoding="utf-8")
    (export / "diagnostic" / "2025-12-31.csv").write_text("line_id,message\n" + "".join(f"d{n},m\n" for n in range(5)))
    out = tmp_path / "day"
    assert sample_day(export, "2025-12-31", out, 3) == 4
    assert (out / "audit" / "2025-12-31.jsonl").read_text() == "".join(
        f'{{"event_id": "e{n}"}}\n' for n in (0, 3, 6, 9)
    )
    assert (out / "diagnostic" / "2025-12-31.csv").read_text() == "line_id,message\nd0,m\nd3,m\n"
    assert sorted(p.name for p in out.rglob("*.*")) == ["2025-12-31.csv", "2025-12-31.jsonl"]
    # bytes as they are: a line that is not UTF-8 stays a line for the load to reject
    (export / "diagnostic" / "2025-12-31.csv").write_bytes(b"line_id,message\nd0,caf\xe9\nd1,m\n")
    sample_day(export, "2025-12-31", out, 1)
    assert (out / "diagnostic" / "2025-12-31.csv").read_bytes() == b"line_id,message\nd0,caf\xe9\nd1,m\n"
    with pytest.raises(ValueError, match="no day file named 2026-01-01"):
        sample_day(export, "2026-01-01", out, 1)
