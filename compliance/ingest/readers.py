"""Read export files as all-text stage relations, with line numbers, and find the exact text of rejects.

Files are read by DuckDB's own readers with explicit columns (no per-row Python). Everything is read
as text first so that a bad value becomes a reject with a reason instead of failing the file;
`validate.py` then types and checks the stage in SQL.

Every export is untrusted input, so nothing read from a file is ever formatted into SQL text: file
paths are bound parameters (glob-escaped, so each file is read by its exact name, never as a
pattern), and CSV header cells are matched to contract columns in Python; the reader names columns
by position (`c0`, `c1`, ...), so a header cell never reaches SQL at all.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import os
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compliance.schema import Source

TEXT_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}
CSV_DELIMITERS = (",", ";", "\t", "|")  # the contract's comma first; the others are recognised by their header
MAX_RECORD_BYTES = 16 * 1024 * 1024  # a longer JSON record or CSV line becomes a reject, not a failed file
MAX_RAW_CHARS = 10_000  # raw text kept per reject: enough to see the problem, never a whole 20 MB line
NOT_UTF8 = "unreadable line: not UTF-8 text"  # the reason of a line whose bytes are not UTF-8 text
GZIP_MAGIC = b"\x1f\x8b"


class FileReadError(RuntimeError):
    """A file that cannot be read at all (missing, corrupt compression, not the declared format)."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        self.file_id = ""  # its SHA-256 when the bytes could be read
        super().__init__(f"{path}: cannot be read: {problem}")


@dataclass(frozen=True)
class UnreadFile:
    """A file (or folder) of an export that was not read, and why: every one is listed in the summary."""

    path: Path
    reason: str


def file_kind(path: Path) -> str | None:
    """jsonl, csv or parquet by extension (a trailing .gz is allowed on text files); None otherwise."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".gz"):
        name = name[:-3]
    return TEXT_EXTENSIONS.get(Path(name).suffix)


def exact(path: Path) -> str:
    """The path as DuckDB's readers must receive it to read exactly this file: `?`, `*` and `[` escaped."""
    return glob.escape(str(path))


def _is_within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def list_export_folder(export: Path, folder: str, kinds: tuple[str, ...]) -> tuple[list[Path], list[UnreadFile]]:
    """`list_source_files` of one source folder of one export (nothing when the export lacks it); a folder
    that is itself a link out of the export is refused."""
    root = export / folder
    if root.is_symlink() and export.resolve() not in root.resolve().parents:
        return [], [UnreadFile(root, "symbolic link to a place outside the export folder (refused)")]
    if not root.is_dir():
        return [], []
    return list_source_files(root, export, kinds)


def list_source_files(folder: Path, export_root: Path, kinds: tuple[str, ...]) -> tuple[list[Path], list[UnreadFile]]:
    """Every file of a source folder that may be read, and every entry that will not be, with the reason.

    Walks sub-folders (date-partitioned `audit/2025/12/01.jsonl`, Spark-style `x.jsonl/part-0.json`),
    in name order. Symbolic links are followed only while they stay inside `export_root`: a link out
    of the bundle (to `/etc/passwd`, another export) is refused. Files of a kind the source does not
    take, hidden files (`.DS_Store`, `._x.jsonl`), and anything that is not a regular file (a FIFO would
    block the load forever) are listed as unread, never silently skipped.
    """
    root = Path(export_root).resolve()
    files: list[Path] = []
    unread: list[UnreadFile] = []
    visited: set[Path] = set()
    wanted = ", ".join(f".{k}" for k in kinds)

    def walk(directory: Path) -> None:
        real_dir = directory.resolve()
        if real_dir in visited:  # a link back to a folder already walked: read its files once
            return
        visited.add(real_dir)
        try:
            entries = sorted(directory.iterdir(), key=lambda p: p.name)
        except OSError as exc:
            unread.append(UnreadFile(directory, f"folder cannot be listed: {exc.strerror or exc}"))
            return
        for p in entries:
            if p.name.startswith("."):
                unread.append(UnreadFile(p, "hidden file or folder"))
                continue
            if p.is_symlink():
                try:
                    target = p.resolve(strict=True)
                except (OSError, RuntimeError):
                    unread.append(UnreadFile(p, "broken symbolic link"))
                    continue
                if not _is_within(target, root):
                    unread.append(UnreadFile(p, "symbolic link to a place outside the export folder (refused)"))
                    continue
            if p.is_dir():
                walk(p)
            elif not p.is_file():
                unread.append(UnreadFile(p, "not a regular file (device, socket or pipe)"))
            elif file_kind(p) in kinds:
                files.append(p)
            else:
                unread.append(UnreadFile(p, f"not a {wanted} file (optionally .gz)"))

    walk(folder)
    return files, unread


