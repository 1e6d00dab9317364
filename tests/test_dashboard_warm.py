"""dashboard/warm.py (run by dashboard/server.py as the server starts): the pages' libraries are imported and the
default view's cached results filled before the first visitor, and a failure there is only logged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from dashboard.warm import warm_up
warm_up()
wanted = ["altair", "fpdf", "compliance.evidence.package", "compliance.check", "dashboard.summary_download",
          "dashboard.dsr_table", "dashboard.alarm_history"]
print(json.dumps({m: m in sys.modules for m in wanted}))
"""


def _warm(db: Path) -> tuple[dict[str, bool], str]:
    env = dict(os.environ, COMPLIANCE_DB=str(db), PYTHONPATH=str(ROOT), COMPLIANCE_DASHBOARD_PERSIST="0")
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_warm_up_imports_every_pages_libraries(stale_db: Path) -> None:
    loaded, log = _warm(stale_db)
    assert all(loaded.values()), loaded
    assert "dashboard warmed up" in log and "warm-up failed" not in log


def test_warm_up_never_raises(tmp_path: Path) -> None:
    _, log = _warm(tmp_path / "missing.duckdb")  # the first visitor will see the error where it belongs
    assert "dashboard warm-up failed" in log
