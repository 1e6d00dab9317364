"""A one-page management summary as PDF: the posture by policy section, the trend of alarms over the recorded
check runs, and the top risks, for a reader who will not open the dashboard.

`build_summary` gathers the figures from findings the caller already has (the dashboard's cached results, or
`summary_for_database` for the CLI); `render_summary_pdf` lays them out on one A4 page with fpdf2, with the
evidence PDF's Latin-1 handling (compliance.evidence.document). People named in a risk's resource or reason
are pseudonymised as on the dashboard (compliance.identities): the page is meant to be forwarded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from fpdf import FPDF
from fpdf.fonts import FontFace

import compliance
from compliance.controls import SEVERITIES
from compliance.evidence.document import latin1
from compliance.identities import Identities
from compliance.reports import control_summary, posture_by_section

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = ["ManagementSummary", "build_summary", "render_summary_pdf", "summary_for_database"]

TREND_RUNS = 12  # the latest recorded runs the trend shows
TOP_RISKS = 8  # at most; fewer when the page would overflow
REASON_CHARS = 230
_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # info 0 ... critical 4
POSTURE_WORDS = {"alarm": "ALARM", "error": "control error", "skip": "no data", "ok": "ok", "no control": "-"}
SEVERITY_RGB = {"critical": (127, 29, 29), "high": (185, 28, 28), "medium": (154, 52, 18), "low": (113, 63, 18)}


@dataclass(frozen=True)
class ManagementSummary:
    as_of: date
    source: str  # which database, in words (never an absolute path)
    policy_version: str
    posture: pl.DataFrame  # posture_by_section, plus critical and high alarm counts per section
    runs: pl.DataFrame  # as_of, alarms, suppressed, errors: the latest TREND_RUNS recorded runs, oldest first
    risks: pl.DataFrame  # severity, policy_section, control_id, resource, reason, observed_at: most severe first
    open_alarms: int
    controls: int
    controls_without_evidence: int


def _severity_counts(alarms: pl.DataFrame) -> pl.DataFrame:
    return alarms.group_by("policy_section").agg(
        (pl.col("severity") == "critical").sum().cast(pl.Int64).alias("critical"),
        (pl.col("severity") == "high").sum().cast(pl.Int64).alias("high"),
    )


def top_risks(alarms: pl.DataFrame, ids: Identities, limit: int = TOP_RISKS) -> pl.DataFrame:
    """The most severe open alarms (then the newest), people pseudonymised unless `ids` reveals them."""
    ranked = (
        alarms.with_columns(pl.col("severity").replace_strict(_RANK, default=-1, return_dtype=pl.Int64).alias("_r"))
        .sort(["_r", "observed_at", "control_id", "resource"], descending=[True, True, False, False], nulls_last=True)
        .head(limit)
        .drop("_r")
    )
    return ids.findings(ranked).select("severity", "policy_section", "control_id", "resource", "reason", "observed_at")


def build_summary(
    findings: pl.DataFrame,
    *,
    as_of: date,
    titles: dict[str, str],
    runs: pl.DataFrame,
    ids: Identities,
    policy_version: str,
    source: str,
) -> ManagementSummary:
    """The summary's figures from one evaluation's findings (waived alarms are `suppressed`, not open)."""
    summary = control_summary(findings)
    alarms = findings.filter(pl.col("status") == "alarm")
    posture = (
        posture_by_section(summary, titles)
        .join(_severity_counts(alarms), on="policy_section", how="left")
        .with_columns(pl.col("critical", "high").fill_null(0))
    )
    trend = runs.sort("as_of").tail(TREND_RUNS).select("as_of", "alarms", "suppressed", "errors")
    return ManagementSummary(
        as_of=as_of,
        source=source,
        policy_version=policy_version,
        posture=posture,
        runs=trend,
        risks=top_risks(alarms, ids),
        open_alarms=alarms.height,
        controls=summary.height,
        controls_without_evidence=summary.filter((pl.col("skip") > 0) | (pl.col("error") > 0)).height,
    )


def summary_for_database(db: Path, as_of: date | None = None, policy: Policy | None = None) -> ManagementSummary:
    """Evaluate every control on `db` (read-only) as of `as_of` (default: the newest date in the data)."""
    from compliance.audit_database import connect_current
    from compliance.config.bundle import load_policy
    from compliance.controls import default_as_of, run_controls
    from compliance.history import recorded_runs
    from compliance.queries import run_query

    policy = policy or load_policy()
    with connect_current(db) as con:
        day = as_of or default_as_of(con)
        findings = run_controls(con, policy, day)
        titles = dict(run_query(con, "policy_sections").select("section_id", "title").iter_rows())
        ids = Identities.from_database(con)
    return build_summary(
        findings,
        as_of=day,
        titles=titles,
        runs=recorded_runs(db, end=day),
        ids=ids,
        policy_version=policy.version,
        source=f"the database {db.name!r}",
    )


# --- layout -----------------------------------------------------------------------------------


class _SummaryPDF(FPDF):
    def __init__(self, s: ManagementSummary) -> None:
        super().__init__(orientation="portrait", format="A4")
        self.s = s
        self.set_margins(14, 12, 14)
        self.set_auto_page_break(auto=True, margin=12)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=7)
        self.set_text_color(90)
        self.cell(0, 4, latin1(f"Capantra privacy compliance - compliance {compliance.__version__} - "
                               f"as of {self.s.as_of.isoformat()} - people pseudonymised"), align="L")  # fmt: skip
        self.set_text_color(0)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("Helvetica", "B", 11)
        self.cell(0, 6, latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font("Helvetica", size=8)


def _severity_face(severity: str | None) -> FontFace | None:
    """Bold, in the severity's colour (dark red for critical ... ochre for low), so the eye finds it."""
    rgb = SEVERITY_RGB.get(severity or "")
    return FontFace(emphasis="BOLD", color=rgb) if rgb else None


