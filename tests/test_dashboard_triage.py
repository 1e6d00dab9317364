"""The Alarms & triage page and the Overview's history, with AppTest, on a copy of the demo database."""

from __future__ import annotations

import getpass
import os
import shutil
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")

from streamlit.testing.v1 import AppTest

from compliance.config.bundle import load_policy
from compliance.controls import run_controls
from compliance.history import record_run
from compliance.triage import current_states, triage_records

APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
PAGE = "views/triage.py"


@pytest.fixture
def db(demo_build, tmp_path: Path) -> Path:
    path = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, path)  # the page writes its triage store beside the database
    return path


@pytest.fixture
def app(db: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    return AppTest.from_file(str(APP), default_timeout=180)


def _metric(at: AppTest, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label))


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_state_changes_from_the_page_are_stored_and_shown(app: AppTest, db: Path) -> None:
    at = app.switch_page(PAGE)
    _run(at)
    assert not at.error
    alarms = _metric(at, "Open, untriaged or reopened")
    assert alarms > 0 and _metric(at, "Acknowledged") == 0
    finding = at.selectbox(key="triage_finding")
    # On screen the finding is named with people pseudonymised; the store gets the real key.
    assert not any("emp_" in str(o) for o in finding.options)
    control_id, resource = finding.value
    assert at.selectbox(key="triage_state").value == "open"

    at.selectbox(key="triage_state").set_value("acknowledged")
    at.text_input(key="triage_assignee").input("alice")
    at.text_area(key="triage_note").input("Checking with the account owner")
    at.button(key="triage_save").click()
    _run(at)
    who = f"local:{getpass.getuser()}"  # the open demo mode: the local user, with every role
    assert [s.value for s in at.success if s.value.startswith(f"Saved: Open -> Acknowledged by {who}")]
    latest = current_states(db).row(0, named=True)
    assert (latest["control_id"], latest["resource"], latest["state"], latest["assignee"]) == (
        control_id, resource, "acknowledged", "alice",
    )  # fmt: skip
    assert latest["changed_by"] == who
    assert _metric(at, "Acknowledged") == 1 and _metric(at, "Open, untriaged or reopened") == alarms - 1
    # The form starts again from the stored state, with an empty note.
    assert at.selectbox(key="triage_state").value == "acknowledged"
    assert at.text_area(key="triage_note").value == ""
    history = next(df.value for df in at.dataframe if "Who" in df.value.columns)
    assert history[["Who", "State", "Note"]].values.tolist() == [
        [who, "Acknowledged", "Checking with the account owner"]
    ]

    at.selectbox(key="triage_state").set_value("false_positive")
    at.text_area(key="triage_note").input("Scheduled job")
    at.button(key="triage_save").click()
    _run(at)
    assert _metric(at, "Closed by triage") == 1 and _metric(at, "Acknowledged") == 0
    assert triage_records(db)["state"].to_list() == ["acknowledged", "false_positive"]
    assert triage_records(db)["assignee"].to_list() == ["alice", "alice"]

    # The state filter narrows the table and the finding list to false positives.
    at.multiselect(key="triage_filter").set_value(["false_positive"])
    _run(at)
    assert at.selectbox(key="triage_finding").options == [at.selectbox(key="triage_finding").options[0]]


def test_a_change_without_a_note_is_refused(app: AppTest, db: Path) -> None:
    at = _run(app.switch_page(PAGE))
    at.selectbox(key="triage_state").set_value("resolved")
    at.button(key="triage_save").click()
    _run(at)
    assert [e.value for e in at.error] == ["Not saved: a note saying why is required for every change"]
    assert triage_records(db).is_empty()


def _findings(db: Path, as_of: date) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return run_controls(con, load_policy(), as_of)
    finally:
        con.close()


def test_overview_and_triage_show_history_of_recorded_runs(app: AppTest, db: Path) -> None:
    at = _run(app.switch_page("views/overview.py"))
    assert any("No run recorded for this database yet" in i.value for i in at.info)
    for day in (date(2025, 10, 1), date(2025, 11, 15), date(2025, 12, 31)):
        record_run(db, _findings(db, day), day, "check", load_policy().digest)
    at = _run(app.switch_page("views/overview.py"))
    ttr = next(df.value for df in at.dataframe if "Median days" in df.value.columns)
    assert ttr["Still open"].sum() > 0
    at = _run(app.switch_page(PAGE))
    table = next(df.value for df in at.dataframe if "First seen" in df.value.columns)
    assert table["First seen"].notna().all()  # every alarm as of the newest date was in the last run
    assert "2025-10-01" in set(table["First seen"])
