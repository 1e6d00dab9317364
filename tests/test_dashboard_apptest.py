"""The dashboard, rendered server-side with Streamlit's AppTest on a small demo database.

Every page renders without an exception or an error box, and its key figures equal what the
controls engine (`run_controls`) finds on the same database; changing the as-of date or a filter
changes the figures accordingly and is written to the URL.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

# Before the dashboard is imported: keep control results in memory (no ~/.streamlit/cache files).
os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
# A fixed pseudonym key: tests never create one in the home folder.
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from apptest_support import assert_clean as _assert_clean
from apptest_support import number as _number
from apptest_support import plain as _plain
from apptest_support import table as _table
from apptest_support import url as _url
from dashboard_support import APP, PAGES, TIMEOUT
from plain_language import assert_plain_language
from streamlit.testing.v1 import AppTest

from compliance.catalog import PAGES as CATALOG_PAGES
from compliance.catalog import load_catalog
from compliance.config.bundle import load_policy
from compliance.controls import run_controls

pytestmark = pytest.mark.xdist_group("dashboard")  # one worker builds the demo database once


@pytest.fixture
def app(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("COMPLIANCE_DB", str(demo_db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    yield at


def _open(at: AppTest, page: str) -> AppTest:
    # Straight to the page: our pages keep their file names as URL paths, so no first run on the
    # Overview (which evaluates every control) is needed to resolve them.
    at.switch_page(page).run()
    _assert_clean(at)
    return at


def _alarms(findings: pl.DataFrame, control_id: str) -> int:
    return findings.filter((pl.col("control_id") == control_id) & (pl.col("status") == "alarm")).height


# --- every page -------------------------------------------------------------------------------


# Pages whose tabs are built only when open: the URL key that opens one.
TAB_KEYS = {"views/policy_map.py": "policy_tab", "views/dsr.py": "dsr_tab"}


def _every_part_opened(at: AppTest, page: str) -> Iterator[AppTest]:
    """The page with its closed parts opened (built on demand): every expander at once, then each tab."""
    for key in [e.key for e in at.expander if e.key]:
        at.session_state[key] = True
    yield at.run()
    for label in [t.label for t in at.tabs] if page in TAB_KEYS else []:
        at.query_params[TAB_KEYS[page]] = label
        yield at.run()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders(app: AppTest, page: str) -> None:
    at = _open(app, page)
    assert at.title, "every page has a title"
    assert_plain_language(at)
    for opened in _every_part_opened(at, page):  # what a click builds reads as plainly
        _assert_clean(opened)
        assert_plain_language(opened)
    at.run()  # a warm rerun renders the same page again
    _assert_clean(at)


def test_sidebar_shows_the_database_and_as_of_date(app: AppTest, demo_db: Path, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/overview.py")
    assert any(demo_db.name in _plain(m.value) for m in at.sidebar.markdown)
    assert at.date_input(key="f_as_of").value == dt.date(2025, 12, 31)  # the newest date in the data


# --- key figures against the controls engine ---------------------------------------------------


def test_overview_alarms_per_section_equal_the_engine(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/overview.py")
    table = _table(at, "Section", "Posture", "Alarms")
    shown = dict(table.select("Section", "Alarms").iter_rows())
    engine = dict(demo_findings.filter(pl.col("status") == "alarm").group_by("policy_section").len().iter_rows())
    assert shown == {s: engine.get(s, 0) for s in shown}
    assert set(shown) == {"PS", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
    assert _number(at, "Open alarms") == demo_findings.filter(pl.col("status") == "alarm").height
    assert _number(at, "Controls evaluated") == demo_findings["control_id"].n_unique()


def test_dsr_figures_equal_the_engine(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/dsr.py")
    assert _number(at, "Overdue") == _alarms(demo_findings, "dsr.overdue") > 0
    assert _number(at, "Completed late") == _alarms(demo_findings, "dsr.completed_late")
    assert _number(at, "Late extensions") == _alarms(demo_findings, "dsr.extension_late")
    due_soon = demo_findings.filter((pl.col("control_id") == "dsr.due_soon") & (pl.col("status") == "info")).height
    assert _number(at, "Due within 7 days") == due_soon


def test_retention_figures_equal_the_engine(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/retention.py")
    assert _number(at, "Past retention") == _alarms(demo_findings, "retention.record_past_retention") > 0
    assert _number(at, "Erasures incomplete") == _alarms(demo_findings, "retention.erasure_incomplete")
    assert _number(at, "Log sources kept too long") == _alarms(demo_findings, "retention.log_past_retention")


def test_access_figures_equal_the_engine(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/access.py")
    access = demo_findings.filter(pl.col("control_id").str.starts_with("access.") & (pl.col("status") == "alarm"))
    assert _number(at, "Access alarms") == access.height > 0
    actors = access["resource"].str.extract(r"^actor:([^@]+)").drop_nulls().n_unique()
    assert _number(at, "Actors flagged") == actors


def test_security_figures_equal_the_engine(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/security.py")
    for label, control_id in (
        ("Weak encryption", "security.unencrypted_transport"),
        ("Audit-log gaps", "security.audit_gap"),
        ("MFA missing", "security.mfa_missing"),
        ("Unlawful transfers", "transfer.no_safeguard"),
        ("Unapproved recipients", "disclosure.unapproved_recipient"),
        ("Late incident notices", "incident.notification_late"),
    ):
        assert _number(at, label) == _alarms(demo_findings, control_id), label


def test_policy_map_flags_the_undeclared_categories(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/policy_map.py")
    assert _number(at, "Categories seen but undeclared") == _alarms(demo_findings, "datamap.undeclared_category") > 0
    assert any("no system of the data map declares" in w.value for w in at.warning)


def test_data_health_counts_equal_the_manifest(app: AppTest, demo_db: Path) -> None:
    at = _open(app, "views/data_health.py")
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        files, rejected, duplicates = con.sql(
            "select count(*), sum(rows_rejected), sum(rows_duplicate) from load_manifest"
        ).fetchall()[0]
    finally:
        con.close()
    assert _number(at, "Files") == files
    assert _number(at, "Rejected") == rejected > 0
    assert _number(at, "Duplicates") == duplicates


def test_evidence_reports(app: AppTest, demo_db: Path) -> None:
    at = _open(app, "views/evidence.py")
    assert {b.label for b in at.get("download_button")} >= {
        "Download CSV",
        "Download Parquet",
        "Download JSON Lines",
        "Download the record (CSV)",
        "Download the evidence package (ZIP)",
    }
    metrics = _table(at, "Request type", "Complied with in whole or in part")
    total = metrics.filter(pl.col("Request type") == "All requests").row(0, named=True)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        # CCPA regs 7102: US-CA requests by default (the page shows the newest year, 2025).
        received, completed, rejected = con.sql(
            "select count(*), count(*) filter (status = 'completed'), count(*) filter (status = 'rejected') "
            "from dsr_deadlines where year(received_date) = 2025 and jurisdiction = 'US-CA'"
        ).fetchall()[0]
    finally:
        con.close()
    assert (total["Received"], total["Complied with in whole or in part"], total["Denied"]) == (
        received,
        completed,
        rejected,
    )


# --- interaction: as-of date, filters, URL ------------------------------------------------------


def test_as_of_date_changes_the_figures(app: AppTest, demo_db: Path) -> None:
    at = _open(app, "views/dsr.py")
    before = _number(at, "Overdue")
    earlier = dt.date(2025, 12, 5)  # DSR-2025-00127 (due 10 Dec) was not overdue yet
    at.date_input(key="f_as_of").set_value(earlier).run()
    _assert_clean(at)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        engine = run_controls(con, load_policy(), earlier, control_ids=["dsr.overdue"])
    finally:
        con.close()
    expected = engine.filter(pl.col("status") == "alarm").height
    assert _number(at, "Overdue") == expected != before
    assert _url(at, "as_of") == [earlier.isoformat()]


def test_jurisdiction_filter_narrows_requests(app: AppTest, demo_db: Path) -> None:
    at = _open(app, "views/dsr.py")
    everyone = _number(at, "Received")
    at.multiselect(key="f_jur").set_value(["EU"]).run()
    _assert_clean(at)
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        eu = con.sql("select count(*) from dsr_deadlines where jurisdiction = 'EU'").fetchall()[0][0]
    finally:
        con.close()
    assert _number(at, "Received") == eu < everyone
    assert _url(at, "jur") == ["EU"]


def test_severity_filter_narrows_open_alarms(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/overview.py")
    at.multiselect(key="f_sev").set_value(["critical"]).run()
    _assert_clean(at)
    critical = demo_findings.filter((pl.col("status") == "alarm") & (pl.col("severity") == "critical")).height
    assert _number(at, "Open alarms") == critical
    # The posture table counts every finding as of the date: filters narrow the problem lists only.
    table = _table(at, "Section", "Posture", "Alarms")
    assert table["Alarms"].sum() == demo_findings.filter(pl.col("status") == "alarm").height
    at.button[0].click().run()  # Reset filters
    assert at.multiselect(key="f_sev").value == []


def test_filters_are_read_from_the_url(app: AppTest) -> None:
    app.query_params.update({"as_of": "2025-11-30", "jur": ["UK", "US-CA"], "sev": "high", "from": "2025-06-01"})
    at = _open(app, "views/dsr.py")
    assert at.date_input(key="f_as_of").value == dt.date(2025, 11, 30)
    assert at.multiselect(key="f_jur").value == ["UK", "US-CA"]
    assert at.multiselect(key="f_sev").value == ["high"]
    assert at.date_input(key="f_period").value[0] == dt.date(2025, 6, 1)
    assert _url(at, "jur") == ["UK", "US-CA"]


# --- identifiers ----------------------------------------------------------------------------------


def test_identifiers_are_pseudonymised_until_revealed(app: AppTest, demo_findings: pl.DataFrame) -> None:
    at = _open(app, "views/access.py")
    flagged = _table(at, "Actor", "Detectors")
    real = set(demo_findings["resource"].str.extract(r"^actor:([^@]+)").drop_nulls())
    shown = " ".join(str(v) for row in flagged.rows() for v in row)
    assert not any(actor in shown.split() for actor in real), "a real actor id leaked into the table"
    assert all(a.startswith("A-") and len(a) == 2 + 16 for a in flagged["Actor"])  # 64 bits shown
    actor = at.selectbox(key="access_actor").value
    assert _url(at, "actor") == [actor]  # the pseudonym, never the real id, goes in the URL
    assert not any(r in _plain(md.value) for md in at.markdown for r in real)
    at.toggle(key="access_reveal").set_value(True).run()
    _assert_clean(at)
    assert any(r in _plain(md.value) for md in at.markdown for r in real)


def test_dsr_table_pseudonymises_subjects(app: AppTest, demo_db: Path) -> None:
    at = _open(app, "views/dsr.py")
    table = _table(at, "Request", "Subject", "State as of")
    assert table["Subject"].str.starts_with("S-").all()
    at.text_input(key="dsr_search").set_value("DSR-2025-00119").run()
    assert _table(at, "Request", "Subject", "State as of")["Request"].to_list() == ["DSR-2025-00119"]
    assert any("DSR-2025-00119" in _plain(md.value) and "S-" in _plain(md.value) for md in at.markdown)


# --- an empty database -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def empty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every table of docs/database.md, the policy's reference tables, and no exported data."""
    from conftest import build_db  # the query tests' database builder

    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    con = duckdb.connect(str(path))
    build_db(load_policy(), {}, con)
    con.close()
    return path


