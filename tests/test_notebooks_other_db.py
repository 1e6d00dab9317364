"""Every audit notebook runs top to bottom on a second, differently shaped database (tests/rhythm_bundle.py:
other rhythms, most optional sources missing, an empty DSR register), as of a date with alarms and as of one
with none at all, and states what it could and could not assess. The demo runs are checked by nbval."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from compliance.paths import REPO_ROOT
from compliance.pseudonyms import KEY_ENV, pseudonymise
from notebooks.rebuild import NOTEBOOK_DIR

WITH_ALARMS, NO_ALARMS = "2025-06-02", "2025-04-10"
KEY = "other-db-notebooks-test-key-0123456789abcdef"  # people are pseudonymised under the deployment's key

# (notebook, as of) -> lines its printed output must hold.
EXPECTED: dict[tuple[str, str], list[str]] = {
    ("dsr_audit", WITH_ALARMS): [
        "0 requests were received by 2025-06-02.",
        "dsr.overdue: not evaluated: The dsr export held no loadable rows",
        "  - Deadlines: not assessed: the DSR register holds no request received by 2025-06-02.",
        "  - Triage of the DSR findings: 0 alarm(s), 0 of them waived by exceptions.yaml; none triaged yet (no triage store beside the database), so 0 remain open.",
    ],
    ("retention_audit", WITH_ALARMS): [
        "  - Records: not assessed: No inventory export was loaded",
        "source:audit [ok]: The audit export holds 4239 lines",
        " source:diagnostic: not assessed (no lines loaded).",
        "  - Erasure on request: not assessed: The dsr export held no loadable rows",
    ],
    ("access_investigation", WITH_ALARMS): [
        "1 actors are flagged by the access detectors (1 alarms in all); 2 more alarm(s) concern other resources.",
        f"Investigating {pseudonymise('emp_day', KEY, 'A-')}: the most severely flagged actor",
        "  - Behaviour: 1 alarm(s) from access.off_hours; on 2025-05-18 they touched 200 records",
        "  - Triage of the section-5 findings: 3 alarm(s), 0 of them waived by exceptions.yaml; none triaged yet (no triage store beside the database), so 3 remain open.",
    ],
    ("access_investigation", NO_ALARMS): [
        "0 actors are flagged by the access detectors (0 alarms in all)",
        "nobody is flagged",
        "  - Behaviour: no section-5 detector raised an alarm about them.",
        "  - Triage of the section-5 findings: 0 alarm(s), 0 of them waived by exceptions.yaml; none triaged yet (no triage store beside the database), so 0 remain open.",
    ],
    ("datamap_reconciliation", WITH_ALARMS): [
        "Section 2 (data categories): kept: every category the exports show is declared in the data map.",
        "  datamap.personal_data_in_logs (section 2): not assessed (",
        "consent.analytics_without_consent (section 4): not assessed (",
    ],
    ("datamap_reconciliation", NO_ALARMS): [
        "transfer.no_safeguard: 0 subject(s) processed without a lawful mechanism",
        "  disclosure.unapproved_recipient (section PS): 0 alarm(s).",
    ],
}


def _printed(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "as_of"), list(EXPECTED), ids=[f"{n}@{d}" for n, d in EXPECTED])
def test_notebook_runs_on_another_database(name: str, as_of: str, rhythm_db: Path, tmp_path: Path) -> None:
    """Run as the README says, `python notebooks/rebuild.py NAME --param ... --output-dir ...`."""
    args = [name, "--param", f"DB={rhythm_db}", "--param", f"AS_OF={as_of}", "--output-dir", str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    env[KEY_ENV] = KEY
    done = subprocess.run(
        [sys.executable, "notebooks/rebuild.py", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{name}.ipynb: executed in" in done.stdout
    printed = _printed(tmp_path / f"{name}.ipynb")
    assert f"Auditing the database 'rhythm.duckdb' as of {as_of}" in printed
    for line in EXPECTED[(name, as_of)]:
        assert line in printed, line


def test_every_notebook_is_run_on_another_database() -> None:
    assert {name for name, _ in EXPECTED} == {p.stem for p in NOTEBOOK_DIR.glob("*.ipynb")}
