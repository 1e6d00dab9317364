"""Read one export file into a temporary all-text stage table, with line numbers and structural rejects.

Files are read by DuckDB's own readers with explicit columns (no per-row Python). Everything is read
as text first so that a bad value becomes a reject with a reason instead of failing the file;
`validate.py` then types and checks the stage in SQL.
"""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compliance.schema import Source

STAGE = "_stage"
TEXT_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


class FileReadError(RuntimeError):
    """A file that cannot be read at all (missing, corrupt compression, not the declared format)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        super().__init__(f"{path}: cannot be read: {problem}")


def file_kind(path: Path) -> str | None:
    """jsonl, csv or parquet by extension (a trailing .gz is allowed on text files); None otherwise."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        name = name[:-3]
    return TEXT_EXTENSIONS.get(Path(name).suffix)


@dataclass(frozen=True)
class StructuralReject:
    line: int
    reason: str
    raw: str | None


def _json_columns(source: Source) -> str:
    # Lists and JSON keep their shape; every scalar is read as text and typed in validate.py.
    kinds = {"VARCHAR[]": "VARCHAR[]", "JSON": "JSON"}
    return "{" + ", ".join(f"'{c.name}': '{kinds.get(c.type, 'VARCHAR')}'" for c in source.columns) + "}"


def _csv_header(path: Path) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:  # type: ignore[operator]
            return next(csv.reader(io.StringIO(fh.readline())), [])
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise FileReadError(path, str(exc)) from exc


def stage_file(con: duckdb.DuckDBPyConnection, source: Source, path: Path) -> list[StructuralReject]:
    """Create `_stage` (one row per record: `_line`, `_unparseable`, then every contract column as read).

    Returns the rejects found while reading (lines the reader itself could not split into fields).
    """
    kind = file_kind(path)
    p = {"path": str(path)}
    structural: list[StructuralReject] = []
    cols = source.column_names
    try:
        if kind == "jsonl":
            # ignore_errors turns an unparseable line into an all-NULL row, so line numbering is kept.
            all_null = " and ".join(f'"{c}" is null' for c in cols)
            con.execute(
                f"""create or replace temp table {STAGE} as
                select ordinality as _line, ({all_null}) as _unparseable, {", ".join(f'"{c}"' for c in cols)}
                from read_json($path, format='newline_delimited', columns={_json_columns(source)},
                               ignore_errors=true, maximum_object_size=16777216) with ordinality""",
                p,
            ).fetchall()
        elif kind == "csv":
            header = _csv_header(path)
            spec = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
            con.execute(
                f"""create or replace temp table _read as
                select ordinality as _ord, * from read_csv($path, header=true, columns={spec}, auto_detect=false,
                    delim=',', quote='"', escape='"', ignore_errors=true, store_rejects=true,
                    rejects_table='_csv_reject_errors', rejects_scan='_csv_reject_scans') with ordinality""",
                p,
            ).fetchall()
            rej = con.execute(
                "select line, error_type, error_message, csv_line from _csv_reject_errors order by line"
            ).fetchall()
            structural = [StructuralReject(int(r[0]), f"{r[1].lower()}: {r[2]}", r[3]) for r in rej]
            con.execute("drop table if exists _csv_reject_errors; drop table if exists _csv_reject_scans").fetchall()
            present = {h for h in header}
            select = ", ".join(f'"{c}"' if c in present else f'null::varchar as "{c}"' for c in cols)
            # The k-th good row sits after every rejected line r_i with (r_i - 1 - i) good rows before it.
            con.execute("create or replace temp table _bad_lines (line bigint, i bigint)").fetchall()
            if structural:
                con.executemany(
                    "insert into _bad_lines values (?, ?)", [(r.line, i + 1) for i, r in enumerate(structural)]
                )
            con.execute(
                f"""create or replace temp table {STAGE} as
                select _ord + 1 + (select count(*) from _bad_lines b where b.line - 1 - b.i < _ord) as _line,
                       false as _unparseable, {select}
                from _read""",
            ).fetchall()
            con.execute("drop table _read; drop table _bad_lines").fetchall()
        elif kind == "parquet":
            present = {r[0] for r in con.execute("select name from parquet_schema($path)", p).fetchall()}
            select = ", ".join(
                (f'cast("{c.name}" as {c.type if c.type in ("VARCHAR[]", "JSON") else "VARCHAR"}) as "{c.name}"')
                if c.name in present
                else f'null::varchar as "{c.name}"'
                for c in source.columns
            )
            con.execute(
                f"""create or replace temp table {STAGE} as
                select ordinality as _line, false as _unparseable, {select}
                from read_parquet($path) with ordinality""",
                p,
            ).fetchall()
        else:
            raise FileReadError(path, "not a .jsonl, .csv or .parquet file (optionally .gz)")
    except duckdb.Error as exc:
        raise FileReadError(path, str(exc).splitlines()[0]) from exc
    return structural


def raw_lines(con: duckdb.DuckDBPyConnection, path: Path, records: list[int]) -> dict[int, tuple[int, str]]:
    """Exact line number and text of some records of a text file, for the rejects table.

    `records` are the stage's `_line` values. For CSV they are already physical line numbers; JSON
    Lines readers skip blank lines, so there the n-th record is the n-th non-blank line. Read only
    for files that have rejects.
    """
    if not records or file_kind(path) == "parquet":
        return {}
    skip_blank = file_kind(path) == "jsonl"
    con.execute("create or replace temp table _want (rec bigint)").fetchall()
    con.executemany("insert into _want values (?)", [(n,) for n in records])
    rows = con.execute(
        f"""with lines as (
                select ordinality as line, raw from read_csv($path, columns={{'raw': 'VARCHAR'}}, header=false,
                    delim=E'\\x1f', quote='', escape='', auto_detect=false, max_line_size=16777216) with ordinality
            ),
            numbered as (
                select line, raw,
                    {"row_number() over (order by line)" if skip_blank else "line"} as rec
                from lines {"where raw is not null and trim(raw) <> ''" if skip_blank else ""}
            )
            select rec, line, raw from numbered where rec in (select rec from _want)""",
        {"path": str(path)},
    ).fetchall()
    con.execute("drop table _want").fetchall()
    return {int(rec): (int(line), raw) for rec, line, raw in rows}