def _headline(pdf: _SummaryPDF, s: ManagementSummary) -> None:
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, "Privacy compliance: management summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    in_alarm = s.posture.filter(pl.col("posture") == "alarm").height
    evidenced = s.posture.filter(pl.col("controls") > 0).height
    critical_high = int(s.posture["critical"].sum() + s.posture["high"].sum())
    pdf.multi_cell(
        0, 4.6,
        latin1(f"As of {s.as_of.isoformat()}, measured from {s.source} under privacy policy {s.policy_version}. "
               f"{in_alarm} of {evidenced} policy sections with controls are in alarm; {s.open_alarms:,} open "
               f"alarm(s), {critical_high:,} of them critical or high; {s.controls_without_evidence} of {s.controls} "
               "controls evidence nothing (their data is missing or they failed)."),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip


def _posture(pdf: _SummaryPDF, s: ManagementSummary) -> None:
    pdf.heading("Posture by policy section")
    widths = (12, 58, 24, 18, 20, 18, 14, 18)
    head = ("Section", "Title", "Posture", "Controls", "In alarm", "Alarms", "Crit.", "High")
    with pdf.table(col_widths=widths, line_height=4.2, text_align="LEFT", padding=0.6, first_row_as_headings=True) as t:
        row = t.row()
        for h in head:
            row.cell(h)
        for r in s.posture.iter_rows(named=True):
            row = t.row()
            row.cell(latin1(r["policy_section"]))
            row.cell(latin1(r["title"] or ""))
            posture = POSTURE_WORDS.get(r["posture"], r["posture"])
            row.cell(latin1(posture), style=_severity_face(r["highest_severity"]) if r["posture"] == "alarm" else None)
            for value in (r["controls"], r["controls_in_alarm"], r["alarm"], r["critical"], r["high"]):
                row.cell(latin1(value))


def _trend(pdf: _SummaryPDF, s: ManagementSummary) -> None:
    pdf.heading("Trend over the recorded check runs")
    if s.runs.height < 2:
        pdf.multi_cell(
            0, 4.2,
            latin1(f"{s.runs.height} recorded run(s) up to this date: no trend yet. Each ingest and each "
                   "`compliance check --record` records one."),
            new_x="LMARGIN", new_y="NEXT",
        )  # fmt: skip
        return
    first, last = s.runs.row(0, named=True), s.runs.row(-1, named=True)
    change = last["alarms"] - first["alarms"]
    word = "up" if change > 0 else "down" if change < 0 else "unchanged"
    pdf.multi_cell(
        0, 4.2,
        latin1(f"Open alarms {word} from {first['alarms']:,} ({first['as_of']}) to {last['alarms']:,} "
               f"({last['as_of']}) over the latest {s.runs.height} recorded runs; bars: alarms per run."),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    top = max(int(s.runs["alarms"].max() or 0), 1)
    x0, y0, height = pdf.l_margin, pdf.get_y() + 4, 16  # 4 mm above the tallest bar for its label
    width = min(pdf.epw / s.runs.height, 16)
    pdf.set_font("Helvetica", size=6)
    pdf.set_fill_color(71, 85, 105)
    for i, r in enumerate(s.runs.iter_rows(named=True)):
        bar = height * r["alarms"] / top
        pdf.rect(x0 + i * width + 1, y0 + height - bar, width - 2, bar, style="F")
        pdf.set_xy(x0 + i * width, y0 + height - bar - 3)
        pdf.cell(width, 3, f"{r['alarms']:,}", align="C")
        pdf.set_xy(x0 + i * width, y0 + height + 0.5)
        pdf.cell(width, 3, r["as_of"].strftime("%m-%d" if s.runs.height > 8 else "%Y-%m-%d"), align="C")
    pdf.set_fill_color(255)  # the tables after this fill nothing
    pdf.set_xy(pdf.l_margin, y0 + height + 4)
    pdf.set_font("Helvetica", size=8)


def _risks(pdf: _SummaryPDF, s: ManagementSummary, limit: int) -> None:
    pdf.heading("Top risks (open alarms, most severe first)")
    if s.risks.is_empty():
        pdf.multi_cell(0, 4.2, "No open alarm as of this date.", new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(col_widths=(15, 12, 50, 105), line_height=3.8, text_align="LEFT", padding=0.6) as t:
        row = t.row()
        for h in ("Severity", "Section", "Control", "What was found"):
            row.cell(h)
        for r in s.risks.head(limit).iter_rows(named=True):
            row = t.row()
            reason = r["reason"] or ""
            reason = reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 3].rstrip() + "..."
            row.cell(latin1(r["severity"]), style=_severity_face(r["severity"]))
            row.cell(latin1(r["policy_section"]))
            row.cell(latin1(r["control_id"]))
            row.cell(latin1(f"{r['resource']}: {reason}"))


def _render(s: ManagementSummary, limit: int) -> FPDF:
    pdf = _SummaryPDF(s)
    pdf.set_title(latin1(f"Privacy compliance management summary as of {s.as_of.isoformat()}"))
    pdf.set_creator(f"compliance {compliance.__version__}")
    pdf.set_creation_date(datetime.combine(s.as_of, time()))  # no clock: the same figures give the same bytes
    pdf.add_page()
    _headline(pdf, s)
    _posture(pdf, s)
    _trend(pdf, s)
    _risks(pdf, s, limit)
    return pdf


def render_summary_pdf(s: ManagementSummary) -> bytes:
    """The summary on one A4 page: as many top risks as fit, up to TOP_RISKS."""
    for limit in range(TOP_RISKS, 0, -1):
        pdf = _render(s, limit)
        if pdf.page_no() == 1:
            return bytes(pdf.output())
    return bytes(_render(s, 1).output())  # a posture table too long for one page still renders, on two
