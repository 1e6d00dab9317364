"""Notebooks as reports (issue 18): `compliance report` executes an audit notebook and writes HTML without code,
with its charts drawn in the file (no script from a CDN), people pseudonymised with the dashboard's key, and a
conclusion that states the facts that matter. Run on a hand-made database where the person who exported
180,000 records at 00:30 to an unapproved recipient has three high alarms and another person five medium ones."""

from __future__ import annotations

import ast
import html
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import build_db_file
from papermill.translators import PythonTranslator

from compliance.evidence.notebooks import NOTEBOOK_DIR, NOTEBOOKS
from compliance.paths import REPO_ROOT
from compliance.pseudonyms import KEY_ENV, pseudonymise

KEY = "report-test-key-0123456789abcdef0123456789"
AS_OF = "2025-03-10"


def _ev(event_id: str, actor_id: str, at: str, action: str, records: int, **kw: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": actor_id,
        "actor_type": "employee", "actor_role": "support_lead", "action": action, "outcome": "success",
        "resource_type": "contact", "categories": ["user.contact.email"], "record_count": records,
        "actor_timezone": "UTC", "system": "crm", "recipient": None,
    }  # fmt: skip
    row.update(kw)
    return row


def _rows() -> dict[str, list[dict[str, object]]]:
    # emp-exfil: an ordinary fortnight of small reads, then 180,000 records exported at 00:30 to dropbox.com
    # (not an approved recipient): one high access.bulk_export alarm (an export is involved).
    events = [_ev(f"x-{d}", "emp-exfil", f"2025-02-{d:02d} 10:00:00", "read", 20) for d in range(10, 28)]
    events.append(_ev("x-big", "emp-exfil", "2025-03-04 00:30:00", "export", 180_000, recipient="dropbox.com"))
    # emp-noisy: 6,000-record reads on five days: five medium access.bulk_export alarms (reads only), the most
    # alarms of anyone.
    events += [_ev(f"n-{d}", "emp-noisy", f"2025-03-0{d} 14:00:00", "read", 6000) for d in (5, 6, 7, 8, 9)]
    return {"audit_events": events}


@pytest.fixture(scope="module")
def exfil_db(tmp_path_factory: pytest.TempPathFactory, policy) -> Path:
    return build_db_file(policy, _rows(), tmp_path_factory.mktemp("report") / "exfil.duckdb")


