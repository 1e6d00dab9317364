"""Deterministic file writing: the same frame always gives the same bytes.

gzip headers carry no name or time; Parquet is written by polars with fixed settings; CSV and JSON
Lines use "\\n" line ends and UTF-8.
"""

from __future__ import annotations

import gzip
import io
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import polars as pl

GZIP_LEVEL = 6  # the first week of audit files, as it has always been written
# Every audit day of a large bundle: 9.9:1 on audit JSON Lines at about 320 MB/s, against 12.8:1 at 144 MB/s
# for level 6 (measured on a 19 MB day of the 10M bundle); compression is then about 1.8 CPU s per million events.
BULK_GZIP_LEVEL = 3


def write_lines(path: Path, lines: list[str] | pl.Series, *, gz: bool = False, level: int = GZIP_LEVEL) -> None:
    """Write text lines, each ending in a newline; gzip without a file name or modification time."""
    # No lines make an empty file; otherwise every line, empty ones too, ends in a newline.
    if not len(lines):
        data = b""
    elif isinstance(lines, pl.Series):
        data = _lines_bytes(lines)
    else:
        data = ("\n".join(lines) + "\n").encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with (
            path.open("wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=level) as fh,
        ):
            fh.write(data)
    else:
        path.write_bytes(data)


def _lines_bytes(lines: pl.Series) -> bytes:
    """The lines as UTF-8 text, each ending in a newline, written by polars without a Python string per line
    (the lines are whole records: the CSV writer is told never to quote them)."""
    buffer = io.BytesIO()
    lines.to_frame().write_csv(buffer, include_header=False, quote_style="never", line_terminator="\n")
    return buffer.getvalue()


def write_csv(path: Path, df: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_csv(path, line_terminator="\n", null_value="")


def write_parquet(path: Path, df: pl.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path, compression="zstd", compression_level=3, statistics=True, row_group_size=262_144)


def csv_lines(df: pl.DataFrame) -> list[str]:
    """A frame as CSV text lines (header first), for files that get hand-made dirty rows inserted."""
    return df.write_csv(line_terminator="\n", null_value="").rstrip("\n").split("\n")


class BackgroundWriter:
    """Writes line files on one background thread, so compressing and writing one day overlaps generating
    the next (zlib and file writes release the GIL). One file at most is in flight, so memory stays bounded;
    the first error is raised from the next `write` or on leaving the `with` block."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-writer")
        self._pending: Future[None] | None = None

    def write(self, path: Path, lines: list[str] | pl.Series, *, gz: bool = False, level: int = GZIP_LEVEL) -> None:
        self.wait()
        self._pending = self._pool.submit(write_lines, path, lines, gz=gz, level=level)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)