def check_file_start(path: Path, head: bytes) -> None:
    """Refuse a file whose first bytes contradict its name, before DuckDB reads it as something else."""
    compressed = is_gzip(path)
    if not compressed and head.startswith(GZIP_MAGIC):
        raise FileReadError(path, "holds gzip-compressed data but its name does not end in .gz (rename it)")
    if compressed and head and not head.startswith(GZIP_MAGIC):
        raise FileReadError(path, "is named .gz but is not gzip-compressed")
    if file_kind(path) == "parquet" and head and not head.startswith(b"PAR1"):
        raise FileReadError(path, "is named .parquet but is not a Parquet file")


class LineEnds:
    """Counts, chunk by chunk as a file is hashed, the lines of a JSON Lines file that cannot be a JSON object.

    DuckDB's JSON Lines reader takes each line as one record, and an object's text ends with `}`: a line
    whose last byte (before the line break, and a CRLF's `\r`) is anything else but a space or tab, such
    as a line cut short by a writer that died, stops the fast read. The loader sends such a file straight
    to the careful read instead of letting it abort (and redo) the fast read of every other file.

    Vectorised (numpy) into buffers kept from chunk to chunk: allocating fresh arrays for each chunk cost
    more than the SHA-256 beside it (10M events, 5.3 GB: about 1.0 against 0.55 CPU s per 0.55 GB). A
    chunk whose lines all end in `}` (nearly every one) is judged by one comparison. A bad line this
    does not see still stops the fast read, which then reads the file carefully as before.
    """

    _OK = np.zeros(256, dtype=bool)  # the bytes a line of an object may end with (or a blank line holds)
    _OK[list(b"}\n\r \t")] = True

    def __init__(self) -> None:
        self.bad = 0
        self._tail = b""  # the previous chunk's last two bytes: a line's end may straddle chunks
        self._is_break = np.empty(0, dtype=bool)

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        a = np.frombuffer(chunk, dtype=np.uint8)
        if len(self._is_break) < len(a):
            self._is_break = np.empty(len(a), dtype=bool)
        breaks = np.flatnonzero(np.equal(a, 10, out=self._is_break[: len(a)]))
        self.bad += self._bad_ends(a, breaks[breaks >= 2])  # the lines whose last bytes lie in this chunk
        if len(breaks) and breaks[0] < 2:  # a line break among the first two bytes: its line began before
            head = np.frombuffer(self._tail + a[:2].tobytes(), dtype=np.uint8)
            at = np.flatnonzero(head == 10)
            self.bad += self._bad_ends(head, at[at >= max(len(self._tail), 1)])  # (the tail's were counted)
        self._tail = (self._tail + a[-2:].tobytes())[-2:]

    def _bad_ends(self, a: np.ndarray, breaks: np.ndarray) -> int:
        """How many lines ending at `breaks` (positions of line feeds in `a`, none at 0) end in a byte an object's
        line cannot end with: the byte before the line feed, or before a CRLF's `\r`."""
        last = a[breaks - 1]
        if not np.count_nonzero(last != 125):  # every line ends in `}`: nearly every chunk
            return 0
        last = np.where(last == 13, a[np.maximum(breaks - 2, 0)], last)
        return int(np.count_nonzero(~self._OK[last]))

    def close(self) -> int:
        """The count, with a last line that has no line break."""
        if self._tail and self._tail[-1:] not in (b"}", b"\n", b"\r", b" ", b"\t"):
            self.bad += 1
        return self.bad


def is_gzip(path: Path) -> bool:
    """A file the readers inflate: one named `.gz` (DuckDB's readers decide by the name too)."""
    return path.name.lower().endswith(".gz")


