"""The audit notebooks show each finding's waiver and triage state (issue 14): run as an analyst runs them
(papermill), on a copy of a second database that has a triage store beside it and a policy folder with a
waiver, the investigation notebook shows those states beside the alarms and counts them in its conclusion."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import nbformat
import polars as pl
import pytest
from policy_support import policy_copy

from compliance.config.bundle import load_policy
from compliance.controls import run_controls
from compliance.paths import REPO_ROOT
from compliance.triage import set_state
from notebooks.rebuild import NOTEBOOK_DIR

AS_OF = "2025-06-02"  # the rhythm database has three section-5 alarms on this date
NOTEBOOK = NOTEBOOK_DIR / "access_investigation.ipynb"


def _section5_alarms(db: Path) -> list[tuple[str, str]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        findings = run_controls(con, load_policy(), date.fromisoformat(AS_OF), sections=["5"])
    finally:
        con.close()
    alarms = findings.filter(pl.col("status") == "alarm").sort("control_id", "resource")
    return list(alarms.select("control_id", "resource").iter_rows())


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


@pytest.mark.slow
def test_access_notebook_shows_waivers_and_triage_states(rhythm_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"  # a copy: the store is written beside it, never beside the shared fixture
    shutil.copyfile(rhythm_db, db)
    alarms = _section5_alarms(db)
    assert len(alarms) == 3, alarms
    (waived_control, waived_resource), acknowledged, resolved = alarms
    set_state(db, *acknowledged, "acknowledged", "Asked the team lead", "analyst@capantra.com", "dana")
    set_state(db, *resolved, "resolved", "Rule tuned for the night shift", "analyst@capantra.com")
    policy_dir = policy_copy(tmp_path / "policy")
    (policy_dir / "exceptions.yaml").write_text(
        "waivers:\n"
        "  - id: W-TEST-1\n"
        f"    control: {waived_control}\n"
        f'    resource: "{waived_resource}"\n'
        "    reason: Known scanner, reviewed with the DPO\n"
        "    approved_by: dpo@capantra.com\n"
        "    approved_at: 2025-01-01\n"
        "    expires: 2026-01-01\n"
    )
    out = tmp_path / "out.ipynb"
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(NOTEBOOK), str(out), "-p", "DB", str(db), "-p", "AS_OF", AS_OF,
         "-p", "POLICY_DIR", str(policy_dir), "-p", "REVEAL_IDS", "True", "--cwd", str(NOTEBOOK_DIR), "--no-progress-bar"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = _printed(out)
    assert (
        "Triage of the section-5 findings: 3 alarm(s), 1 of them waived by exceptions.yaml, 1 acknowledged, "
        "1 closed by triage (resolved, false positive or risk accepted), 0 open." in text
    )
    table_rows = [line for line in text.splitlines() if line.startswith("│ access.") or line.startswith("│ security.")]
    row_of = {(r.split("┆")[0].strip("│ "), r.split("┆")[1].strip()): r for r in table_rows}
    assert "suppressed" in row_of[(waived_control, waived_resource)]
    assert "true" in row_of[(waived_control, waived_resource)]
    assert "acknowledged" in row_of[acknowledged] and "dana" in row_of[acknowledged]
    assert "Asked the team lead" in row_of[acknowledged]
    assert "resolved" in row_of[resolved] and "Rule tuned for the night shift" in row_of[resolved]
