"""Sign-in, roles and the access log in the dashboard (AppTest on the small demo database).

With `COMPLIANCE_AUTH=required` (what `compliance serve --address` sets), nothing but the sign-in form
renders until someone signs in; each role may do its actions and is refused (and logged) the others.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from dashboard_support import APP, TIMEOUT, database_of_shares
from streamlit.testing.v1 import AppTest

from compliance.access_log import read_log
from compliance.accounts import add_account

pytestmark = pytest.mark.xdist_group("dashboard")

PASSWORD = "a long enough password"
ROLE_OF = {"vera": "viewer", "ivan": "investigator", "aude": "auditor", "adam": "admin"}


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("accounts") / "users.json"
    for name, role in ROLE_OF.items():
        add_account(name, PASSWORD, [role], path)
    return path


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    return tmp_path / "access-log.jsonl"


@pytest.fixture
def app(demo_db: Path, users: Path, log_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("COMPLIANCE_DB", str(demo_db))
    monkeypatch.setenv("COMPLIANCE_AUTH", "required")
    monkeypatch.setenv("COMPLIANCE_USERS", str(users))
    monkeypatch.setenv("COMPLIANCE_ACCESS_LOG", str(log_path))
    yield AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _sign_in(at: AppTest, user: str, password: str = PASSWORD) -> AppTest:
    at.run()
    at.text_input(key="sign_in_user").input(user)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click().run()
    return at


def _visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _log(path: Path) -> pl.DataFrame:
    return read_log(path)


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.text] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_nothing_renders_before_sign_in_and_a_wrong_password_is_logged(app: AppTest, log_path: Path) -> None:
    at = app
    at.run()
    assert at.title[0].value.endswith("sign in")
    assert not at.metric and not at.dataframe and not at.table  # no data before sign-in
    _sign_in(at, "vera", "wrong password!!")
    assert at.error and "Wrong user name or password" in at.error[0].value
    _sign_in(at, '=HYPERLINK("x")', "whatever password")
    log = _log(log_path)
    assert log["event"].to_list() == ["sign_in_failed", "sign_in_failed"]
    assert log["user"].to_list() == ["vera", '=HYPERLINK("x")']


def test_a_viewer_sees_pseudonyms_and_is_refused_reveals_real_ids_and_the_log(app: AppTest, log_path: Path) -> None:
    at = _sign_in(app, "vera")
    _visit(at, "views/access.py")
    toggle = at.toggle(key="access_reveal")
    assert toggle.disabled
    actor = at.selectbox(key="access_actor").value
    at.session_state["access_reveal"] = True  # a forged widget value (a hand-made websocket message)
    at.run()
    assert any("Refused" in w.value for w in at.warning)
    assert actor in _texts(at)

    _visit(at, "views/evidence.py")
    at.radio(key="evidence_ids").set_value("Real (for the auditor)").run()
    assert any("Refused" in w.value for w in at.warning)
    offered = at.session_state["_downloads_offered"]
    findings_files = [d for k, d in offered.items() if k in ("download_csv", "download_parquet", "download_jsonl")]
    assert len(findings_files) == 3
    assert all("pseudonymised" in d["file_name"] and not d["real_ids"] for d in findings_files)

    _visit(at, "views/access_log.py")
    assert any("Refused" in w.value for w in at.warning) and not at.dataframe

    log = _log(log_path)
    assert log["event"].to_list()[0] == "sign_in" and log["user"].unique().to_list() == ["vera"]
    refusals = log.filter(pl.col("event") == "refusal")["what"].to_list()
    assert any(r.startswith("reveal:") for r in refusals)
    assert any(r.startswith("download_real_ids:") for r in refusals)
    assert any(r.startswith("access_log:") for r in refusals)
    assert log.filter(pl.col("event") == "reveal").height == 0
    views = log.filter(pl.col("event") == "page_view")
    assert {"access", "evidence", "access_log"} <= set(views["page"].to_list())
    assert "as_of" in json.loads(views["detail"][0])


def test_an_investigator_reveals_and_the_reveal_is_logged_by_pseudonym(app: AppTest, log_path: Path) -> None:
    at = _sign_in(app, "ivan")
    _visit(at, "views/access.py")
    actor = at.selectbox(key="access_actor").value
    at.toggle(key="access_reveal").set_value(True).run()
    assert not any("Refused" in w.value for w in at.warning)
    assert actor not in "\n".join(m.value for m in at.markdown)  # the real id replaced the pseudonym
    _visit(at, "views/evidence.py")
    at.radio(key="evidence_ids").set_value("Real (for the auditor)").run()
    assert any("Refused" in w.value for w in at.warning)  # real-id files are the auditor's
    reveals = _log(log_path).filter(pl.col("event") == "reveal")
    assert reveals["what"].to_list() == [f"actor {actor}"]  # the pseudonym, never the real id
    assert reveals["roles"].to_list() == [["investigator"]]


def test_an_auditor_downloads_real_ids_but_may_not_reveal(app: AppTest, log_path: Path) -> None:
    at = _sign_in(app, "aude")
    _visit(at, "views/evidence.py")
    at.radio(key="evidence_ids").set_value("Real (for the auditor)").run()
    assert not any("Refused" in w.value for w in at.warning)
    offered = at.session_state["_downloads_offered"]
    findings_files = [d for k, d in offered.items() if k in ("download_csv", "download_parquet", "download_jsonl")]
    assert len(findings_files) == 3
    assert all("pseudonymised" not in d["file_name"] and d["real_ids"] for d in findings_files)
    _visit(at, "views/dsr.py")
    assert at.toggle(key="dsr_reveal").disabled


def test_an_admin_reads_the_log_and_its_review(app: AppTest, log_path: Path) -> None:
    at = _sign_in(app, "adam")
    _visit(at, "views/access_log.py")
    assert not at.warning or not any("Refused" in w.value for w in at.warning)
    entries = [pl.from_pandas(d.value) for d in at.dataframe]
    log_table = next(t for t in entries if "Event" in t.columns)
    assert {"sign_in", "page_view"} <= set(log_table["Event"].to_list())
    assert "None" not in log_table["Rows"].cast(pl.String).to_list()  # a page view counts no rows: blank
    assert any("hash chain is intact" in s.value for s in at.success)
    accounts = next(t for t in entries if "Roles" in t.columns and "User" in t.columns and "Event" not in t.columns)
    assert dict(zip(accounts["User"], accounts["Roles"], strict=True)) == ROLE_OF


def test_open_mode_says_so_on_every_page(demo_db: Path, log_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(demo_db))
    monkeypatch.delenv("COMPLIANCE_AUTH", raising=False)  # the repository's config listens on 127.0.0.1
    monkeypatch.setenv("COMPLIANCE_ACCESS_LOG", str(log_path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    for page in ("views/data_health.py", "views/policy_map.py"):
        _visit(at, page)
        assert any("Demo mode: no sign-in" in w.value for w in at.warning)
    assert set(_log(log_path)["method"].to_list()) == {"open"}


def test_without_any_account_the_sign_in_page_says_how_to_add_one(
    app: AppTest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLIANCE_USERS", str(tmp_path / "none.json"))
    app.run()
    assert "compliance users add" in app.error[0].value


def test_five_failed_sign_ins_lock_the_user_name(app: AppTest, log_path: Path) -> None:
    at = app
    for _ in range(5):
        _sign_in(at, "vera", "wrong password!!")
    _sign_in(at, "vera")  # the right password, but locked
    assert "Too many failed sign-ins" in at.error[0].value
    log = _log(log_path)
    assert log["event"].to_list() == ["sign_in_failed"] * 5 + ["refusal"]
    _sign_in(at, "ivan")  # another user is not affected
    assert ("ivan", "sign_in") in _log(log_path).select("user", "event").rows()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shares to recipients named like a formula and like Markdown (the Security page lists them)."""
    path = tmp_path_factory.mktemp("hostile-apptest") / "hostile.duckdb"
    names = ["=cmd|' /C calc'!A0", "@SUM(A1:A2)", "![x](http://127.0.0.1:9/x.png)", "plain.example"]
    return database_of_shares(path, names)


