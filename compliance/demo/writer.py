"""Deterministic file writing: the same frame always gives the same bytes.

gzip headers carry no name or time; Parquet is written by polars with fixed settings; CSV and JSON
Lines use "\\n" line ends and UTF-8.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl


def write_lines(path: Path, lines: list[str] | pl.Series, *, gz: bool = False) -> None:
    """Write text lines, each ending in a newline; gzip without a file name or modification time."""
    text = "\n".join(lines) if isinstance(lines, list) else (lines.str.join("\n").item() if len(lines) else "")
    data = (text + "\n").encode("utf-8") if text else b""
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


def write_csv(path: Path, df: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(path, line_terminator="\n", null_value="")


def write_parquet(path: Path, df: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path, compression="zstd", compression_level=3, statistics=True, row_group_size=262_144)


def csv_lines(df: pl.DataFrame) -> list[str]:
    """A frame as CSV text lines (header first), for files that get hand-made dirty rows inserted."""
    return df.write_csv(line_terminator="\n", null_value="").rstrip("\n").split("\n")