def _report(db: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **{KEY_ENV: KEY})
    return subprocess.run(
        [sys.executable, "-m", "compliance", "report", "access_investigation", "--db", str(db), "--as-of", AS_OF,
         "--out", str(out), *extra],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _text(report: str) -> str:
    """The report's visible text, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(style|svg)\b.*?</\1>", " ", report, flags=re.S)))


@pytest.fixture(scope="module")
def exfil_report(exfil_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The access report of the hand-made database, made once by the command a user runs."""
    out = tmp_path_factory.mktemp("report-out") / "access.html"
    done = _report(exfil_db, out)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"wrote {out}" in done.stderr.replace("\n", "")
    return out, done.stderr


@pytest.mark.slow
def test_report_of_the_access_notebook(exfil_report: tuple[Path, str]) -> None:
    """`compliance report` as a user runs it: the HTML holds no code and loads nothing from the internet, its
    charts are drawn (SVG), people are pseudonyms, and the conclusion names the most severe case with its
    volume, time, recipient and severity."""
    out, stderr = exfil_report
    assert "Passed unknown parameter" not in stderr  # the parameters cell is tagged and parsed
    report = out.read_text(encoding="utf-8")
    # No code, no CI markers, no column-type rows.
    for absent in (
        "NBVAL_CHECK_OUTPUT",
        "who.say(",
        "import polars",
        "hl-ipython3",
        "<td>str</td>",
        "<td>i64</td>",
    ):
        assert absent not in report, absent
    # No script from anywhere: no <script src>, no CDN, nothing that would say "Error loading script" offline.
    assert not re.search(r"<script[^>]*\bsrc=", report)
    assert "cdn.jsdelivr" not in report and "cdnjs" not in report and "Error loading" not in report
    assert len(re.findall(r'<figure[^>]*class="chart"', report)) >= 4 and report.count("<svg") >= 4
    # Pseudonyms under the dashboard's key; the real ids appear nowhere.
    exfil = pseudonymise("emp-exfil", KEY, "A-")
    assert "emp-exfil" not in report and "emp-noisy" not in report
    text = _text(report)
    # Severity first: three high alarms outrank five medium ones.
    assert "2 actors are flagged by the access detectors (8 alarms in all)" in text
    assert f"Investigating {exfil}: the most severely flagged actor (3 high alarm(s), 3 in all;" in text
    assert (
        f"{exfil}: NOT CLEARED: 3 alarm(s) (3 high) from access.bulk_export, access.off_hours, access.volume_spike; "
        "the most severe is high."
    ) in text
    assert f"Most severe alarm (high, access.bulk_export, actor:{exfil}@2025-03-04): {exfil} read, searched or" in text
    assert (
        "Largest action behind the alarms: export of 180,000 records in crm at 2025-03-04 00:30 UTC, to dropbox.com "
        "(NOT an approved recipient); categories user.contact.email."
    ) in text
    assert "it does not account for the volume, time or recipient above" in text


@pytest.mark.slow
def test_the_dashboard_shows_the_pseudonym_the_report_names(
    exfil_db: Path, exfil_report: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cross-reference: the actor the report investigates is offered on the dashboard's Access page under the
    same pseudonym (same key), and neither shows the real id."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setenv("COMPLIANCE_DB", str(exfil_db))
    monkeypatch.setenv("COMPLIANCE_DASHBOARD_PERSIST", "0")
    investigated = re.search(r"Investigating (A-[0-9a-f]{16}):", _text(exfil_report[0].read_text("utf-8")))
    assert investigated, "the report names no investigated pseudonym"
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=120)
    at.switch_page("views/access.py").run()
    assert not at.exception, [e.value for e in at.exception]
    options = [o for box in at.selectbox for o in box.options]
    on_dashboard = {o.split(" ")[0] for o in options if re.match(r"A-[0-9a-f]{16}\b", o)}
    assert investigated.group(1) in on_dashboard, (investigated.group(1), options)
    assert not any("emp-" in o for o in options)


def test_report_refuses_unknown_notebooks_and_options(exfil_db: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "compliance", "report", "nosuch", "--db", str(exfil_db), "--out", str(tmp_path / "x")],
        cwd=REPO_ROOT, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)), capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and "is not an audit notebook; choose one of: dsr_audit" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_papermill_reads_every_parameter(name: str) -> None:
    """papermill finds every parameter of the cell tagged `parameters`, so it never warns that DB or AS_OF is
    "unknown" (a comment holding `=` made it skip the line)."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    assigned = {t.id for node in ast.parse(tagged[0].source).body for t in node.targets}  # type: ignore[attr-defined]
    assert {"DB", "AS_OF", "EXPORT_DIR", "POLICY_DIR", "REVEAL_IDS"} <= assigned
    assert {p.name for p in PythonTranslator.inspect(tagged[0])} == assigned


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_notebooks_name_no_real_person(name: str) -> None:
    """The stored outputs (the demo, built with notebooks/rebuild.py's published key) show pseudonyms only."""
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    shown = "".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert re.search(r"\bA-[0-9a-f]{16}\b|\bS-[0-9a-f]{16}\b", shown), "no pseudonym at all"
    leaked = sorted(set(re.findall(r"\b(?:emp|sub|svc)_\d{3,}\b", shown)))
    assert not leaked, leaked[:10]


def _bundle(chart: object) -> dict[str, object]:
    """What a notebook cell stores for a chart (Altair's default HTML renderer)."""
    bundle = chart._repr_mimebundle_()  # type: ignore[attr-defined]
    return bundle[0] if isinstance(bundle, tuple) else bundle


def test_report_html_draws_each_chart_and_keeps_data_text_intact() -> None:
    """An Altair output becomes inline SVG even when its data holds text that looks like the loader's call."""
    import altair as alt
    import polars as pl

    from compliance.evidence.notebooks import report_html

    chart = alt.Chart(pl.DataFrame({"who": ["x})({y", "z"], "n": [3, 1]})).mark_bar().encode(x="who:N", y="n:Q")
    table = pl.DataFrame({"actor": ["A-1", None], "n": [1, 2]})
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("chart")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data=_bundle(chart.properties(title="Bars"))),
        nbformat.v4.new_output("execute_result", data={"text/html": table._repr_html_()}, execution_count=1),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    report = report_html(nb)
    assert len(re.findall(r'<figure[^>]*aria-label="Bars"', report)) == 1 and "<svg" in report
    assert not re.search(r"<script[^>]*\bsrc=", report) and "cdn.jsdelivr" not in report
    assert "<td>A-1</td>" in report and "&quot;A-1&quot;" not in report and "<td>null</td>" not in report
    assert "chart</span>" not in report  # no code
