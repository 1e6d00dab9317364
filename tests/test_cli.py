"""The `compliance` command end to end: help texts, ingest, check as a CI gate, policy validation."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import run_cli
from policy_support import policy_copy
from typer.testing import CliRunner

from compliance.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    "command", ["demo", "ingest", "check", "serve", "policy", "notify", "history", "triage set", "triage list"]
)
def test_every_subcommand_explains_itself(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert len(result.output.strip().splitlines()) > 5


def test_check_gates_a_pipeline_on_severity(demo_build, tmp_path: Path) -> None:
    out = tmp_path / "findings.jsonl"
    gate = run_cli("check", "--db", str(demo_build.db), "--output", str(out), "--fail-on", "critical")
    # The demo plants critical problems (e.g. a GDPR breach notified 96 h after detection).
    assert gate.returncode == 1, gate.stderr
    assert "Findings by policy section" in gate.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {
        "control_id",
        "policy_section",
        "resource",
        "status",
        "severity",
        "reason",
        "observed_at",
        "evidence",
    } <= set(rows[0])
    assert any(r["status"] == "alarm" and r["severity"] == "critical" for r in rows)

    only_dsr = run_cli(
        "check", "--db", str(demo_build.db), "--section", "8", "--control", "dsr.overdue", "--format", "csv"
    )
    assert only_dsr.returncode == 0  # no --fail-on: informational run
    header, *lines = only_dsr.stdout.splitlines()
    assert header.startswith("control_id,policy_section,resource,status")
    assert lines and all(line.startswith("dsr.overdue,8,") for line in lines)

    # The same database and as-of date give byte-identical findings.
    again = tmp_path / "again.jsonl"
    first = run_cli("check", "--db", str(demo_build.db), "--output", str(out), "--as-of", "2025-12-31")
    second = run_cli("check", "--db", str(demo_build.db), "--output", str(again), "--as-of", "2025-12-31")
    assert first.returncode == second.returncode == 0
    assert out.read_bytes() == again.read_bytes()


def test_ingest_reports_per_source_and_is_idempotent(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    first = run_cli("ingest", str(demo_build.export), "--db", str(db))
    assert first.returncode == 0, first.stderr
    assert "audit" in first.stdout and "rejected" in first.stdout
    assert "findings of every control as of 2025-12-31 stored" in first.stdout
    assert "working copy" not in first.stdout  # a first load writes a new database: nothing to copy
    size = f"{db.stat().st_size / 1e6:,.0f} MB"
    second = run_cli("ingest", str(demo_build.export), "--db", str(db))
    assert second.returncode == 0 and "nothing new: database unchanged" in second.stdout
    # The load copied the published database first, whatever it then found: said with its size and cost.
    said = " ".join(second.stdout.split())
    assert re.search(f"working copy of the database: {size} (cloned|copied) in [0-9.]+ s", said), said


@pytest.mark.parametrize(
    ("cloned", "said"),
    [
        (True, "working copy of the database: 5,726 MB cloned in 0.0 s (the filesystem shares its blocks"),
        (False, "working copy of the database: 5,726 MB copied in 8.8 s; this filesystem does not clone files, so "
                "every load copies the whole database: on XFS formatted with reflink, or Btrfs, the clone is instant"),
        (False, "working copy of the database: 5,726 MB copied in 0.4 s."),
    ],
)  # fmt: skip
def test_the_working_copy_line_says_how_the_copy_was_made(cloned: bool, said: str) -> None:
    from compliance.cli import _working_copy_line
    from compliance.ingest.load import WorkingCopy

    seconds = float(said.split(" in ")[1].split(" s")[0])
    line = _working_copy_line(WorkingCopy(cloned, 5_725_761_536, seconds))
    assert line.startswith(said), line
    assert line.endswith(".") and ("XFS" in line) == (not cloned and seconds >= 1), line


def test_missing_export_and_missing_database_are_clear_errors(tmp_path: Path) -> None:
    ingest = run_cli("ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert ingest.returncode == 2 and "export folder does not exist" in ingest.stderr
    check = run_cli("check", "--db", str(tmp_path / "missing.duckdb"))
    assert check.returncode == 2 and "no such database" in check.stderr


def test_ingest_without_db_refuses_instead_of_loading_into_the_demo(tmp_path: Path) -> None:
    from tests.rhythm_bundle import write_rhythm_bundle

    export = write_rhythm_bundle(tmp_path / "export")
    demo_db = tmp_path / "demo" / "demo.duckdb"
    env = {k: v for k, v in os.environ.items() if k != "COMPLIANCE_DB"} | {"COMPLIANCE_DEMO_DIR": str(demo_db.parent)}

    def ingest(**extra_env: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "compliance", "ingest", str(export), "--no-findings"]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env | extra_env)

    for refused in (ingest(), ingest(COMPLIANCE_DB=str(demo_db))):
        assert refused.returncode == 2, refused.stderr
        assert "needs --db DATABASE" in refused.stderr and "Traceback" not in refused.stderr
    assert not demo_db.exists()
    # A configured database that is not the demo is the default.
    own = tmp_path / "own.duckdb"
    configured = ingest(COMPLIANCE_DB=str(own))
    assert configured.returncode == 0, configured.stderr
    assert f"Load into {own}: published" in configured.stdout and own.exists() and not demo_db.exists()


def test_policy_command_validates(tmp_path: Path) -> None:
    ok = run_cli("policy")
    assert ok.returncode == 0
    # The verdict stays on one line whatever the path length or terminal width.
    assert re.search(r"^Policy v0\.2 \(.*data/policy\) is valid$", ok.stdout, re.MULTILINE), ok.stdout
    assert re.search(r"policy sections\s*│\s*10\s*│", ok.stdout), ok.stdout
    long_dir = tmp_path / ("a-folder-name-long-enough-to-overflow-an-80-column-table-" * 2) / "policy"
    policy_copy(long_dir)
    moved = run_cli("policy", "--policy", str(long_dir))
    assert moved.returncode == 0 and re.search(r"\) is valid$", moved.stdout, re.MULTILINE), moved.stdout
    bad = tmp_path / "policy"
    bad.mkdir()
    broken = run_cli("policy", "--policy", str(bad))
    assert broken.returncode == 2 and "taxonomy.yaml" in broken.stderr


@pytest.mark.parametrize(
    ("args", "hint", "listed"),
    [
        (["--section", "S5", "--fail-on", "low"], "--section", "valid sections: PS"),
        (["--control", "dsr.overdu"], "--control", "valid ids: "),
        (["--section", "8", "--control", "security.mfa_missing"], "--control/--section", "no control is both"),
    ],
    ids=["unknown-section", "unknown-control", "empty-selection"],
)
def test_check_refuses_a_selection_that_checks_nothing(tmp_path: Path, args: list[str], hint: str, listed: str) -> None:
    # A CI gate with a typo must fail as a usage error (2), never pass (0) or look like an alarm (1).
    db = tmp_path / "none.duckdb"  # selection is checked first: no database needed to refuse it
    proc = run_cli("check", "--db", str(db), *args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and hint in proc.stderr
    assert listed in " ".join(proc.stderr.replace("│", " ").split())
