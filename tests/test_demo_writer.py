"""`write_lines` writes the same bytes for a list and a polars Series of the same lines, plain or gzip."""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl
import pytest

from compliance.demo.writer import write_lines

CASES = [
    ([], b""),
    ([""], b"\n"),
    (["", ""], b"\n\n"),
    (['{"a": 1}'], b'{"a": 1}\n'),
    (['{"a": "é"}', "", "x,y"], b'{"a": "\xc3\xa9"}\n\nx,y\n'),
]


@pytest.mark.parametrize(("lines", "expected"), CASES)
@pytest.mark.parametrize("as_series", [False, True])
@pytest.mark.parametrize("gz", [False, True])
def test_lines_are_written_each_ending_in_a_newline(
    tmp_path: Path, lines: list[str], expected: bytes, as_series: bool, gz: bool
) -> None:
    path = tmp_path / "out.jsonl"
    write_lines(path, pl.Series(lines, dtype=pl.String) if as_series else lines, gz=gz)
    written = path.read_bytes()
    assert (gzip.decompress(written) if gz else written) == expected
