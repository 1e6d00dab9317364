"""The report tables as a PDF (fpdf2): a cover with what the package holds, then one chapter per section,
tables with headings repeated on every page, and the as-of date, evidence digest and page number in every
page's header and footer.

The PDF uses the standard Helvetica font, which PDF readers supply, so no font file is embedded and the
bytes do not depend on the fonts of the machine that built it (the verifier rebuilds it byte for byte).
That font covers Latin-1; other characters are spelled out or replaced (the XLSX keeps the exact text).
"""

from __future__ import annotations

from datetime import datetime, time

import polars as pl
from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace

import compliance
from compliance.evidence.contents import ReportTables
from compliance.evidence.sections import Section, report_sections, stamp

__all__ = ["render_pdf"]

_SPELLED = str.maketrans(
    {"\u2014": "-", "\u2013": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...",
     "\u2265": ">=", "\u2264": "<=", "\u2192": "->", "\u00a0": " ", "\u2212": "-", "\u2248": "~"}
)  # fmt: skip
_HEADINGS = FontFace(emphasis="BOLD", fill_color=(222, 228, 238))
_MAX_COL_WEIGHT = 40  # characters: a long column gets more width, up to this weight


def latin1(text: object) -> str:
    """`text` as the core font can print it: common typography spelled out, anything else as '?'."""
    s = "" if text is None else str(text)
    return s.translate(_SPELLED).encode("latin-1", "replace").decode("latin-1")


class _EvidencePDF(FPDF):
    def __init__(self, tables: ReportTables) -> None:
        super().__init__(orientation="landscape", format="A4")
        self.stamp = latin1(stamp(tables))
        self.chapter = ""
        self.set_auto_page_break(auto=True, margin=14)
        self.set_margins(12, 14, 12)
        self.alias_nb_pages()

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.set_text_color(90)
        self.cell(0, 5, latin1(self.chapter), align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, self.stamp, align="R", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)
        self.set_text_color(0)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font("Helvetica", size=8)
        self.set_text_color(90)
        self.cell(0, 5, "Capantra privacy-compliance evidence", align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def _col_widths(frame: pl.DataFrame) -> tuple[float, ...]:
    weights = []
    for name in frame.columns:
        longest = max([len(str(v)) for v in frame[name].head(300).to_list() if v is not None], default=0)
        weights.append(max(6, min(_MAX_COL_WEIGHT, max(len(name) * 0.7, longest))))
    return tuple(weights)


def _table(pdf: _EvidencePDF, frame: pl.DataFrame) -> None:
    if frame.is_empty():
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 5, "No rows.", new_x="LMARGIN", new_y="NEXT")
        return
    pdf.set_font("Helvetica", size=7 if frame.width > 8 else 8)
    with pdf.table(
        col_widths=_col_widths(frame),
        headings_style=_HEADINGS,
        line_height=pdf.font_size * 1.6,
        text_align="LEFT",
        cell_fill_color=(246, 246, 246),
        cell_fill_mode=TableCellFillMode.ROWS,
        padding=0.8,
    ) as table:
        header = table.row()
        for name in frame.columns:
            header.cell(latin1(name))
        for values in frame.iter_rows():
            row = table.row()
            for value in values:
                row.cell("" if value is None else latin1(value))


def _chapter(pdf: _EvidencePDF, s: Section) -> None:
    pdf.chapter = s.title
    pdf.add_page()
    pdf.start_section(latin1(s.title))
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(0, 8, latin1(s.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    for note in s.notes:
        pdf.multi_cell(0, 4.6, latin1(note), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    if s.print_note:
        pdf.set_font("Helvetica", "I", 9)
        pdf.multi_cell(0, 4.6, latin1(s.print_note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _table(pdf, s.print_table if s.print_table is not None else s.table)


def _cover(pdf: _EvidencePDF, t: ReportTables, sections: list[Section]) -> None:
    pdf.chapter = "Contents"
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, "Capantra privacy-compliance evidence", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for line in (
        f"As of {t.as_of.isoformat()}; privacy policy {t.policy_version}; compliance {compliance.__version__}.",
        f"Evidence digest (SHA-256 of the findings, policy, queries and inputs): {t.evidence_digest}",
        "Check the package this report came from with: compliance evidence verify PACKAGE.zip --db DATABASE",
    ):
        pdf.multi_cell(0, 6, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Contents", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for i, s in enumerate(sections, start=1):
        pdf.cell(0, 6, latin1(f"{i}. {s.title}"), new_x="LMARGIN", new_y="NEXT")


def render_pdf(t: ReportTables) -> bytes:
    pdf = _EvidencePDF(t)
    pdf.set_title(latin1(f"Capantra privacy-compliance evidence as of {t.as_of.isoformat()}"))
    pdf.set_subject(f"evidence digest {t.evidence_digest}")
    pdf.set_creator(f"compliance {compliance.__version__}")
    pdf.set_creation_date(datetime.combine(t.as_of, time()))  # no clock: the same tables give the same bytes
    sections = report_sections(t)
    _cover(pdf, t, sections)
    for s in sections:
        _chapter(pdf, s)
    return bytes(pdf.output())
