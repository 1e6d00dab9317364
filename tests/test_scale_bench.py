"""`bench/benchmark.py --only generate --only spill` at a small scale in a temporary folder: the generator line and
the spill comparison must print, and the load and check under the small memory_limit must give the same rows and
findings as under 4 GB. Timings are printed, never asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scale_bench import spill_limit_mb
from compliance.paths import REPO_ROOT


def test_spill_limit_scales_the_4gb_target_down_with_the_events() -> None:
    assert [spill_limit_mb(n) for n in (100_000_000, 30_000_000, 10_000_000, 10_000)] == [4096, 1229, 410, 256]


@pytest.mark.slow
def test_generate_and_spill_benchmark_print_and_agree(tmp_path: Path) -> None:
    env = dict(os.environ, COMPLIANCE_BENCH_DIR=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "bench/benchmark.py", "--scales", "10k", "--only", "generate", "--only", "spill"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(
        r"generated [\d,]+ audit events in [\d.]+ s \([\d.]+ s per million; CPU [\d.]+ s, [\d.]+ s per million\), "
        r"peak RSS \d+ MB; audit [\d.]+ GB in 366 files \(7 gzip\)",
        out,
    ), out
    assert len(re.findall(r"^(compliance ingest|full check).* (4096|256) +[\d.]+ +[\d.]+ +\d+ +\d+$", out, re.M)) == 4
    assert re.search(
        r"same row count in every table: True; same stored findings: True; same check findings \([\d,]+\): True", out
    ), out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export-10000", "export-10000.truth.jsonl"]  # cleaned up