@pytest.mark.parametrize("page", PAGES)
def test_pages_explain_an_empty_database(empty_db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(empty_db))
    at = _open(AppTest.from_file(str(APP), default_timeout=TIMEOUT), page)
    assert any("no timestamped data" in w.value for w in at.sidebar.warning)
    assert_plain_language(at)  # skip notes name controls by title too
    for opened in _every_part_opened(at, page):
        _assert_clean(opened)
        assert_plain_language(opened)


def test_a_reingest_invalidates_the_caches(
    demo_db: Path, empty_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest publishes a new file by rename: the next run sees the new data, not cached results."""
    live = tmp_path / "live.duckdb"
    shutil.copyfile(demo_db, live)
    monkeypatch.setenv("COMPLIANCE_DB", str(live))
    at = _open(AppTest.from_file(str(APP), default_timeout=TIMEOUT), "views/data_health.py")
    assert _number(at, "Files") > 0
    staged = tmp_path / "staged.duckdb"
    shutil.copyfile(empty_db, staged)
    os.replace(staged, live)  # as compliance.ingest publishes
    at.run()
    _assert_clean(at)
    assert _number(at, "Files") == 0


# Pages that summarise or export every control rather than present one: not a control's home.
# Pages that list findings of every control (the Overview, the evidence files, the alarms to triage) or none.
SUMMARY_PAGES = {page.path for page in CATALOG_PAGES if page.summary}


def _page_text(at: AppTest) -> str:
    """Everything a page shows as text: markdown, captions, alerts, metrics and every table cell."""
    parts = [e.value for kind in ("markdown", "caption", "text", "success", "info", "warning") for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    for df in at.dataframe:
        value = df.value
        parts.append((value.data if hasattr(value, "data") else value).to_csv())
    for tb in at.table:  # st.table renders Markdown, so its cells hold data escaped: read them as shown
        value = tb.value
        parts.append(re.sub(r"\\(.)", r"\1", (value.data if hasattr(value, "data") else value).to_csv()))
    return "\n".join(str(p) for p in parts)


def test_every_catalog_control_appears_on_exactly_one_page(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loop over the control catalog: each control's findings (as shown, pseudonymised) are on exactly one
    page besides the summaries, and it is the page its catalog entry names (the one the Overview links to)."""
    from compliance.queries import run_query
    from dashboard.format import Identities, page_for, plain

    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        ids = Identities.from_frame(run_query(con, "known_identifiers"))
    finally:
        con.close()
    shown = ids.findings(demo_findings.filter(pl.col("status").is_in(["alarm", "info"])))
    monkeypatch.setenv("COMPLIANCE_DB", str(demo_db))
    texts = {}
    for page in (p for p in PAGES if p not in SUMMARY_PAGES):
        at = _open(AppTest.from_file(str(APP), default_timeout=TIMEOUT), page)
        shown_first = _page_text(at)  # then each opened state, read before the next is opened
        texts[page] = "\n".join([shown_first, *(_page_text(opened) for opened in _every_part_opened(at, page))])
    catalog = load_catalog()
    assert set(catalog) == set(demo_findings["control_id"].to_list())
    for control_id, control in catalog.items():
        # As pages word them (working days in words; a control id inside a reason as its title).
        reasons = [plain(r) for r in shown.filter(pl.col("control_id") == control_id)["reason"].to_list()]
        assert reasons, f"{control_id}: the demo plants no finding for it"
        pages = {page for page, text in texts.items() if any(r in text for r in reasons)}
        assert pages == {control.page.path} == {page_for(control_id)}, f"{control_id} is shown on {sorted(pages)}"