def open_text_bytes(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if is_gzip(path) else path.open("rb")  # type: ignore[return-value]


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is laid out: its delimiter, its column count and which position holds each contract field."""

    delimiter: str
    width: int
    positions: dict[str, int]
    empty: bool = False


def csv_layout(source: Source, path: Path) -> CsvLayout:
    """Read a CSV file's header (in Python, never as SQL) and map its cells to contract columns.

    Header cells are matched case-insensitively and trimmed. The delimiter is the comma unless the
    header only makes sense split on `;`, tab or `|`. A file whose header names no contract column, or
    names one twice, cannot be read: which value is evidence would be a guess.
    """
    try:
        with open_text_bytes(path) as fh:
            first = fh.readline(MAX_RECORD_BYTES)
            # Only a file with no text at all is empty; a blank first line with text after it would make
            # the reader take that text for nothing, so the file is named instead of silently lost.
            text_follows = not first.strip(b"\r\n\t ") and any(line.strip(b"\r\n\t ") for line in fh)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileReadError(path, str(exc)) from exc
    if text_follows:
        raise FileReadError(path, "line 1 is blank but text follows: the header must be the first line")
    if not first.strip(b"\r\n\t "):
        return CsvLayout(",", 0, {}, empty=True)
    try:
        header_line = codecs.decode(first, "utf-8-sig")
    except UnicodeDecodeError:
        raise FileReadError(path, "header line is not UTF-8 text") from None
    wanted = set(source.column_names)
    best: tuple[int, str, list[str]] = (-1, ",", [])
    for delim in CSV_DELIMITERS:
        cells = next(csv.reader(io.StringIO(header_line), delimiter=delim), [])
        names = [c.strip().lower() for c in cells]
        hits = len(wanted & set(names))
        if hits > best[0]:
            best = (hits, delim, names)
    hits, delim, names = best
    if hits <= 0:
        shown = ", ".join(repr(n[:40]) for n in names[:5])
        raise FileReadError(path, f"header names none of the contract's {source.folder} columns (it has {shown})")
    twice = sorted({n for n in names if n in wanted and names.count(n) > 1})
    if twice:
        raise FileReadError(path, f"header names column {', '.join(twice)} more than once")
    return CsvLayout(delim, len(names), {n: i for i, n in enumerate(names) if n in wanted})


def _json_columns(source: Source, careful: bool) -> str:
    # Lists and JSON keep their shape; every scalar is read as text and typed in validate.py.
    # Column names come from compliance.schema (code), never from a file.
    # A list is read as JSON so that a string or object where the contract wants a list is a reject,
    # not a silent NULL. In a careful read, text fields are read as JSON too, so that an object or list
    # where text is wanted is a reject, not its JSON text stored as if it were the value; the fast read
    # takes them as text (twice as fast) and sends a file with a value starting `{` or `[` to a careful read.
    kinds = {"VARCHAR[]": "JSON", "JSON": "JSON", "VARCHAR": "JSON" if careful else "VARCHAR"}
    return (
        "{"
        + ", ".join(f"{sql_string(c.name)}: {sql_string(kinds.get(c.type, 'VARCHAR'))}" for c in source.columns)
        + "}"
    )


def sql_string(text: str) -> str:
    """A SQL string literal of text written in code (a schema name): quotes doubled. Never for data."""
    return "'" + text.replace("'", "''") + "'"


def jsonl_reader_sql(source: Source, param: str, *, careful: bool = True) -> str:
    """DuckDB's JSON Lines reader over the file(s) bound to `$param` (exact paths), every field as text.

    A careful read turns a line that is not a JSON object into an all-NULL row (`ignore_errors`), which
    also makes the reader keep the first of a field given twice; the fast read stops at such a line and
    at a contract field given twice (DuckDB's error names the file), and the loader reads that file
    carefully (`duplicate_fields_sql` then finds the fields given twice)."""
    return f"""read_json(${param}, format='newline_delimited', records=true, columns={_json_columns(source, careful)},
                         ignore_errors={"true" if careful else "false"}, maximum_object_size={MAX_RECORD_BYTES})"""


def duplicate_fields_sql(source: Source, param: str) -> str:
    """(rec, fields) of the records of the file bound to `$param` that give a contract field more than once,
    numbered like the careful stage (blank lines skipped, a line that is not JSON still counted)."""
    names = "[" + ", ".join(sql_string(c) for c in source.column_names) + "]"
    return f"""(select rec, array_to_string(list_filter(list_distinct(k),
                       lambda x: list_contains({names}, x) and len(list_filter(k, lambda y: y = x)) > 1), ', ') as fields
               from (select ordinality as rec, json_keys(json) as k
                     from read_json_objects(${param}, format='newline_delimited', ignore_errors=true,
                                            maximum_object_size={MAX_RECORD_BYTES}) with ordinality)
               where len(k) <> len(list_distinct(k)))"""


def suspect_text_sql(source: Source, alias: str) -> str:
    """True when a text field of a fast-read row starts with `{` or `[`: maybe an object or list read as its
    JSON text, maybe a string that looks like one; only a careful read can tell, so the file gets one."""
    # A byte-prefix test, not a regular expression: it runs on every text field of every row of the fast
    # read (1M events: 7.7 s of CPU for the audit insert against 8.2 s with regexp_matches; `prefix` takes
    # 40% less than `left(x, 1) in (...)`, which cuts out a string per field).
    text = [c.name for c in source.columns if c.type == "VARCHAR"]
    return "(" + " or ".join(f"""(prefix({alias}."{c}", '{{') or prefix({alias}."{c}", '['))""" for c in text) + ")"


@dataclass(frozen=True)
class Stage:
    """A stage relation's SQL (`_file_index`, `_line`, `_unparseable`, `_shape`, `_dup`, then every contract
    column as read; `_shape` names the text fields that held a JSON object or list, `_dup` the fields
    given twice in one record)
    and the parameters it binds (the files' exact paths)."""

    sql: str
    params: dict[str, object]


def stage(
    source: Source, paths: list[Path], *, numbered: bool = True, layout: CsvLayout | None = None, careful: bool = True
) -> Stage:
    """The stage relation over one or more files of one kind, paths bound as parameters.

    Several JSON Lines files are read in one statement; with `numbered=False` they are read by one
    parallel multi-file scan and `_line` is NULL (numbering records needs `WITH ORDINALITY`, which
    makes a scan sequential: loading is about twice as slow), so only the rare path that explains
    rejects numbers them. `careful=False` is the fast read of JSON Lines (`jsonl_reader_sql`): no
    shape or duplicate-field check, and it fails on any line that needs one; numbered, it explains the
    rejects of a file the fast read loaded, seeing each line as that read did. CSV structural errors (a
    line the reader cannot split into fields) land in `_csv_rejects` while the stage is scanned. A CSV
    file needs its `layout` (csv_layout).
    """
    kind = file_kind(paths[0])
    cols = source.column_names
    fields = "null::varchar as _shape, null::varchar as _dup, " + ", ".join(f'"{c}"' for c in cols)
    if kind == "jsonl":
        # ignore_errors turns an unparseable line into an all-NULL row, so record numbering is kept.
        all_null = " and ".join(f'"{c}" is null' for c in cols)
        text = [c.name for c in source.columns if c.type == "VARCHAR"]
        if not careful and not numbered:
            sql = f"""select file_index as _file_index, null::bigint as _line, ({all_null}) as _unparseable,
                    {fields} from {jsonl_reader_sql(source, "files", careful=False)}"""
            return Stage(sql, {"files": [exact(p) for p in paths]})
        if not careful:  # numbered like the careful read: one scan per file, blank lines skipped
            sql = " union all ".join(
                f"""select {i} as _file_index, ordinality as _line, ({all_null}) as _unparseable, {fields}
                    from {jsonl_reader_sql(source, f"f{i}", careful=False)} with ordinality"""
                for i in range(len(paths))
            )
            return Stage(sql, {f"f{i}": exact(p) for i, p in enumerate(paths)})
        shape = ", ".join(f"case when json_type(\"{c}\") in ('OBJECT', 'ARRAY') then {sql_string(c)} end" for c in text)
        values = ", ".join(f'"{c}"->>\'$\' as "{c}"' if c in text else f'"{c}"' for c in cols)
        fields = f"nullif(concat_ws(', ', {shape}), '') as _shape, "
        if numbered:  # one scan per file, so ORDINALITY numbers each file's records from 1
            sql = " union all ".join(
                f"""select {i} as _file_index, ordinality as _line, ({all_null}) as _unparseable, {fields}
                    nullif(d.fields, '') as _dup, {values}
                    from {jsonl_reader_sql(source, f"f{i}")} with ordinality
                    left join {duplicate_fields_sql(source, f"f{i}")} d on d.rec = ordinality"""
                for i in range(len(paths))
            )
            return Stage(sql, {f"f{i}": exact(p) for i, p in enumerate(paths)})
        sql = f"""select file_index as _file_index, null::bigint as _line, ({all_null}) as _unparseable,
                {fields} null::varchar as _dup, {values} from {jsonl_reader_sql(source, "files")}"""
        return Stage(sql, {"files": [exact(p) for p in paths]})
    if kind == "csv":
        assert layout is not None and len(paths) == 1
        if layout.empty:
            nulls = ", ".join(f'null::varchar as "{c}"' for c in cols)
            return Stage(
                "select 0 as _file_index, 0::bigint as _line, false as _unparseable, null::varchar as _shape,"
                f" null::varchar as _dup, {nulls}"
                " limit 0",
                {},
            )
        spec = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(layout.width)) + "}"
        select = ", ".join(
            f'"c{layout.positions[c]}" as "{c}"' if c in layout.positions else f'null::varchar as "{c}"' for c in cols
        )
        delim = {",": "','", ";": "';'", "\t": "E'\\t'", "|": "'|'"}[layout.delimiter]
        # _line assumes no structural rejects; load.py corrects it in the rare file that has some.
        sql = f"""select 0 as _file_index, ordinality + 1 as _line, false as _unparseable, null::varchar as _shape,
                   null::varchar as _dup, {select}
            from read_csv($file, header=true, columns={spec}, auto_detect=false, delim={delim}, quote='"',
                          escape='"', max_line_size={MAX_RECORD_BYTES},
                          ignore_errors=true, store_rejects=true, rejects_table='_csv_rejects',
                          rejects_scan='_csv_reject_scans') with ordinality"""
        return Stage(sql, {"file": exact(paths[0])})
    if kind == "parquet":
        assert len(paths) == 1
        present = set(layout.positions) if layout else set()
        select = ", ".join(
            (f'cast("{c.name}" as {c.type if c.type in ("VARCHAR[]", "JSON") else "VARCHAR"}) as "{c.name}"')
            if c.name in present
            else f'null::varchar as "{c.name}"'
            for c in source.columns
        )
        sql = f"""select 0 as _file_index, ordinality as _line, false as _unparseable, null::varchar as _shape,
                  null::varchar as _dup, {select}
                  from read_parquet($file) with ordinality"""
        return Stage(sql, {"file": exact(paths[0])})
    raise FileReadError(paths[0], "not a .jsonl, .csv or .parquet file (optionally .gz)")


def parquet_layout(con: object, source: Source, path: Path) -> CsvLayout:
    """Which contract columns a Parquet file holds (its schema read with the path bound)."""
    import duckdb

    assert isinstance(con, duckdb.DuckDBPyConnection)
    try:
        names = [r[0] for r in con.execute("select name from parquet_schema($p)", {"p": exact(path)}).fetchall()]
    except duckdb.Error as exc:
        raise FileReadError(path, str(exc).splitlines()[0]) from exc
    wanted = set(source.column_names)
    return CsvLayout("", len(names), {n: i for i, n in enumerate(names) if n in wanted})


def csv_structural_rejects(con: object) -> None:
    """Move the CSV reader's structural rejects of the last scan into `_structural` (line, reason, raw):
    one row per bad line, however many errors the reader found in it."""
    scanned = con.execute(  # type: ignore[attr-defined]
        "select count(*) from duckdb_tables() where temporary and table_name = '_csv_rejects'"
    ).fetchall()[0][0]
    if not scanned:  # an empty file: no reader ran
        con.execute(  # type: ignore[attr-defined]
            "create or replace temp table _structural (line bigint, reason varchar, raw varchar)"
        ).fetchall()
        return
    con.execute(  # type: ignore[attr-defined]
        f"""create or replace temp table _structural as
           with per_line as (
               -- in a CRLF file the reader's line may start with the previous line's line feed
               select line, ltrim(any_value(csv_line), chr(13) || chr(10)) as raw,
                      string_agg(distinct lower(cast(error_type as varchar)), ', ') as problems,
                      -- the reader may report one bad line several times, with different field counts
                      case when count(distinct error_message) = 1 then any_value(error_message) end as message
               from _csv_rejects group by line
           )
           select line,
                  problems || coalesce(': ' || message, ': the line does not split into the header''s fields')
                  || case when contains(raw, chr(10))
                          then ' (a quote opened here is never closed: the reader took the '
                               || (len(raw) - len(replace(raw, chr(10), ''))) || ' lines from here on as one value)'
                          else '' end as reason,
                  left(raw, {MAX_RAW_CHARS}) as raw
           from per_line"""
    ).fetchall()
    con.execute("drop table if exists _csv_rejects; drop table if exists _csv_reject_scans").fetchall()  # type: ignore[attr-defined]


# The bytes a blank JSON Lines line may hold, which the reader skips (a line of them is no record): what Python's
# `bytes.strip` removes, and `_wanted_records` skips the same lines.
_BLANK_SQL = "chr(32) || chr(9) || chr(11) || chr(12) || chr(13)"


def raw_lines_sql(kind: str | None) -> str:
    """SQL of a relation (rec, line, raw) over the lines of a text file of `kind`, `$raw_file` bound to `exact(path)`:
    the exact text for rejects.

    `rec` matches the stage's `_line`: for CSV that is already the physical line; JSON Lines readers
    skip blank lines, so there the n-th record is the n-th non-blank line. Read only when rejects exist;
    `raw_lines_python` is the fallback for a file DuckDB cannot split into text lines (bad UTF-8).
    """
    skip_blank = kind == "jsonl"
    return f"""(
        select {"row_number() over (order by line)" if skip_blank else "line"} as rec, line, left(raw, {MAX_RAW_CHARS}) as raw
        from (select ordinality as line, raw
              from read_csv($raw_file, columns={{'raw': 'VARCHAR'}}, header=false, delim=E'\\x1f', quote='', escape='',
                            auto_detect=false, max_line_size={MAX_RECORD_BYTES + 1024}) with ordinality)
        {f"where raw is not null and trim(raw, {_BLANK_SQL}) <> ''" if skip_blank else ""}
    )"""


UNCLOSED_QUOTE = (
    "unquoted value: a quote opened on this line is never closed (the lines after it were read on their own)"
)


def blank_line_copy(path: Path, line: int, folder: Path) -> Path:
    """A plain copy of a text file with one physical line emptied (line numbers unchanged).

    Used when a CSV quote is never closed: the reader would otherwise take every later line as part
    of that one value. The reader skips the empty line, and the rows after it are read on their own.
    """
    folder.mkdir(parents=True, exist_ok=True)
    # A name of its own: files of the folder come and go (excerpts, other files' copies, on other threads), so
    # naming a copy after how many files it holds could reuse the name of the copy being read.
    handle, name = tempfile.mkstemp(suffix=".csv", dir=folder)
    with open_text_bytes(path) as src, os.fdopen(handle, "wb") as dst:
        for n, raw in enumerate(src, start=1):
            dst.write((b"\r\n" if raw.endswith(b"\r\n") else b"\n") if n == line else raw)
    return Path(name)


def physical_lines(path: Path) -> int:
    """How many lines a text file has (a last line without its line break counts), read in C-speed chunks."""
    lines, last = 0, b"\n"
    with open_text_bytes(path) as fh:
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (last != b"\n")


@dataclass(frozen=True)
class CsvUnit:
    """One unit of a CSV file after its header, as DuckDB's CSV reader counts them in its reject lines:
    a record (one line, or several when a quoted value holds line breaks), an empty line, or a line that
    holds nothing but spaces and tabs (`blank`)."""

    first: int  # physical line (1-based, the header is line 1)
    last: int
    kind: str  # record | empty | blank


def csv_units(path: Path, delimiter: str, until: int | None = None) -> list[CsvUnit]:
    """Every unit after the header of a CSV file, with its physical lines: what maps the reader's record
    numbers (which skip empty lines and count a multi-line record once) to the file's true lines.
    With `until`, only the first `until` units (the file is parsed no further).

    Lines are split on `\n` only (so a CRLF file has the same lines as an editor shows) and parsed
    by Python's csv module with the reader's dialect (RFC 4180 quotes, doubled quote as escape).
    A line is blank by its own text (spaces and tabs only): `""` parses to one empty value too, but it is a
    record the reader rejects, not a blank line. Read only for a file whose records are not one per line
    (the rare path)."""
    units: list[CsvUnit] = []
    last = [""]  # the physical line the csv module took last: a one-line record's own text

    def remembered(lines: Iterator[bytes]) -> Iterator[str]:
        for b in lines:
            last[0] = b.decode("utf-8", errors="backslashreplace")
            yield last[0]

    with open_text_bytes(path) as raw:
        lines = remembered(iter(raw))
        first = next(lines, "")
        reader = csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
        done = 1 if first else 0  # the last physical line read so far: the header
        previous = csv.field_size_limit()
        csv.field_size_limit(max(previous, MAX_RECORD_BYTES))
        try:
            for record in reader:
                start, done = done + 1, reader.line_num + 1  # line_num counts the lines after the header
                if not record:
                    kind = "empty"
                elif len(record) == 1 and done == start and not last[0].strip(" \t\r\n"):
                    kind = "blank"
                else:
                    kind = "record"
                units.append(CsvUnit(start, done, kind))
                if until is not None and len(units) >= until:
                    break
        finally:
            csv.field_size_limit(previous)
    return units


def _wanted_records(path: Path, wanted: set[int]) -> Iterator[tuple[int, int, bytes]]:
    """(rec, line, bytes) of the wanted records of a text file, numbered as `raw_lines_sql` numbers them."""
    skip_blank = file_kind(path) == "jsonl"
    rec = 0
    with open_text_bytes(path) as fh:
        for line_no, raw in enumerate(fh, start=1):
            if skip_blank and not raw.strip():
                continue
            rec = rec + 1 if skip_blank else line_no
            if rec in wanted:
                # the file's byte-order mark is no part of its first line's text (the readers skip it)
                yield rec, line_no, raw.removeprefix(codecs.BOM_UTF8) if line_no == 1 else raw


def shown_text(raw: bytes) -> tuple[str, bool]:
    """(the text a reject shows of a raw line, at most MAX_RAW_CHARS; whether the line is UTF-8).

    Bytes that are not UTF-8 are kept as `\\xNN` escapes, so the reject shows what was there.
    """
    chunk = raw[: MAX_RAW_CHARS * 4].rstrip(b"\r\n")
    try:
        text, utf8 = chunk.decode("utf-8"), True
    except UnicodeDecodeError:
        text = chunk.decode("utf-8", errors="backslashreplace")
        utf8 = _utf8_except_cut(chunk, len(raw) > len(chunk))
    return text[:MAX_RAW_CHARS], utf8


def raw_lines_python(path: Path, wanted: set[int]) -> list[tuple[int, int, str, bool]]:
    """(rec, line, raw, is_utf8) of the wanted records of a text file, read in Python (the rare fallback)."""
    return [(rec, line, *shown_text(raw)) for rec, line, raw in _wanted_records(path, wanted)]


def jsonl_excerpt(path: Path, wanted: set[int], folder: Path) -> tuple[Path, list[tuple[int, int, bytes]]]:
    """A JSON Lines file in `folder` holding only the wanted records of `path`, one per line in record order,
    and (rec, line, bytes) of each. The careful read judges each line on its own, so a file's rejects are
    explained from its excerpt as from the whole file, which is then not parsed again."""
    handle, name = tempfile.mkstemp(suffix=".jsonl", dir=folder)
    kept = list(_wanted_records(path, wanted))
    with os.fdopen(handle, "wb") as out:
        out.writelines(raw.rstrip(b"\r\n") + b"\n" for _, _, raw in kept)
    return Path(name), kept


def _utf8_except_cut(chunk: bytes, cut: bool) -> bool:
    """True when the only bad UTF-8 is a character split by our own truncation of a long line."""
    if not cut:
        return False
    try:
        chunk[:-4].decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False
