"""The DSR page and the DSR notebook judge a request as it stood on the as-of date (issue 9).

One EU access request, received Fri 31 Jan 2025 (due Fri 28 Feb, GDPR Art. 12(3)) and completed Wed 5 Mar:
as of 4 Mar an auditor must see it open and 4 days overdue, not "completed late"; as of 5 Mar, completed
late. Both views read the same as-of state (`dsr_states`) as the controls.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")  # before the dashboard is imported

from conftest import build_db_file
from streamlit.testing.v1 import AppTest

from compliance.config.bundle import load_policy
from compliance.paths import REPO_ROOT

APP = REPO_ROOT / "dashboard" / "app.py"
NOTEBOOK = REPO_ROOT / "notebooks" / "dsr_audit.ipynb"
BEFORE_COMPLETION = dt.date(2025, 3, 4)
ON_COMPLETION = dt.date(2025, 3, 5)

pytestmark = pytest.mark.xdist_group("dashboard")


@pytest.fixture(scope="module")
def one_request_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("as-of") / "one.duckdb"
    return build_db_file(
        load_policy(),
        {
            "dsr_requests": [
                {"request_id": "DSR-LATE", "subject_id": "s-1", "jurisdiction": "EU", "request_type": "access",
                 "channel": "email", "received_at": "2025-01-31T10:00:00Z", "acknowledged_at": "2025-01-31T12:00:00Z",
                 "completed_at": "2025-03-05T10:00:00Z", "status": "completed"},
            ],
            # One audit event, so the notebook's audit-trail sections have a trail to read.
            "audit_events": [
                {"event_id": "e1", "occurred_at": "2025-01-31T12:00:00", "event_date": "2025-01-31",
                 "actor_id": "a1", "actor_type": "employee", "action": "read", "outcome": "success",
                 "resource_type": "dsr_case", "resource_id": "DSR-LATE"},
            ],
        },
        path,
    )  # fmt: skip


def _metric(at: AppTest, label: str) -> int:
    values = [m.value for m in at.metric if m.label == label]
    assert values, f"no metric {label!r}"
    return int(str(values[0]).replace(",", "").split()[0])


def _state(at: AppTest, request_id: str) -> str:
    for df in at.dataframe:
        frame = pl.from_pandas(df.value)
        if {"Request", "State as of"} <= set(frame.columns):
            return frame.filter(pl.col("Request") == request_id)["State as of"].item()
    raise AssertionError("no register table")


def test_dsr_page_shows_the_request_open_before_its_completion(
    one_request_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(one_request_db))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.switch_page("views/dsr.py").run()
    at.date_input(key="f_as_of").set_value(BEFORE_COMPLETION).run()
    assert not at.exception and not at.error
    assert (_metric(at, "Open"), _metric(at, "Overdue"), _metric(at, "Completed late")) == (1, 1, 0)
    assert _state(at, "DSR-LATE") == "Overdue"
    at.date_input(key="f_as_of").set_value(ON_COMPLETION).run()
    assert not at.exception and not at.error
    assert (_metric(at, "Open"), _metric(at, "Overdue"), _metric(at, "Completed late")) == (0, 0, 1)
    assert _state(at, "DSR-LATE") == "Completed late"


def _outputs(nb: nbformat.NotebookNode) -> str:
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(texts)


@pytest.mark.slow
def test_dsr_notebook_sees_the_request_open_before_its_completion(one_request_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "dsr_audit.ipynb"
    # As an analyst runs it (notebooks/README.md): papermill with the database and the as-of date as parameters.
    run = subprocess.run(
        [sys.executable, "-m", "papermill", str(NOTEBOOK), str(out), "-p", "DB", str(one_request_db),
         "-p", "AS_OF", BEFORE_COMPLETION.isoformat(), "--cwd", str(NOTEBOOK.parent), "--no-progress-bar"],
        capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    text = _outputs(nbformat.read(out, as_version=4))
    assert "as of 2025-03-04" in text
    assert "DSR-LATE · EU access · overdue:" in text
    assert "1 requests are open as of 2025-03-04: 1 overdue." in text
    assert "DSR-LATE · EU access · completed_late" not in text