def test_grids_neutralise_formulas_and_tables_escape_markdown(
    hostile_db: Path, log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(hostile_db))
    monkeypatch.delenv("COMPLIANCE_AUTH", raising=False)
    monkeypatch.setenv("COMPLIANCE_ACCESS_LOG", str(log_path))
    at = _visit(AppTest.from_file(str(APP), default_timeout=TIMEOUT), "views/security.py")
    grids = [pl.from_pandas(d.value) for d in at.dataframe]
    recipients = next(g for g in grids if "Recipient" in g.columns)["Recipient"].to_list()
    # What the grid shows is what its "Download as CSV" writes: formulas arrive quoted.
    assert "'=cmd|' /c calc'!a0" in recipients and "'@sum(a1:a2)" in recipients  # recipients are lower-cased
    assert "![x](http://127.0.0.1:9/x.png)" in recipients and "plain.example" in recipients
    # st.table renders Markdown: its cells arrive with every punctuation mark escaped, so they read literally.
    cells = [str(v) for t in at.table for v in t.value.to_numpy().ravel()]
    link = "recipient:![x](http://127.0.0.1:9/x.png)"
    escaped = [c for c in cells if re.sub(r"\\(.)", r"\1", c) == link]
    assert escaped and all("\\!\\[x\\]\\(" in c for c in escaped)


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_downloads_count_their_rows_for_the_access_review(fmt: str) -> None:
    from datetime import datetime

    from compliance.check import render_findings
    from compliance.controls import FINDINGS_SCHEMA
    from dashboard.auth import count_rows

    row = {"control_id": "a.b", "policy_section": "5", "resource": "actor:x\ny", "status": "alarm",
           "severity": "high", "reason": "two\nlines, \"quoted\"", "observed_at": datetime(2025, 1, 1), "evidence": ["e1"]}  # fmt: skip
    findings = pl.DataFrame([row] * 7, schema=FINDINGS_SCHEMA)
    mime = {"csv": "text/csv", "jsonl": "application/x-ndjson", "parquet": "application/vnd.apache.parquet"}[fmt]
    assert count_rows(render_findings(findings, fmt), mime) == 7


