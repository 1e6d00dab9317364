"""Read one export file as an all-text stage view, with line numbers, and find the exact text of rejects.

Files are read by DuckDB's own readers with explicit columns (no per-row Python). Everything is read
as text first so that a bad value becomes a reject with a reason instead of failing the file;
`validate.py` then types and checks the stage in SQL.
"""

from __future__ import annotations

import csv
import gzip
import io
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


def _sql_literal(path: Path) -> str:
    # Views cannot hold bound parameters, so the path is inlined as a quoted literal (it is a file
    # name we listed ourselves, never user SQL).
    return "'" + str(path).replace("'", "''") + "'"


def jsonl_reader_sql(source: Source, paths: list[Path]) -> str:
    """DuckDB's JSON Lines reader over files, every field as text (lists and JSON kept), in file order."""
    files = "[" + ", ".join(_sql_literal(p) for p in paths) + "]"
    return f"""read_json({files}, format='newline_delimited', columns={_json_columns(source)},
                         ignore_errors=true, maximum_object_size=16777216)"""


def stage_view(
    con: duckdb.DuckDBPyConnection, source: Source, path: Path | list[Path], *, numbered: bool = True
) -> None:
    """Create the temp view `_stage`: `_file_index`, `_line`, `_unparseable`, then every contract column as read.

    A view, not a table: the happy path reads the files once, straight into the source's table.
    `_file_index` is the file's position in the list. Several JSON Lines files are read in one
    statement; with `numbered=False` they are read by one parallel multi-file scan and `_line` is NULL
    (numbering records needs `WITH ORDINALITY`, which makes a scan sequential: loading is about twice
    as slow), so only the rare path that explains rejects numbers them. CSV structural errors (a line
    the reader cannot split into fields) land in `_csv_rejects` while the view is scanned.
    """
    paths = path if isinstance(path, list) else [path]
    path = paths[0]
    kind = file_kind(path)
    lit = _sql_literal(path)
    cols = source.column_names
    if kind == "jsonl":
        # ignore_errors turns an unparseable line into an all-NULL row, so record numbering is kept.
        all_null = " and ".join(f'"{c}" is null' for c in cols)
        fields = ", ".join(f'"{c}"' for c in cols)
        if numbered:  # one scan per file, so ORDINALITY numbers each file's records from 1
            sql = " union all ".join(
                f"""select {i} as _file_index, ordinality as _line, ({all_null}) as _unparseable, {fields}
                    from {jsonl_reader_sql(source, [p])} with ordinality"""
                for i, p in enumerate(paths)
            )
        else:
            sql = f"""select file_index as _file_index, null::bigint as _line, ({all_null}) as _unparseable,
                    {fields} from {jsonl_reader_sql(source, paths)}"""
    elif kind == "csv":
        header = _csv_header(path)
        spec = "{" + ", ".join(f"'{h}': 'VARCHAR'" for h in header) + "}"
        present = set(header)
        select = ", ".join(f'"{c}"' if c in present else f'null::varchar as "{c}"' for c in cols)
        # _line assumes no structural rejects; load.py corrects it in the rare file that has some.
        sql = f"""select 0 as _file_index, ordinality + 1 as _line, false as _unparseable, {select}
            from read_csv({lit}, header=true, columns={spec}, auto_detect=false, delim=',', quote='"', escape='"',
                          ignore_errors=true, store_rejects=true, rejects_table='_csv_rejects',
                          rejects_scan='_csv_reject_scans') with ordinality"""
    elif kind == "parquet":
        try:
            present = {r[0] for r in con.execute("select name from parquet_schema($p)", {"p": str(path)}).fetchall()}
        except duckdb.Error as exc:
            raise FileReadError(path, str(exc).splitlines()[0]) from exc
        select = ", ".join(
            (f'cast("{c.name}" as {c.type if c.type in ("VARCHAR[]", "JSON") else "VARCHAR"}) as "{c.name}"')
            if c.name in present
            else f'null::varchar as "{c.name}"'
            for c in source.columns
        )
        sql = f"select 0 as _file_index, ordinality as _line, false as _unparseable, {select} from read_parquet({lit}) with ordinality"
    else:
        raise FileReadError(path, "not a .jsonl, .csv or .parquet file (optionally .gz)")
    con.execute(f"create or replace temp view {STAGE} as {sql}").fetchall()


def csv_structural_rejects(con: duckdb.DuckDBPyConnection) -> None:
    """Move the CSV reader's structural rejects of the last scan into `_structural` (line, reason, raw)."""
    con.execute(
        """create or replace temp table _structural as
           select distinct line, lower(cast(error_type as varchar)) || ': ' || error_message as reason, csv_line as raw
           from _csv_rejects"""
    ).fetchall()
    con.execute("drop table if exists _csv_rejects; drop table if exists _csv_reject_scans").fetchall()


def corrected_line_sql(expr: str) -> str:
    """CSV line of the good row whose provisional `_line` is `expr`, skipping the structural reject lines.

    The k-th good row sits after every rejected line r_i (i = 1, 2, ...) with r_i - 1 - i < k good rows before it.
    """
    k = f"({expr} - 1)"
    return f"({k} + 1 + (select count(*) from (select line, row_number() over (order by line) as i from _structural) b where b.line - 1 - b.i < {k}))"


def raw_lines_sql(path: Path) -> str:
    """SQL of a relation (rec, line, raw) over a text file's lines, `$path` bound: the exact text for rejects.

    `rec` matches the stage's `_line`: for CSV that is already the physical line; JSON Lines readers
    skip blank lines, so there the n-th record is the n-th non-blank line. Read only when rejects exist.
    """
    skip_blank = file_kind(path) == "jsonl"
    return f"""(
        select {"row_number() over (order by line)" if skip_blank else "line"} as rec, line, raw
        from (select ordinality as line, raw
              from read_csv($path, columns={{'raw': 'VARCHAR'}}, header=false, delim=E'\\x1f', quote='', escape='',
                            auto_detect=false, max_line_size=16777216) with ordinality)
        {"where raw is not null and trim(raw) <> ''" if skip_blank else ""}
    )"""
