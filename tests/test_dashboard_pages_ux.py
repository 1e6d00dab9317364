"""Issue 18 on the Overview, DSR and Retention pages, with AppTest: counts from one definition
(compliance.posture_counts) agree across the page and with the engine, a section drills into its controls and
alarms, stale sources are said where the numbers are, the DSR table and the Retention page show what matters.

Runs on the small demo (shared with test_dashboard_apptest) and on tests/stale_bundle.py, a database whose DSR
export ends 62 days before the as-of date and whose inventory holds a few records that matter among many that
do not.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import duckdb
import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from streamlit.testing.v1 import AppTest
from test_dashboard_apptest import APP, TIMEOUT, _assert_clean, _number, _table, build_small_demo

from compliance.config.bundle import load_policy
from compliance.controls import run_controls
from compliance.posture_counts import alarms_by_section, open_alarm_count

pytestmark = pytest.mark.xdist_group("dashboard")


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_demo(tmp_path_factory.getbasetemp() / "dashboard-demo")


def build_stale_db(root: Path) -> Path:
    """tests/stale_bundle.py ingested into `root/stale.duckdb`, once (a file lock guards xdist workers)."""
    from compliance.ingest.load import ingest
    from tests.stale_bundle import write_stale_bundle

    root.mkdir(parents=True, exist_ok=True)
    db = root / "stale.duckdb"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not db.exists():
                ingest([write_stale_bundle(root / "export")], db)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return db


@pytest.fixture(scope="session")
def stale_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    return build_stale_db((base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "stale-bundle")


def _engine(db: Path) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return run_controls(con, load_policy())
    finally:
        con.close()


@pytest.fixture(scope="session")
def demo_findings(demo_db: Path) -> pl.DataFrame:
    return _engine(demo_db)


def _open(db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(page).run()
    _assert_clean(at)
    return at


def _texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in at.get(kind)]


def _all_cells(at: AppTest) -> list[str]:
    cells = []
    for df in [*at.dataframe, *at.table]:
        value = df.value
        value = value.data if hasattr(value, "data") else value
        cells += [str(v) for v in value.astype(str).to_numpy().ravel()]
    return cells


# --- Overview -----------------------------------------------------------------------------------


def test_overview_counts_agree_everywhere(demo_db: Path, demo_findings: pl.DataFrame, monkeypatch) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    total = open_alarm_count(demo_findings)
    posture = _table(at, "Section", "Posture", "Alarms")
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    engine = dict(alarms_by_section(demo_findings).select("policy_section", "open_alarms").iter_rows())
    assert _number(at, "Open alarms") == total == posture["Alarms"].sum() == problems["Open alarms"].sum() > 0
    assert dict(problems.select("Section", "Open alarms").iter_rows()) == engine
    in_posture = dict(posture.select("Section", "Alarms").iter_rows())
    assert all(in_posture[s] == n for s, n in engine.items())
    assert set(problems["Section"]) == {s for s, n in in_posture.items() if n}  # grouped by section, not page


def test_overview_section_drills_into_its_controls_and_alarms(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    assert at.selectbox(key="overview_section").value == problems["Section"][0]  # the worst section first
    for section in ("6", "8"):
        at.selectbox(key="overview_section").set_value(section).run()
        _assert_clean(at)
        alarms = demo_findings.filter((pl.col("status") == "alarm") & (pl.col("policy_section") == section))
        per_control = _table(at, "Control", "Open alarms", "Share of the section")
        expected = dict(alarms.group_by("control_id").len().iter_rows())
        assert dict(per_control.select("Control", "Open alarms").iter_rows()) == expected
        assert per_control["Open alarms"].to_list() == sorted(expected.values(), reverse=True)  # noisiest first
        assert per_control["Share of the section"].sum() == pytest.approx(1)
        top, n = per_control.row(0)[:2]
        assert any(f"raises {n} of the section's {alarms.height} open alarms" in c for c in _texts(at, "caption"))
        shown = _table(at, "Severity", "Control", "Reason")
        assert shown.height == alarms.height and set(shown["Control"]) == set(expected)
        at.selectbox(key="overview_section_control").set_value(top).run()
        assert set(_table(at, "Severity", "Control", "Reason")["Control"]) == {top}


def test_overview_row_click_picks_the_section(demo_db: Path, monkeypatch) -> None:
    """A click on a section row (st.dataframe selection) drives the same drill-down as the picker."""
    from dashboard.problems_by_section import SECTION_KEY, TABLE_KEY, _select_row

    at = _open(demo_db, "views/overview.py", monkeypatch)
    order = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")["Section"].to_list()
    state = {TABLE_KEY: {"selection": {"rows": [2]}}}
    monkeypatch.setattr("streamlit.session_state", state)
    _select_row(order)()
    assert state[SECTION_KEY] == order[2]


def test_overview_filters_narrow_the_problems_and_say_so(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    at.multiselect(key="f_sev").set_value(["critical"]).run()
    _assert_clean(at)
    critical = demo_findings.filter(pl.col("severity") == "critical")
    posture = _table(at, "Section", "Alarms", "Alarms matching the filters")
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    assert posture["Alarms"].sum() == open_alarm_count(demo_findings)
    matching = dict(posture.select("Section", "Alarms matching the filters").iter_rows())
    assert dict(problems.select("Section", "Open alarms").iter_rows()) == {s: n for s, n in matching.items() if n}
    assert problems["Open alarms"].sum() == _number(at, "Open alarms") == open_alarm_count(critical)


def test_overview_names_stale_sources(stale_db: Path, monkeypatch) -> None:
    at = _open(stale_db, "views/overview.py", monkeypatch)
    warning = next(w for w in _texts(at, "warning") if "Stale or empty sources" in w)
    assert "dsr: ends 2025-03-31, 62 days before" in warning
    assert "usage: no rows" in warning and "audit" not in warning
    fresh = _table(at, "Source", "Days behind as-of", "Stale")
    assert dict(fresh.select("Source", "Stale").iter_rows())["dsr"] == "stale"
    assert "None" not in _all_cells(at)