def test_a_viewer_may_not_change_triage_states_nor_take_the_evidence_package(app: AppTest, log_path: Path) -> None:
    at = _sign_in(app, "vera")
    _visit(at, "views/triage.py")
    assert at.button(key="triage_save").disabled  # working the alarms is the investigator's
    _visit(at, "views/evidence.py")
    assert "download_evidence_package" not in at.session_state["_downloads_offered"]
    assert any("auditor role downloads it" in c.value for c in at.caption)


def test_an_investigator_changes_a_triage_state_under_their_own_name(
    app: AppTest, log_path: Path, demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from compliance.triage import current_states

    db = tmp_path / "audit.duckdb"  # the page writes its triage store beside the database: a private copy
    shutil.copy(demo_db, db)
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    at = _sign_in(AppTest.from_file(str(APP), default_timeout=TIMEOUT), "ivan")
    _visit(at, "views/triage.py")
    assert not at.button(key="triage_save").disabled
    at.selectbox(key="triage_state").set_value("acknowledged")
    at.text_area(key="triage_note").input("Asked the account owner")
    at.button(key="triage_save").click().run()
    assert any(s.value.startswith("Saved: Open -> Acknowledged by ivan") for s in at.success)
    assert current_states(db)["changed_by"].to_list() == ["ivan"]
    changes = _log(log_path).filter(pl.col("event") == "triage")
    assert changes.height == 1 and changes["what"][0].endswith("open -> acknowledged")
