"""The one-page management summary (issue 18): posture by policy section, the trend over recorded check runs,
the top risks, people pseudonymised; built by `compliance summary` and offered on the Overview page."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from cli_support import run_cli
from conftest import build_db_file
from rows import finding_row

from compliance.controls import FINDINGS_SCHEMA
from compliance.identities import Identities
from compliance.management_summary import build_summary, render_summary_pdf
from compliance.paths import REPO_ROOT
from compliance.pseudonyms import KEY_ENV, pseudonymise

KEY = "summary-test-key-0123456789abcdef0123456789"
T = dt.datetime


def _finding(control_id: str, section: str, resource: str, status: str, severity: str, day: int) -> dict:
    return finding_row(control_id, resource, status, severity, policy_section=section,
                       reason=f"{resource} reason with emp-7 named", observed_at=T(2025, 3, day))  # fmt: skip


FINDINGS = pl.DataFrame(
    [
        _finding("access.off_hours", "5", "actor:emp-7@2025-03-01", "alarm", "medium", 1),
        _finding("access.off_hours", "5", "actor:emp-7@2025-03-02", "alarm", "medium", 2),
        _finding("access.bulk_export", "5", "actor:emp-7@2025-03-03", "alarm", "critical", 3),
        _finding("retention.record_past_retention", "6", "record:crm/c/1", "alarm", "high", 4),
        _finding("retention.record_past_retention", "6", "record:crm/c/2", "suppressed", "high", 5),  # waived
        _finding("dsr.overdue", "8", "dsr:none", "skip", "info", 6),
        _finding("transfer.no_safeguard", "7", "pair:EU/us", "ok", "info", 6),
    ],
    schema=FINDINGS_SCHEMA,
)
RUNS = pl.DataFrame(
    {"as_of": [dt.date(2025, 3, 1), dt.date(2025, 3, 8)], "alarms": [9, 4], "suppressed": [0, 1], "errors": [0, 0]}
)


def _summary(runs: pl.DataFrame = RUNS):
    return build_summary(
        FINDINGS,
        as_of=dt.date(2025, 3, 10),
        titles={"5": "Security", "6": "Retention"},
        runs=runs,
        ids=Identities({"emp-7": "A-"}),
        policy_version="v9",
        source="the database 'x.duckdb'",
    )


def test_summary_figures_worked_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    s = _summary()
    assert s.open_alarms == 4  # the waived one is not open
    assert s.controls == 5 and s.controls_without_evidence == 1  # dsr.overdue skipped
    posture = {r["policy_section"]: r for r in s.posture.iter_rows(named=True)}
    assert (posture["5"]["posture"], posture["5"]["alarm"], posture["5"]["critical"], posture["5"]["high"]) == (
        "alarm", 3, 1, 0,
    )  # fmt: skip
    assert (posture["6"]["alarm"], posture["6"]["high"], posture["6"]["suppressed"]) == (1, 1, 1)
    assert posture["8"]["posture"] == "skip" and posture["7"]["posture"] == "ok"
    assert posture["1"]["posture"] == "no control"
    # Most severe first, then newest; people pseudonymised in resource and reason.
    who = pseudonymise("emp-7", KEY, "A-")
    assert s.risks.select("severity", "resource").rows() == [
        ("critical", f"actor:{who}@2025-03-03"),
        ("high", "record:crm/c/1"),
        ("medium", f"actor:{who}@2025-03-02"),
        ("medium", f"actor:{who}@2025-03-01"),
    ]
    assert not any("emp-7" in r for r in s.risks["reason"].to_list())
    assert s.runs["alarms"].to_list() == [9, 4]


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "s.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(done.stdout.split())  # as read: line breaks of wrapped text do not matter


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_summary_pdf_is_one_page_with_its_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    pdf = render_summary_pdf(_summary())
    assert pdf.startswith(b"%PDF") and _pages(pdf) == 1
    text = _pdf_text(pdf, tmp_path)
    for part in ("management summary", "Posture by policy section", "Trend over the recorded check runs",
                 "Open alarms down from 9 (2025-03-01) to 4 (2025-03-08)", "Top risks", "bulk_export"):  # fmt: skip
        assert part in text, part
    assert "emp-7" not in text
    # No runs recorded: the trend says so instead of drawing nothing.
    empty = _pdf_text(render_summary_pdf(_summary(RUNS.head(0))), tmp_path)
    assert "0 recorded run(s) up to this date: no trend yet" in empty


def test_summary_pdf_stays_one_page_with_long_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    long = FINDINGS.with_columns(pl.lit("a very long reason " * 40).alias("reason"))
    many = pl.concat([long] * 6)
    s = build_summary(many, as_of=dt.date(2025, 3, 10), titles={}, runs=RUNS, ids=Identities(),
                      policy_version="v9", source="x")  # fmt: skip
    assert _pages(render_summary_pdf(s)) == 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **{KEY_ENV: KEY})
    return run_cli(*args, env=env, cwd=REPO_ROOT, timeout=300)


def _events() -> dict[str, list[dict[str, object]]]:
    def ev(i: int, actor: str, at: str, records: int) -> dict[str, object]:
        return {"event_id": f"e{i}", "occurred_at": at, "event_date": at[:10], "actor_id": actor,
                "actor_type": "employee", "actor_role": "support_lead", "action": "export", "outcome": "success",
                "resource_type": "contact", "categories": ["user.contact.email"], "record_count": records,
                "actor_timezone": "UTC", "system": "crm", "recipient": "dropbox.com"}  # fmt: skip

    return {"audit_events": [ev(1, "emp-exfil", "2025-03-04 00:30:00", 180_000),
                             ev(2, "emp-other", "2025-03-07 10:00:00", 9_000)]}  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_summary_command_end_to_end(tmp_path: Path, policy) -> None:
    """As a user runs it: two recorded check runs, then `compliance summary`; one page, the trend from the runs,
    the top risk pseudonymised."""
    db = build_db_file(policy, _events(), tmp_path / "audit.duckdb")
    for day in ("2025-03-05", "2025-03-10"):
        done = _cli("check", "--db", str(db), "--as-of", day, "--record", "--format", "csv", "--output",
                    str(tmp_path / f"{day}.csv"))  # fmt: skip
        assert done.returncode in (0, 1), done.stderr
    out = tmp_path / "summary.pdf"
    done = _cli("summary", "--db", str(db), "--as-of", "2025-03-10", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 recorded run(s) in the trend" in done.stderr.replace("\n", " ")
    pdf = out.read_bytes()
    assert _pages(pdf) == 1
    text = _pdf_text(pdf, tmp_path)
    assert "Open alarms up from" in text or "Open alarms unchanged" in text or "Open alarms down" in text
    assert "(2025-03-05)" in text and "(2025-03-10)" in text
    assert pseudonymise("emp-exfil", KEY, "A-") in text and "emp-exfil" not in text
    assert "access.bulk_export" in text
    # A missing database is refused without a traceback.
    done = _cli("summary", "--db", str(tmp_path / "nope.duckdb"), "--out", str(tmp_path / "n.pdf"))
    assert done.returncode == 2 and "no such database" in done.stderr and "Traceback" not in done.stderr


def test_overview_offers_the_summary_pdf(tmp_path: Path, policy, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Overview page's download button: the file name carries the as-of date, it holds pseudonyms only (so
    any signed-in role may take it, logged as a pseudonymised download), and its bytes are the one-page PDF."""
    from streamlit.testing.v1 import AppTest

    db = build_db_file(policy, _events(), tmp_path / "audit.duckdb")
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    monkeypatch.setenv("COMPLIANCE_DASHBOARD_PERSIST", "0")
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.switch_page("views/overview.py").run()
    assert not at.exception, [e.value for e in at.exception]
    offered = at.session_state["_downloads_offered"]["management_summary_pdf"]
    assert offered == {"file_name": "management-summary-2025-03-07.pdf", "real_ids": False}
