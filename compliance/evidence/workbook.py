"""The report tables as an XLSX workbook (xlsxwriter): one sheet per section, an Excel table with headers
and filters on each, the as-of date and evidence digest in every sheet's first rows and in the printed
page header. Written without any clock (the document's creation time is the as-of date), so the same
tables give the same bytes."""

from __future__ import annotations

import io
from datetime import datetime, time
from typing import Any

import polars as pl
import xlsxwriter

import compliance
from compliance.evidence.contents import ReportTables
from compliance.evidence.sections import Section, report_sections, stamp

__all__ = ["render_xlsx"]

_MAX_WIDTH = 60  # characters; longer text wraps


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return value


def _widths(frame: pl.DataFrame) -> list[int]:
    out = []
    for name in frame.columns:
        sample = [len(str(v)) for v in frame[name].head(500).to_list() if v is not None]
        out.append(min(_MAX_WIDTH, max([len(name), *sample]) + 2))
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&&")  # `&` starts a control code in Excel headers and footers


def _about(book: xlsxwriter.Workbook, t: ReportTables, sections: list[Section], bold: Any, title: Any) -> None:
    sheet = book.add_worksheet("About")
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 90)
    sheet.write(0, 0, "Capantra privacy-compliance evidence", title)
    rows = [
        ("As of", t.as_of.isoformat()),
        ("Evidence digest (SHA-256)", t.evidence_digest),
        ("Policy version", t.policy_version),
        ("Tool version", f"compliance {compliance.__version__}"),
        ("How to check", "compliance evidence verify PACKAGE.zip --db DATABASE"),
    ]
    for i, (k, v) in enumerate(rows, start=2):
        sheet.write(i, 0, k, bold)
        sheet.write(i, 1, v)
    sheet.write(len(rows) + 3, 0, "Sheets", bold)
    for i, s in enumerate(sections, start=len(rows) + 4):
        sheet.write_url(i, 0, f"internal:'{s.sheet}'!A1", string=s.sheet)
        sheet.write(i, 1, s.title)


def _section_sheet(book: xlsxwriter.Workbook, t: ReportTables, s: Section, formats: dict[str, Any]) -> None:
    sheet = book.add_worksheet(s.sheet)
    sheet.write(0, 0, s.title, formats["title"])
    sheet.write(1, 0, stamp(t), formats["dim"])
    for i, note in enumerate(s.notes, start=2):
        sheet.write(i, 0, note)
    first = len(s.notes) + 3
    frame = s.table
    widths = _widths(frame)
    for j, width in enumerate(widths):
        sheet.set_column(j, j, width, formats["wrap"] if width >= _MAX_WIDTH else None)
    data = [[_cell(v) for v in row] for row in frame.iter_rows()]
    last_row = first + max(len(data), 1)
    sheet.add_table(
        first,
        0,
        last_row,
        max(len(frame.columns) - 1, 0),
        {
            "data": data,
            "columns": [{"header": name} for name in frame.columns],
            "style": "Table Style Light 9",
            "name": "t_" + "".join(ch if ch.isalnum() else "_" for ch in s.sheet),
        },
    )
    sheet.freeze_panes(first + 1, 0)
    sheet.set_landscape()
    sheet.repeat_rows(first)
    sheet.fit_to_pages(1, 0)
    sheet.set_header(f"&L&B{_escape(s.title)}&R{_escape(stamp(t))}")
    sheet.set_footer("&LCapantra privacy-compliance evidence&RPage &P of &N")


def render_xlsx(t: ReportTables) -> bytes:
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True, "default_date_format": "yyyy-mm-dd", "strings_to_urls": False})
    book.set_properties(
        {
            "title": f"Capantra privacy-compliance evidence as of {t.as_of.isoformat()}",
            "subject": f"evidence digest {t.evidence_digest}",
            "author": "compliance",
            "created": datetime.combine(t.as_of, time()),
        }
    )
    formats = {
        "title": book.add_format({"bold": True, "font_size": 14}),
        "bold": book.add_format({"bold": True}),
        "dim": book.add_format({"font_color": "#555555"}),
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
    }
    sections = report_sections(t)
    _about(book, t, sections, formats["bold"], formats["title"])
    for s in sections:
        _section_sheet(book, t, s, formats)
    book.close()
    return buf.getvalue()
