"""Every command the README shows, run as a user runs it (a subprocess, small scale), with its output checked.

`compliance policy`, `check --fail-on critical/--section/--control` and a one-folder `ingest` are in test_cli.py;
`python notebooks/rebuild.py` in test_notebooks_other_db.py; `python bench/benchmark.py` in test_benchmark_cli.py.
The `make` targets wrap these (plus `pip install`) and are what CI itself runs.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_support import free_port, run_cli

from compliance.paths import REPO_ROOT
from tests.rhythm_bundle import write_rhythm_bundle


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, cwd=REPO_ROOT)


@pytest.mark.slow
def test_demo_writes_a_bundle_and_its_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "bundle"
    done = _run("demo", str(out), "--seed", "3", "--scale", "10k", env=dict(os.environ, COLUMNS="250"))
    assert done.returncode == 0, done.stderr
    truth = tmp_path / "bundle.truth.jsonl"
    assert f"ground truth: {truth}" in done.stdout
    truth_rows = [json.loads(line) for line in truth.read_text().splitlines()]
    planted = [r for r in truth_rows if "control_id" in r]  # the rest: dirty lines and duplicates planted
    assert len({r["control_id"] for r in planted}) == 28
    assert f"({len(planted):,} planted findings over 28 controls)" in done.stdout
    assert not (out / truth.name).exists()  # outside the bundle
    table = {
        cells[0]: cells[1:]
        for line in done.stdout.splitlines()
        if line.startswith("│") and (cells := [c.strip() for c in line.strip("│").split("│")])
    }
    for source in ("audit", "usage", "diagnostic", "dsr", "inventory", "directory", "tenants", "subjects"):
        files = len([p for p in (out / source).iterdir() if p.is_file()])
        assert table[source][0] == f"{files:,}", (source, done.stdout)
        assert int(table[source][1].replace(",", "")) > 0, (source, done.stdout)


def _two_exports(root: Path) -> tuple[Path, Path]:
    """The rhythm bundle split as two daily exports would arrive: weeks 10-16 in the first, 17-22 in the second."""
    first = write_rhythm_bundle(root / "2025-04-20")
    second = root / "2025-06-02"
    (second / "audit").mkdir(parents=True)
    for path in sorted((first / "audit").iterdir()):
        if path.name >= "2025-W17":
            shutil.move(path, second / "audit" / path.name)
    return first, second


def test_ci_gate_on_your_own_data(tmp_path: Path) -> None:
    """The README's two-line CI gate: ingest two exports, check with CSV output, fail on high."""
    first, second = _two_exports(tmp_path)
    db = tmp_path / "audit.duckdb"
    ingest = _run("ingest", str(first), str(second), "--db", str(db))
    assert ingest.returncode == 0, ingest.stderr
    audit_row = next(line for line in ingest.stdout.splitlines() if line.startswith("│ audit"))
    cells = [c.strip() for c in audit_row.strip("│").split("│")]
    assert cells[0] == "audit" and cells[1] == "13"  # files loaded: weeks 10-16 in one export, 17-22 in the other
    assert "findings of every control as of 2025-06-01 stored" in ingest.stdout

    findings = tmp_path / "findings.csv"
    gate = _run("check", "--db", str(db), "--format", "csv", "--output", str(findings), "--fail-on", "high")
    assert gate.returncode == 1, gate.stderr  # the planted high-severity audit gaps
    assert "Findings by policy section" in gate.stderr
    rows = list(csv.DictReader(findings.open()))
    alarms = sorted((r["control_id"], r["resource"], r["severity"]) for r in rows if r["status"] == "alarm")
    assert alarms == [
        ("access.off_hours", "actor:emp_day@2025-05-18", "medium"),
        ("security.audit_gap", "system:auth@2025-04-21", "high"),
        ("security.audit_gap", "system:billing@2025-04-14", "high"),
    ]
    calm = _run("check", "--db", str(db), "--as-of", "2025-04-10", "--format", "parquet", "--output", str(tmp_path / "f.parquet"))  # fmt: skip
    assert calm.returncode == 0, calm.stderr
    import polars as pl

    early = pl.read_parquet(tmp_path / "f.parquet")
    assert early.filter(pl.col("status") == "alarm").height == 0 and early.height > 20


@pytest.mark.xdist_group("dashboard")
def test_serve_answers_on_the_given_port(rhythm_db: Path, tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, STREAMLIT_SERVER_ADDRESS="127.0.0.1", STREAMLIT_SERVER_FILE_WATCHER_TYPE="none")
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "compliance", "serve", "--db", str(rhythm_db), "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        assert (
            f"dashboard on http://127.0.0.1:{port}  (no sign-in: this machine only; database {rhythm_db};"
            in log.read_text()
        )
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def test_serve_refuses_a_missing_database(tmp_path: Path) -> None:
    missing = _run("serve", "--db", str(tmp_path / "nope.duckdb"))
    assert missing.returncode == 2 and "no such database" in missing.stderr
