"""The access notebook and the dashboard count flagged actors by one definition (compliance.posture_counts): the
figure the notebook prints equals the Access page's "Actors flagged" on the demo (the notebook's stored run, which
nbval checks) and on a second, differently shaped database (tests/rhythm_bundle.py: other rhythms, most optional
sources missing), run fresh as of a date with alarms."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from apptest_support import assert_clean, number
from dashboard_support import APP, TIMEOUT
from streamlit.testing.v1 import AppTest

from compliance.paths import REPO_ROOT
from notebooks.rebuild import NOTEBOOK_DIR

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard")]
FLAGGED = re.compile(r"^(\d+) actors are flagged by the access detectors", re.MULTILINE)
DEMO_AS_OF = "2025-12-31"  # the notebooks' own AS_OF, with which the stored outputs are built
OTHER_AS_OF = "2025-06-02"  # a date with alarms on the rhythm database


def _notebook_figure(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    found = FLAGGED.findall(printed)
    assert len(found) == 1, f"the notebook states its flagged actors once: {found}"
    return int(found[0])


def _dashboard_figure(db: Path, as_of: str, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["as_of"] = as_of
    at.switch_page("views/access.py").run()
    assert_clean(at)
    return number(at, "Actors flagged")


def test_demo_notebook_and_dashboard_count_the_same_flagged_actors(monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.demo_database import ensure_demo_database

    stored = _notebook_figure(NOTEBOOK_DIR / "access_investigation.ipynb")
    assert _dashboard_figure(ensure_demo_database(), DEMO_AS_OF, monkeypatch) == stored > 0


def test_other_database_notebook_and_dashboard_count_the_same_flagged_actors(
    rhythm_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["access_investigation", "--param", f"DB={rhythm_db}", "--param", f"AS_OF={OTHER_AS_OF}"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "notebooks/rebuild.py", *args, "--output-dir", str(tmp_path)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = _notebook_figure(tmp_path / "access_investigation.ipynb")
    assert _dashboard_figure(rhythm_db, OTHER_AS_OF, monkeypatch) == ran > 0


PROBLEM_ROWS = re.compile(r"^([\d,]+) problem or exception rows? now")


@pytest.mark.parametrize("which", ["demo", "other"])
def test_evidence_page_counts_problem_rows_by_the_one_definition(
    which: str, rhythm_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Evidence page's "N problem or exception rows" is compliance.posture_counts.problem_row_count of the
    engine's findings on the same date, on the demo and on the second database."""
    import duckdb

    from compliance.config.bundle import load_policy
    from compliance.controls import run_controls
    from compliance.demo_database import ensure_demo_database
    from compliance.posture_counts import problem_row_count

    db, as_of = (ensure_demo_database(), DEMO_AS_OF) if which == "demo" else (rhythm_db, OTHER_AS_OF)
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["as_of"] = as_of
    at.switch_page("views/evidence.py").run()
    assert_clean(at)
    shown = [int(m.group(1).replace(",", "")) for c in at.caption if (m := PROBLEM_ROWS.match(c.value))]
    con = duckdb.connect(str(db), read_only=True)
    try:
        findings = run_controls(con, load_policy(), dt.date.fromisoformat(as_of))
    finally:
        con.close()
    assert shown == [problem_row_count(findings)]
    assert shown[0] > 0
