"""The mapping core shared by the vendor adapters: read a vendor file into events, map, resolve, validate.

One file goes through four temp tables, all in SQL (no per-event Python):

1. `_vlines` (line, elem, doc, raw): the file's lines, each parsed once, read by exact path (glob-escaped,
   bound), a line that is an array or an envelope already unwrapped (one row per event, `elem` its position);
   a file whose first line is not JSON on its own (pretty-printed documents) is read whole instead.
2. `_vevents` (line, elem, ev): envelopes (`{"Records": [...]}`, `{"items": [...]}`, `{"value": [...]}`,
   JSON arrays) unwrapped into one JSON object per event.
3. `_vmapped` (a view): the adapter's SELECT over `_vevents` (one row per audit event; Google fans activities out),
   the columns of `MAPPED_COLUMNS`, with `reject_reason` set where the event cannot be mapped.
4. The stage (`stage_select`, a SELECT, not a table): the contract's audit columns as text, `_reason` and the
   physical `_phys_line`, principals resolved to directory actors through `identities`, vendor resources named
   by the data map. The loader inserts it straight into `audit_events` through the contract's own validation
   (`validate.typed_select`), exactly as for `audit/` files: the events are mapped once and copied once. Only
   the lines holding events that cannot load are mapped again, into the table `_stage`, to say why.
"""

from __future__ import annotations

import glob
import gzip
import json
import os
import secrets
import shutil
import tempfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compliance.ingest.readers import MAX_RECORD_BYTES, is_gzip, open_text_bytes, sql_string
from compliance.schema import AUDIT

# What every adapter's SELECT returns, one row per audit event (text unless noted).
MAPPED_COLUMNS = (
    "line",  # BIGINT: physical line of the file (NULL for a document read whole)
    "elem",  # BIGINT: position of the event within its line (envelopes, Google's events[])
    "raw",  # JSON: the vendor's event, kept in `details`
    "vendor_id",  # the vendor's own event id, when it has one
    "occurred_at",
    "principals",  # VARCHAR[]: names of the actor, preferred first (id, email, ARN...)
    "actor_type_hint",  # `service` when the vendor says so, else NULL (the directory decides)
    "action",
    "outcome",
    "reject_reason",  # why the event cannot be mapped (NULL when it can)
    "system",
    "resource_type",
    "resource_id",
    "resource_name",  # the name matched against the data map's `vendor_resources` patterns
    "source_ip",
    "geo_country",  # ISO 3166-1 alpha-2 when the vendor gives it so
    "geo_country_name",  # a full country name (Okta) to convert to alpha-2
    "geo_lat",
    "geo_lon",
    "processing_region",
    "user_agent",
    "target_principals",  # VARCHAR[]: names of the grantee of a role change
    "role",
    "recipient",
    "given_twice",  # VARCHAR[]: fields the vendor gives twice other than JSON keys (Google's parameter names)
)

JSON_OBJECT_REASON = "event is not a JSON object"


@dataclass(frozen=True)
class Adapter:
    folder: str  # the export folder, and the value of audit_events.log_source
    title: str  # the vendor's product, for messages and docs
    envelopes: tuple[str, ...]  # keys of wrapper objects whose array holds the events
    mapping_sql: str  # SELECT over `_vevents` returning MAPPED_COLUMNS
    # JSON paths (in the mapped event `raw`) of the objects the mapping reads, whose keys must each be given
    # once: a key given twice makes the event a reject naming it. `[*]` checks every element of an array.
    unique_keys: tuple[str, ...] = ("$",)


def exact_path(path: Path) -> str:
    """A path DuckDB's readers take literally: they treat names as globs, so escape `*?[`."""
    return glob.escape(str(path))


def extract(fields: dict[str, str], source: str = "ev", *, as_json: bool = False) -> str:
    """SELECT list of named fields pulled from one JSON column with a single parse (a list of paths)."""
    fn = "json_extract" if as_json else "json_extract_string"
    paths = ", ".join("'" + p.replace("'", "''") + "'" for p in fields.values())
    pulled = f"{fn}({source}, [{paths}])"
    return ", ".join(f'{pulled}[{i}] as "{name}"' for i, name in enumerate(fields, start=1))


def objects_read(fields: dict[str, str], *, under: tuple[str, ...] = ("$",)) -> tuple[str, ...]:
    """The objects a mapping's field paths go through (`$.a.b.c` reads `$`, `$.a` and `$.a.b`), under each
    root of `under` (Entra's fields are read from the record or from its `properties`)."""
    found: list[str] = []
    for root in under:
        for path in fields.values():
            steps = path.removeprefix("$").split(".")[1:-1]
            for depth in range(len(steps) + 1):
                found.append(".".join([root, *steps[:depth]]))
    return tuple(dict.fromkeys(found))


def _shown_path(path: str) -> str:
    """How a reject names a key under `path`: `userIdentity.` for `$.userIdentity`, nothing for `$`."""
    return path.removeprefix("$").removeprefix(".") + ("." if path != "$" else "")


# A `[*]` path's first elements are read with the plain paths (one parse for all); only an event whose array
# holds more than this many (the element after them exists) is parsed again for the whole array.
FIRST_ELEMENTS = 4


def _plain_paths(paths: tuple[str, ...]) -> list[str]:
    """The paths read in one `json_keys` call: the plain ones, then for each `[*]` path ending there its
    first `FIRST_ELEMENTS` elements and the one after them (present only when the array is longer)."""
    plain = [p for p in paths if "[*]" not in p]
    for p in paths:
        head, _, tail = p.partition("[*]")
        if head != p and not tail:
            plain += [f"{head}[{i}]" for i in range(FIRST_ELEMENTS + 1)]
    return plain


def plain_keys_sql(paths: tuple[str, ...], source: str = "raw") -> str:
    """The key lists of the objects at the plain (not `[*]`) `paths` of the JSON column `source` and at the
    first elements of the `[*]` ones, in one parse (DuckDB takes no wildcard in a list of paths): computed
    once per event as a column, since the reason below reads each list several times and DuckDB would
    parse the event again for each."""
    plain = _plain_paths(paths)
    if not plain:
        return "cast(null as varchar[][])"
    return f"json_keys({source}, [{', '.join(sql_string(p) for p in plain)}])"


def _key_lists(paths: tuple[str, ...], source: str, keys: str) -> list[tuple[str, str, bool, str]]:
    """(SQL of the key lists, how a reject names where they are, wildcard?, SQL true when a list repeats a key)
    for the objects at `paths`: the plain paths' lists from the column `keys` (`plain_keys_sql`), a `[*]`
    path's from there too when its array is short (a missing element is an empty list, as a non-object
    element is: neither repeats a key, and the elements keep their positions), else from one parse of the
    whole array. A short array's elements are tested one by one, as plain lists (a lambda over the list of
    lists cost more than the rest of the check)."""
    plain = _plain_paths(paths)
    at = {p: i for i, p in enumerate(plain, start=1)}
    out = [(f"{keys}[{at[p]}]", _shown_path(p), False, _repeats(f"{keys}[{at[p]}]")) for p in paths if "[*]" not in p]
    for p in paths:
        head, _, tail = p.partition("[*]")
        if head == p:
            continue
        whole = _wildcard_keys(source, p)
        repeats = _repeats(whole, wildcard=True)
        if not tail:
            elements = [f"{keys}[{at[f'{head}[{i}]']}]" for i in range(FIRST_ELEMENTS)]
            longer = f"{keys}[{at[f'{head}[{FIRST_ELEMENTS}]']}] is null"
            first = ", ".join(f"coalesce({e}, [])" for e in elements)
            whole = f"case when {longer} then [{first}] else {whole} end"
            repeats = f"case when {longer} then {' or '.join(map(_repeats, elements))} else {repeats} end"
        out.append((whole, _shown_path(p), True, repeats))
    return out


def _repeats(lists: str, *, wildcard: bool = False) -> str:
    """SQL true when the key list `lists` (with `wildcard`: each list of the list of lists) repeats a key."""
    if wildcard:
        return f"len(flatten(list_transform({lists}, lambda ks: {repeated_sql('ks')}))) > 0"
    return f"len({repeated_sql(lists)}) > 0"


def _wildcard_keys(source: str, path: str) -> str:
    """The key lists of the objects at a `[*]` path, parsed only from a text that may name the array's key
    (`target` for `$.target[*]`): no array there gives the empty list, as `json_keys` does."""
    key = path.partition("[*]")[0].rsplit(".", 1)[-1].split("[")[0].strip('"')
    return f"case when {may_name((key,), source)} then json_keys({source}, {sql_string(path)}) else []::varchar[][] end"


def repeated_sql(values: str) -> str:
    """The later occurrences of the values given more than once in the list `values` (a column or lambda
    parameter: it is read twice). `list_position` finds a value's first place: a quarter of the cost of
    `list_unique`, which builds a hash table per list."""
    return f"list_filter({values}, lambda x, i: list_position({values}, x) <> i)"


def duplicate_keys_sql(paths: tuple[str, ...], source: str = "raw", keys: str = "_keys", extra: str = "") -> str:
    """The `_dup` of validate.typed_select: the keys given more than once in an object at `paths` of the
    JSON column `source` (`userIdentity.arn`, `target[2].id`), joined by ', ', else NULL; `keys` is the
    column holding `plain_keys_sql`, `extra` a VARCHAR[] column naming other fields given twice (Google's
    parameter names). The names are built only for an event that has a repeat (rare)."""
    repeats, named = [], []
    for k, where, wild, repeat in _key_lists(paths, source, keys):
        repeats.append(repeat)
        if wild:
            head, _, tail = where.partition("[*]")
            named.append(
                f"flatten(list_transform({k}, lambda ks, n: list_transform({repeated_sql('ks')},"
                f" lambda x: {sql_string(head + '[')} || n || {sql_string(']' + tail)} || x)))"
            )
        else:
            named.append(f"list_transform({repeated_sql(k)}, lambda x: {sql_string(where)} || x)")
    if extra:
        repeats.append(f"len({extra}) > 0")
        named.append(extra)
    some = " or ".join(repeats)
    names = "list_sort(list_distinct(flatten([" + ", ".join(f"coalesce({n}, [])" for n in named) + "])))"
    return f"case when {some} then array_to_string({names}, ', ') end"


# What a bad file raises (unreadable, corrupt compression, not JSON/CSV); anything else is a bug and propagates.
FILE_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)
# What a strict line scan may raise besides: DuckDB 2.0's reader may meet a line longer than its buffer with "Not
# implemented" when more lines follow (tested); the tolerant scan then reads the others, `_short_reads` finds it.
STRICT_SCAN_ERRORS = (*FILE_ERRORS, duckdb.NotImplementedException)
# `line` in `_vevents` and the mappings: file index * LINE_SPAN + physical line (0: a document read whole),
# so the events of many files map in one statement and each keeps its file and line.
LINE_SPAN = 1 << 40

# A line that is not blank: one character that `trim` would keep (it strips the Unicode space separators, Zs,
# and nothing else, not even tabs). A regular expression finds it at the line's first character; `trim(raw) <> ''`
# copied every line (a quarter of the scan's time, most of it on CloudTrail's long S3 lines).
NOT_BLANK = r"[^\p{Zs}]"

# `bytes`: a scanned line's length as read, on its first row (what `_short_reads` adds up); NULL on its other rows
# and on salvaged ones (`_scan` counts those from the file as it salvages them).
_LINES_DDL = (
    "create or replace temp table _vlines"
    " (fidx BIGINT, line BIGINT, elem BIGINT, doc JSON, raw VARCHAR, problem VARCHAR, bytes BIGINT)"
)


def read_files(con: duckdb.DuckDBPyConnection, paths: list[Path], envelopes: tuple[str, ...]) -> dict[int, str]:
    """`_vlines` (fidx, line, elem, doc, raw, problem): the non-blank lines of every file (`fidx` its index in
    `paths`), each parsed once (`doc`; the text `raw` kept only for lines that are not JSON, for their
    reject), by one statement (one multi-file scan per thread, `_scan`); a line that is an array or an envelope
    is unwrapped as it is parsed:
    one row per event, `elem` its position (0 for a line that is one event; NULL for a value to unwrap). Returns {index: the reader's message} of the files that cannot be read.

    Lines are numbered per file (each scan reads its files in order, one after the other). A line holding
    bytes that are not UTF-8 is skipped by the reader (and named in its rejects): the numbers after it are
    corrected, and the line is read again by `salvage`, so the file's other events still load. A file whose
    first line is not JSON on its own (pretty-printed) is read whole. When the scan fails (a corrupt file),
    nothing of it was kept: the file the reader's message names is set aside and the others scanned again;
    when it names none, the files are read one by one, so the bad one fails alone."""
    con.execute(_LINES_DDL).fetchall()
    failed: dict[int, str] = {}
    todo = list(range(len(paths)))
    streamed = [i for i in todo if _streamable(paths[i])]
    if len(streamed) > 1 and _stream_scan(con, paths, streamed, envelopes):
        todo = sorted(set(todo) - set(streamed))
    while todo:
        try:
            failed |= _scan(con, paths, todo, envelopes)
            break
        except STRICT_SCAN_ERRORS as exc:
            named = _named_in(str(exc), [paths[i] for i in todo])
            if named is not None:
                failed[todo.pop(named)] = str(exc).splitlines()[0]
                continue
            for i in todo:
                try:
                    failed |= _scan(con, paths, [i], envelopes)
                except STRICT_SCAN_ERRORS as one:
                    failed[i] = str(one).splitlines()[0]
            break
    whole = [
        int(r[0])
        for r in con.execute(
            "select fidx from _vlines where problem is null group by fidx having not arg_min(doc is not null, line)"
        ).fetchall()
    ]
    for i in whole:
        if i not in failed and (why := _read_whole(con, paths[i], i, envelopes)):
            failed[i] = why
    return failed


def _named_in(message: str, paths: list[Path]) -> int | None:
    """The position in `paths` of the file a reader's message names, the longest name that occurs in it
    (`a.json` is part of `a.json.gz`). DuckDB names a corrupt file at the end of its message (`Input is
    not a GZIP stream: <path>`), not in the `in file "<path>"` form that load._file_named_in reads."""
    found = [(len(str(p)), i) for i, p in enumerate(paths) if str(p) in message or exact_path(p) in message]
    return max(found)[1] if found else None


def _groups(paths: list[Path], count: int) -> list[list[Path]]:
    """`paths` in at most `count` runs of consecutive files of about equal size (none empty)."""
    sizes = [_size_or_zero(p) for p in paths]
    share = sum(sizes) / max(1, min(count, len(paths)))
    groups: list[list[Path]] = [[]]
    done = 0
    for path, size in zip(paths, sizes, strict=True):
        if groups[-1] and done + size / 2 > share * len(groups) and len(groups) < count:
            groups.append([])
        groups[-1].append(path)
        done += size
    return groups


def _size_or_zero(path: Path) -> int:
    """A file's size for balancing the groups; a file gone or unreadable since it was listed counts 0, so the
    reader (not this sizing) meets it and it is set aside as one reject, like any file that cannot be read."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


# The longest line the reader takes (a CloudTrail delivery file is often one line): the contract's own longest
# record, or less where the memory limit requires; a longer one is skipped, named and read again in Python
# (`salvage`), so its events still load. DuckDB's reader holds a buffer of 16 such lines for each thread's scan,
# allocated whole for a gzip stream: with the 256 MiB lines of before (4 GiB a scan), no `--memory-limit 4GB`
# ingest of a CloudTrail S3 folder could run, and 75 MiB lines (a 1.2 GiB buffer) cost 1.2 CPU s more per 1M S3
# events than 16 MiB. The buffer keeps that 16-line margin: a line longer than the buffer is not named by the
# reader but dropped (DuckDB 2.0, tested).
MAX_LINE_BYTES = MAX_RECORD_BYTES
MIN_LINE_BYTES = 2 * 1000 * 1000  # DuckDB's own default
BUFFER_LINES = 16  # DuckDB's buffer, in longest lines


def memory_limit_bytes(con: duckdb.DuckDBPyConnection) -> int | None:
    """DuckDB's memory limit on this connection, in bytes; None when there is none (`-1` reads "16383.9 PiB",
    a unit `parse_formatted_bytes` does not take)."""
    found = con.execute("select try(parse_formatted_bytes(current_setting('memory_limit')))").fetchall()[0][0]
    return None if found is None else int(found)


def line_limit(con: duckdb.DuckDBPyConnection) -> int:
    """The longest line a scan takes: every thread's buffer of `BUFFER_LINES` such lines within an eighth of the
    memory limit (16 MiB from about 4 GB on 2 threads, a 256 MiB buffer each; 2 MB at 1 GB on 4)."""
    threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
    limit = memory_limit_bytes(con)
    if limit is None:
        return MAX_LINE_BYTES
    share = limit // (8 * max(1, threads) * BUFFER_LINES)
    return max(MIN_LINE_BYTES, min(MAX_LINE_BYTES, share))


def text_bytes(path: Path) -> int | None:
    """The bytes of a file's text: its size, or a gzip file's uncompressed size from its trailer (ISIZE: exact
    for one member under 4 GiB, the last member's for several); None when it cannot be told."""
    try:
        size = path.stat().st_size
        if not is_gzip(path):
            return size
        if size < GZIP_TRAILER_MIN:
            return None
        with open(path, "rb") as fh:
            fh.seek(-4, os.SEEK_END)
            return int.from_bytes(fh.read(4), "little")
    except OSError:
        return None


def _bytes_read(con: duckdb.DuckDBPyConnection, indexes: list[int]) -> dict[int, tuple[int, int]]:
    """{index: (lines, bytes)} that `_vlines` holds of the files at `indexes`, blank lines included."""
    rows = con.execute(
        """select fidx, count(distinct line), coalesce(sum(bytes), 0) from _vlines
           where list_contains($indexes, fidx) group by fidx""",
        {"indexes": indexes},
    ).fetchall()
    found = {int(i): (int(lines), int(size)) for i, lines, size in rows}
    return {i: found.get(i, (0, 0)) for i in indexes}  # a file of which nothing was read: (0, 0)


def _short_reads(paths: list[Path], read: dict[int, tuple[int, int]], max_line: int) -> dict[int, str]:
    """{index: why} of the files of which the reader dropped a line without a word. DuckDB 2.0 does not always
    name a line longer than `max_line`: it drops one longer than its buffer, and one that ends a file or a
    buffer's span, without an error (tested). So every file whose text could hold such a line is measured:
    besides its lines as read, only their ends (LF, or CR LF) and a byte-order mark may be missing."""
    out: dict[int, str] = {}
    for i, (lines, got) in read.items():
        expected = text_bytes(paths[i])
        if expected is None or expected <= max_line:
            continue
        missing = expected - got - 2 * lines - len(UTF8_BOM)
        if missing > 0:
            out[i] = (
                f"the reader skipped a line longer than {max_line:,} bytes without naming it: {missing:,} or more"
                " bytes of the file were not read, so the file is set aside (write one event per line, or give a"
                " larger --memory-limit)"
            )
    return out


def _lines_read(group: int, *, tolerant: bool, max_line: int, gzip: bool) -> str:
    """One group's scan: every line of its files (`$paths_<group>`, all `gzip` or none) with its place in the
    group's stream (`line`), lines of at most `max_line` bytes (`line_limit`). `tolerant`: the lines the reader
    cannot read (not UTF-8, longer) are skipped, named in `_vline_rejects_<group>`; else such a line fails the
    scan. The compression is said, not detected: DuckDB 2.0 does not detect it from a glob-escaped name (a file
    named `a[1].json.gz` was read as plain text and failed whole)."""
    skipping = (
        f", ignore_errors=true, store_rejects=true, rejects_table='_vline_rejects_{group}',"
        f" rejects_scan='_vline_scans_{group}'"
        if tolerant
        else ""
    )
    return f"""select filename, ordinality as line, raw
               from read_csv($paths_{group}, columns={{'raw': 'VARCHAR'}}, header=false, delim=E'\\x1f', quote='',
                             escape='', auto_detect=false, max_line_size={int(max_line)},
                             buffer_size={int(max_line) * BUFFER_LINES}, compression={"'gzip'" if gzip else "'none'"},
                             filename=true{skipping})
                    with ordinality"""


def _drop_reject_tables(con: duckdb.DuckDBPyConnection, groups: int) -> None:
    for k in range(groups):
        con.execute(f"drop table if exists _vline_rejects_{k}; drop table if exists _vline_scans_{k}").fetchall()


def _scan(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    indexes: list[int],
    envelopes: tuple[str, ...],
    *,
    recover: bool = True,
) -> dict[int, str]:
    """Append the lines of the files at `indexes` of `paths` to `_vlines`, skipped lines salvaged, and a file of
    which the reader dropped a line (`_short_reads`) read again without its long lines (`recover`); returns
    {index: why} of the files that still miss bytes, their rows removed.

    Numbering a file's lines (ORDINALITY) makes a scan sequential: the files are split into one group per
    thread, each scanned by its own reader with its own numbering, the groups in parallel (a union)."""
    chosen = [paths[i] for i in indexes]
    threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
    # Gzip and plain files in groups of their own: each group's reader is told its compression (`_lines_read`).
    kinds = ([p for p in chosen if is_gzip(p)], [p for p in chosen if not is_gzip(p)])
    groups = [group for kind in kinds if kind for group in _groups(kind, threads)]
    _drop_reject_tables(con, len(groups))
    # Read strictly first: keeping the reader's rejects costs a third of the scan on many small files (CloudTrail's
    # S3 delivery), and most files have no line to skip. A line that cannot be read fails that scan (nothing of it
    # is kept), and the files are read again, skipping and naming such lines. The scan changes no setting; the
    # reader's reject tables are dropped however it ends (a corrupt file fails the tolerant scan too).
    try:
        try:
            _insert_lines(con, groups, chosen, indexes, envelopes, tolerant=False)
            skipped: dict[int, dict[int, str]] = {}
        except STRICT_SCAN_ERRORS:
            _insert_lines(con, groups, chosen, indexes, envelopes, tolerant=True)
            skipped = _skipped_lines(con, chosen, len(groups))
    finally:
        _drop_reject_tables(con, len(groups))
    if len(chosen) > 1:
        # Each group's scan is sequential (ORDINALITY), file after file: a file's lines count from its first row. Numbered
        # here, on the narrow table: a window over the scan carried every line's text through a sort.
        con.execute(
            """update _vlines set line = _vlines.line - f.first + 1
               from (select fidx, min(line) as first from _vlines where list_contains($indexes, fidx) group by fidx) f
               where _vlines.fidx = f.fidx""",
            {"indexes": indexes},
        ).fetchall()
    read = _bytes_read(con, indexes)  # blank lines included
    con.execute("delete from _vlines where problem = ''").fetchall()
    for k, lines in skipped.items():
        i = indexes[k]
        _renumber_after(con, i, sorted(lines))
        first = con.execute(
            "select doc is not null from _vlines where fidx = $f order by line limit 1", {"f": i}
        ).fetchall()
        raw_lines = _lines_of(paths[i], set(lines))
        counted, size = read.get(i, (0, 0))
        read[i] = (counted + len(raw_lines), size + sum(map(len, raw_lines.values())))
        if not first or first[0][0]:  # a document read whole is salvaged whole instead (read_files)
            _add_salvaged(con, i, paths[i], raw_lines, envelopes, lines)
    short = _short_reads(paths, read, line_limit(con))
    if short:
        con.execute("delete from _vlines where list_contains($short, fidx)", {"short": list(short)}).fetchall()
    if not recover:
        return short
    return {i: why for i in short if (why := _read_without_long_lines(con, paths, i, envelopes, short[i]))}


def _read_without_long_lines(
    con: duckdb.DuckDBPyConnection, paths: list[Path], i: int, envelopes: tuple[str, ...], why: str
) -> str | None:
    """Read again a file of which the reader dropped a line (`_short_reads`): a copy of its text with every line
    longer than the line limit left blank (so every other line keeps its number) is scanned as usual, and the long
    lines are salvaged from the file itself. Returns `why` when that still misses bytes (nothing of it is kept)."""
    max_line = line_limit(con)
    with tempfile.TemporaryDirectory(prefix="capantra-vendor-") as tmp:
        copy = Path(tmp) / "lines.jsonl"
        try:
            long_lines = _copy_blanking_long_lines(paths[i], copy, max_line)
        except (OSError, EOFError, zlib.error):
            return why
        alone = [*paths]
        alone[i] = copy
        if _scan(con, alone, [i], envelopes, recover=False):
            con.execute("delete from _vlines where fidx = $f", {"f": i}).fetchall()
            return why
    reasons = {
        n: f"Maximum line size of {max_line} bytes exceeded. Actual Size:{len(raw)} bytes."
        for n, raw in long_lines.items()
    }
    _add_salvaged(con, i, paths[i], dict(long_lines), envelopes, reasons)
    return None


def _copy_blanking_long_lines(path: Path, copy: Path, max_line: int) -> dict[int, bytes]:
    """Write the text of `path` (gzip inflated) to `copy` with each line longer than `max_line` bytes left empty;
    returns those lines by physical number (lines end in LF, a CR before it is kept, as the reader counts them)."""
    long_lines: dict[int, bytes] = {}
    with open_text_bytes(path) as src, open(copy, "wb") as out:
        for n, raw in enumerate(src, start=1):
            text = raw.rstrip(b"\r\n")
            if len(text) > max_line:
                long_lines[n] = text
                out.write(b"\n")
            else:
                out.write(raw)
    return long_lines


GZIP_MAGIC = b"\x1f\x8b"
GZIP_TRAILER_MIN = 18  # a gzip member's header (10 bytes) and trailer (CRC-32 and ISIZE, 8)
UTF8_BOM = b"\xef\xbb\xbf"
HEAD_BYTES = 4096  # compressed bytes of a file's start that `_streamable` reads
HEAD_TEXT = 16384  # at most this much text of them is inflated


def _streamable(path: Path) -> bool:
    """Whether a gzip file reads the same inside one stream of many (`_stream_scan`) as alone: named `.gz`
    (how the reader knows it is compressed), a gzip member first, and its text starting with neither a
    byte-order mark (the reader drops one only at a file's start) nor a line ending in CR (in a stream
    whose markers end in LF, the reader rejects CRLF; the file would only cost a wasted read). Anything else,
    or a file that cannot be opened, is read alone, as before."""
    if not path.name.endswith(".gz"):
        return False
    try:
        with open(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
        text = zlib.decompressobj(wbits=31).decompress(head, HEAD_TEXT) if head.startswith(GZIP_MAGIC) else b""
    except (OSError, zlib.error):
        return False
    return len(text) >= len(UTF8_BOM) and not text.startswith(UTF8_BOM) and b"\r" not in text


def _stream_scan(
    con: duckdb.DuckDBPyConnection, paths: list[Path], indexes: list[int], envelopes: tuple[str, ...]
) -> bool:
    """Read the gzip files at `indexes` of `paths` (all `_streamable`) as one stream per thread, not file by
    file: the reader costs a fixed amount per file (about 1 ms of CPU: 2.5 times the reading of CloudTrail's
    S3 delivery files of 500 events, measured on 500 of them). Each group's files are concatenated (gzip members may follow one another) into a temporary file,
    each after a member holding a marker line (a newline ending the previous file's last line, then a nonce
    no file can hold and the file's index), so every line keeps its file and its physical line. Only the
    compressed bytes are copied, to disk; the reader streams them as it does the files themselves.

    False (nothing added to `_vlines`) when the stream cannot be read or copied: the files are then read one
    by one (`_scan`), which names the file that fails and skips the lines that cannot be read."""
    threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
    groups = _groups([paths[i] for i in indexes], threads)
    prefix = "\x1e" + secrets.token_hex(16) + ":"
    try:  # no room for the temporary files, or a file gone since it was listed: read them one by one
        with tempfile.TemporaryDirectory(prefix="capantra-vendor-") as tmp:
            streams = [Path(tmp) / f"stream-{g}.jsonl.gz" for g in range(len(groups))]
            _concatenate(groups, streams, iter(indexes), prefix)
            _insert_lines(
                con, [[s] for s in streams], streams, [-g - 1 for g in range(len(streams))], envelopes, tolerant=False
            )
    except (OSError, *STRICT_SCAN_ERRORS):
        return False
    params = {"prefix": prefix, "after": len(prefix) + 1}
    marker = "fidx < 0 and doc is null and starts_with(raw, $prefix)"
    con.execute(
        f"""create or replace temp table _vmarks as
            select fidx as grp, line as start, cast(substr(raw, $after) as bigint) as k from _vlines where {marker}""",
        params,
    ).fetchall()
    if con.execute("select count(*) from _vmarks").fetchall()[0][0] != len(indexes):  # never expected: read alone
        con.execute("delete from _vlines where fidx < 0; drop table _vmarks").fetchall()
        return False
    # A line belongs to the file of the last marker before it; what precedes the first marker is a blank line.
    con.execute(f"delete from _vlines where {marker}", {"prefix": prefix}).fetchall()
    con.execute(
        """update _vlines set fidx = x.k, line = _vlines.line - x.start
           from (select v.rowid as rid, m.k, m.start
                 from _vlines v asof join _vmarks m on v.fidx = m.grp and v.line > m.start where v.fidx < 0) x
           where _vlines.rowid = x.rid"""
    ).fetchall()
    if _short_reads(paths, _bytes_read(con, indexes), line_limit(con)):  # read alone, to name it
        con.execute(
            "delete from _vlines where fidx < 0 or list_contains($indexes, fidx)", {"indexes": indexes}
        ).fetchall()
        con.execute("drop table _vmarks").fetchall()
        return False
    con.execute("delete from _vlines where fidx < 0 or problem = ''; drop table _vmarks").fetchall()
    return True


def _concatenate(groups: list[list[Path]], streams: list[Path], indexes: Iterator[int], prefix: str) -> None:
    """Write each group of gzip files into its stream, each file after a gzip member holding its marker line."""
    for group, stream in zip(groups, streams, strict=True):
        with open(stream, "wb") as out:
            for path in group:
                out.write(gzip.compress(f"\n{prefix}{next(indexes)}\n".encode()))
                with open(path, "rb") as fh:
                    shutil.copyfileobj(fh, out)


@contextmanager
def _insertion_order_off(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """`preserve_insertion_order` off for one insert, restored however it ends. Each line carries its file and
    number, so no step reads `_vlines` in the order its rows went in; kept, the order makes the insert of every
    group's scan one sequential pipeline: measured at 1M CloudTrail events on 2 threads, the S3 delivery's
    2,000 files read in 2.85 s instead of 4.6 s, JSON Lines in 0.66 s instead of 1.41 s, the same CPU seconds
    and the same rows."""
    kept = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("set preserve_insertion_order = false").fetchall()
    try:
        yield
    finally:
        if kept:
            con.execute("set preserve_insertion_order = true").fetchall()


def _insert_lines(
    con: duckdb.DuckDBPyConnection,
    groups: list[list[Path]],
    chosen: list[Path],
    indexes: list[int],
    envelopes: tuple[str, ...],
    *,
    tolerant: bool,
) -> None:
    """Append to `_vlines` the lines of the files `chosen` (at `indexes`), read by `groups` (`_lines_read`)."""
    max_line = line_limit(con)
    lines = " union all ".join(
        f"({_lines_read(k, tolerant=tolerant, max_line=max_line, gzip=is_gzip(group[0]))})"
        for k, group in enumerate(groups)
    )
    # Blank lines are kept (`problem` ''), then dropped once each file's lines are numbered from its first row.
    # A line that wraps events is parsed once, for them (`try`: not JSON gives NULL); any other line is one
    # event (`elem` 0), parsed once too (`one`). An empty array or envelope stays one value (`elem` NULL),
    # unwrapped (to nothing) with the documents read whole. The line's text is kept only where it is not JSON
    # or wraps a null (its reject shows it), before the unnest: carried through it to each of a delivery file's
    # events, it cost 0.5-1.5 CPU s per 1M CloudTrail S3 events.
    env, events = _wrapped_events(envelopes, "raw", checked=False)
    with _insertion_order_off(con):
        con.execute(
            f"""insert into _vlines
               select fidx, line, elem, doc, raw, case when blank then '' end,
                      case when coalesce(elem, 0) <= 1 then bytes end
               from (select fidx, line, blank, raw, bytes,
                            unnest(case when evs is null then [0::bigint] when len(evs) = 0 then [null::bigint]
                                        else generate_series(1, len(evs)) end) as elem,
                            unnest(case when len(evs) > 0 then evs else [one] end) as doc
               from (select fidx, line, blank, evs, one, coalesce(strlen(raw), 0) as bytes,
                            case when (one is null and evs is null and not blank)
                                      or list_aggregate(evs, 'count') < len(evs) then raw end as raw
               from (select *, case when not blank and coalesce(len(evs), 0) = 0 then try_cast(raw as json) end as one
               from (select *, case when not blank then {events} end as evs
               from (select *{env}
                     from (select $indexes[list_position($names, filename)] as fidx, line, raw,
                                  raw is null or not regexp_matches(raw, {sql_string(NOT_BLANK)}) as blank
                           from ({lines})))))))""",
            {
                **{f"paths_{k}": [exact_path(p) for p in group] for k, group in enumerate(groups)},
                "names": [str(p) for p in chosen],
                "indexes": indexes,
            },
        ).fetchall()


def _read_whole(con: duckdb.DuckDBPyConnection, path: Path, fidx: int, envelopes: tuple[str, ...]) -> str | None:
    """Replace a file's lines by its whole document (pretty-printed JSON: values span lines); the reader's
    message when the file cannot be read at all."""
    con.execute("delete from _vlines where fidx = $f", {"f": fidx}).fetchall()
    try:
        con.execute(
            """insert into _vlines
               select $f, null::bigint, null::bigint, json, null::varchar, null::varchar, null::bigint
               from read_json_objects($path, format='unstructured', maximum_object_size=268435456)""",
            {"path": exact_path(path), "f": fidx},
        ).fetchall()
    except duckdb.InvalidInputException:  # not UTF-8 somewhere in the document: read it in Python
        con.execute("delete from _vlines where fidx = $f", {"f": fidx}).fetchall()
        _add_salvaged(con, fidx, path, {None: _whole_file(path)}, envelopes)
    except FILE_ERRORS as exc:
        return str(exc).splitlines()[0]
    return None


def _skipped_lines(con: duckdb.DuckDBPyConnection, paths: list[Path], groups: int) -> dict[int, dict[int, str]]:
    """Per file index (in `paths`): physical lines the reader skipped (not UTF-8, or beyond its line
    size), with the reader's reason, from the reject tables of the `groups` scans."""
    rejects = " union all ".join(
        f"""select s.file_path, r.line, r.error_type, r.error_message
            from _vline_rejects_{k} r join _vline_scans_{k} s using (scan_id, file_id)"""
        for k in range(groups)
    )
    found = con.execute(
        f"""select list_position($names, file_path) - 1, line, any_value(error_type::varchar), any_value(error_message)
            from ({rejects}) group by all""",
        {"names": [str(p) for p in paths]},
    ).fetchall()
    out: dict[int, dict[int, str]] = {}
    for i, line, kind, message in found:
        out.setdefault(int(i), {})[int(line)] = "not UTF-8" if "ENCODING" in kind else message
    return out


def _renumber_after(con: duckdb.DuckDBPyConnection, fidx: int, skipped: list[int]) -> None:
    """The k-th line read is physical line k + (skipped lines r_i, i = 1, 2, ..., with r_i - i < k)."""
    con.execute(
        """update _vlines set line = line + (select count(*) from unnest($gaps) g(gap) where g.gap < _vlines.line)
           where fidx = $f""",
        {"gaps": [r - i for i, r in enumerate(skipped, start=1)], "f": fidx},
    ).fetchall()


def _lines_of(path: Path, wanted: set[int]) -> dict[int | None, bytes]:
    """The raw bytes of the wanted physical lines of a (possibly gzip-compressed) text file."""

    out: dict[int | None, bytes] = {}
    with open_text_bytes(path) as fh:
        for n, raw in enumerate(fh, start=1):
            if n in wanted:
                out[n] = raw.rstrip(b"\r\n")
    return out


def _whole_file(path: Path) -> bytes:
    with open_text_bytes(path) as fh:
        return fh.read()


def _add_salvaged(
    con: duckdb.DuckDBPyConnection,
    fidx: int,
    path: Path,
    lines: dict[int | None, bytes],
    envelopes: tuple[str, ...],
    why: Mapping[int, str] | None = None,
) -> None:
    """Put what `salvage` keeps of each unreadable line into `_vlines`: its intact events, and its rejects
    (`why`: the reader's reason per line, for a line that is not one of bad bytes but too long)."""
    from compliance.ingest.readers import MAX_RAW_CHARS, NOT_UTF8
    from compliance.ingest.vendors.salvage import salvage

    for line, raw in lines.items():
        reason = (why or {}).get(line) if line is not None else None
        kept = salvage(raw, envelopes, MAX_RAW_CHARS, NOT_UTF8 if reason in (None, "not UTF-8") else reason)
        if kept.doc is not None:
            con.execute(
                "insert into _vlines values ($f, $line, null, $doc::json, null, null, null)",
                {"f": fidx, "line": line, "doc": kept.doc},
            ).fetchall()
        for reason, text in kept.rejects:
            con.execute(
                "insert into _vlines values ($f, $line, null, null, $raw, $reason, null)",
                {"f": fidx, "line": line, "raw": text, "reason": reason},
            ).fetchall()


def may_name(keys: tuple[str, ...], column: str) -> str:
    """SQL true for every JSON text in `column` holding one of `keys` as a key, and for a few more: the key's
    text, or any escape (`\\u0052ecords` is `Records`). A text it is false for cannot hold the keys and is not
    parsed for them. DuckDB's `contains` finds a word starting with a rare character at a quarter of the cost
    of a parse (a regular expression with alternatives costs three parses, a needle starting with `"` one)."""
    return " or ".join([f"contains({column}, '\\')", *(f"contains({column}, {sql_string(k)})" for k in keys)])


ARRAY_START = r"^\s*\["  # a JSON text that is an array (valid JSON: `[` is its first non-blank character)
ROW_GROUP_ROWS = 122_880  # DuckDB's row group: the unit a scan is split into between threads


def _wrapped_events(envelopes: tuple[str, ...], column: str, *, checked: bool) -> tuple[str, str]:
    """(`, ... as env` to add to a select list, SQL of the events over it): the events (JSON[]) a JSON text in
    `column` wraps, the elements of an array or of the first envelope key that holds one, else NULL. One
    parse: `json_transform` to a list of JSON is NULL where the key holds no array, which also says whether
    the text is an envelope, and only a text that may name a key is parsed for it. `checked`: the text is
    known to be JSON; else a text that is not gives NULL too (`try`)."""

    def parse(sql: str) -> str:
        return sql if checked else f"try({sql})"

    array = parse(f"json_transform({column}, '[\"JSON\"]')")
    if not envelopes:
        return "", f"case when regexp_matches({column}, {sql_string(ARRAY_START)}) then {array} end"
    spec = sql_string(json.dumps({k: "JSON[]" for k in envelopes}))
    env = f", case when {may_name(envelopes, column)} then {parse(f'json_transform({column}, {spec})')} end as env"
    fields = ", ".join('env."' + k.replace('"', '""') + '"' for k in envelopes)
    return (
        env,
        f"case when regexp_matches({column}, {sql_string(ARRAY_START)}) then {array} else coalesce({fields}) end",
    )


def _explode(con: duckdb.DuckDBPyConnection, adapter: Adapter) -> None:
    """`_vevents` (a view): one JSON value per event, arrays and envelopes (the first key that holds an
    array) unwrapped: the rows `_scan` read (`elem` set: 0 for a line that is one event) are events; a
    document read whole or salvaged, an empty array, or a stored event mapped again, is unwrapped here.

    Few such documents (a pretty-printed CloudTrail delivery file of hundreds of events each) are unwrapped
    into a table: DuckDB splits a scan by row groups of 122,880 rows, so a view over them would map every
    event on one thread."""
    con.execute("drop table if exists _vunwrapped").fetchall()
    events = f"select fidx * {LINE_SPAN} + coalesce(line, 0) as line, coalesce(elem, 0) as elem, doc as ev from _vlines"
    # Most files hold one event per line: when no document may be an array or an envelope, the rows are the events.
    wrapping = f"regexp_matches(doc, {sql_string(ARRAY_START)})"
    wrapping += f" or {may_name(adapter.envelopes, 'doc')}" if adapter.envelopes else ""
    few, wrapped = con.execute(
        f"""select count(*) < $rows, count(*) filter (where {wrapping})
            from _vlines where doc is not null and elem is null""",
        {"rows": ROW_GROUP_ROWS},
    ).fetchall()[0]
    if not wrapped:
        con.execute(f"create or replace temp view _vevents as {events} where doc is not null").fetchall()
        return
    env, listed = _wrapped_events(adapter.envelopes, "doc", checked=True)
    con.execute(
        f"""create or replace temp {"table _vunwrapped" if few else "view _vevents"} as
            with parsed as (
                select fidx * {LINE_SPAN} + coalesce(line, 0) as line, doc {env}
                from _vlines where doc is not null and elem is null
            ),
            listed as (select line, doc, {listed} as evs from parsed)
            select line, unnest(case when evs is null then [0] else generate_series(1, len(evs)) end) as elem,
                   unnest(coalesce(evs, [doc])) as ev
            from listed
            union all {events} where elem is not null"""
    ).fetchall()
    if few:
        con.execute("create or replace temp view _vevents as select * from _vunwrapped").fetchall()


MAX_NAMES = 4  # names of one principal tried against identities/ and the directory, in preference order


def _names_lookup(con: duckdb.DuckDBPyConnection) -> None:
    """`_vnames`: every name that designates a directory actor, case-insensitive: an identities/ row (rank 0)
    wins over a directory actor id spelled the same (rank 1)."""
    con.execute(
        """create or replace temp table _vnames as
           select name, arg_min(actor_id, rank) as actor_id, min(rank) as rank
           from (select identity as name, actor_id, 0 as rank from _videntities
                 union all select lower(actor_id), actor_id, 1 from directory_accounts)
           group by name"""
    ).fetchall()


def _resolution(alias: str, list_col: str) -> tuple[str, str]:
    """(expression, joins): the directory actor a list of names designates, identities first, then
    the names' order; NULL when no name is known."""
    joins = "".join(
        f" left join _vnames {alias}{i} on {alias}{i}.name = lower(m.{list_col}[{i}])" for i in range(1, MAX_NAMES + 1)
    )
    ranked = [f"case when {alias}{i}.rank = 0 then {alias}{i}.actor_id end" for i in range(1, MAX_NAMES + 1)]
    ranked += [f"{alias}{i}.actor_id" for i in range(1, MAX_NAMES + 1)]
    return "coalesce(" + ", ".join(ranked) + ")", joins


def stage_select(con: duckdb.DuckDBPyConnection, adapter: Adapter) -> tuple[str, dict[str, object]]:
    """(SELECT, its parameters) of the stage over `_vmapped`: `_file_index`, `_at` (the mapped row's `line`:
    file index * LINE_SPAN + physical line), `_reason`, `_dup`, `_phys_line`, every audit column as text."""
    folder = adapter.folder.replace("'", "''")
    # A CASE over the few patterns, bound: a correlated subquery over `_vroles` made DuckDB materialize every
    # mapped event for its join.
    roles = con.execute("select pattern, role from _vroles order by length(pattern) desc, pattern").fetchall()
    matrix_role = (
        "case "
        + " ".join(f"when lower(m.role) glob $role_pattern_{i} then $role_{i}" for i in range(len(roles)))
        + " end"
        if roles
        else "null::varchar"
    )
    actor, actor_joins = _resolution("a", "principals")
    target, target_joins = _resolution("t", "target_principals")
    columns = {
        # The vendor's id where it has one, made unique across vendors, plus a digest of the event itself:
        # re-delivered events de-duplicate, while two different events under one id both load.
        "event_id": f"'{folder}:' || coalesce(m.vendor_id || ':', '') || substr(md5(cast(m.raw as varchar)), 1, 16)",
        "occurred_at": "m.occurred_at",
        "actor_id": f"coalesce({actor}, m.principals[1])",
        "actor_type": "coalesce(m.actor_type_hint, d.actor_type, 'employee')",
        "system": "coalesce(r.system_id, m.system)",
        "action": "m.action",
        "outcome": "m.outcome",
        "resource_type": "case when r.pattern is not null then coalesce(r.resource_type, m.resource_type)"
        " else m.resource_type end",
        "resource_id": "m.resource_id",
        "data_categories": "case when r.pattern is not null and r.resource_type is null then r.categories end",
        "subject_id": "null::varchar",
        "record_count": "null::varchar",
        "purpose": "null::varchar",
        "tenant_id": "null::varchar",
        "source_ip": "m.source_ip",
        "geo_country": "coalesce(upper(m.geo_country), cn.alpha2)",
        "geo_lat": "m.geo_lat",
        "geo_lon": "m.geo_lon",
        "processing_region": "m.processing_region",
        "recipient": "m.recipient",
        "target_actor_id": f"coalesce({target}, m.target_principals[1])",
        # The matrix role a vendor's role name is (roles.yaml vendor_roles, most specific pattern first).
        "role": f"coalesce({matrix_role}, m.role)",
        "user_agent": "m.user_agent",
        "details": "m.raw",
    }
    assert tuple(columns) == AUDIT.column_names
    # The data map's patterns for this vendor, most specific (longest) first, bound as parameters.
    patterns = [
        r[0]
        for r in con.execute(
            "select pattern from ref_vendor_resources where source = $f order by length(pattern) desc, pattern",
            {"f": adapter.folder},
        ).fetchall()
    ]
    params: dict[str, object] = {f"pattern_{i}": p for i, p in enumerate(patterns)}
    params["folder"] = adapter.folder
    for i, (pattern, role) in enumerate(roles):
        params[f"role_pattern_{i}"], params[f"role_{i}"] = pattern, role
    store_of = (
        "case " + " ".join(f"when m.resource_name glob $pattern_{i} then {i}" for i in range(len(patterns))) + " end"
        if patterns
        else "null::integer"
    )
    kept = {c.name for c in AUDIT.columns if c.type in ("VARCHAR[]", "JSON")}  # the reader's types, as for audit/
    select = ", ".join(
        f'{expr} as "{name}"' if name in kept else f'cast({expr} as varchar) as "{name}"'
        for name, expr in columns.items()
    )
    sql = f"""with mapped as (select *, {store_of} as _store from _vmapped m),
            patterns as (
                select row_number() over (order by length(pattern) desc, pattern) - 1 as idx, *
                from _vresources where source = $folder
            )
            select m.line // {LINE_SPAN} as _file_index, m.line as _at,
                   m.reject_reason as _reason, m.dup_keys as _dup,
                   nullif(m.line % {LINE_SPAN}, 0) as _phys_line, {select}
            from mapped m
            {actor_joins}
            {target_joins}
            left join directory_accounts d on d.actor_id = coalesce({actor}, m.principals[1])
            left join patterns r on r.idx = m._store
            left join _vcountry_names cn on cn.name = lower(m.geo_country_name)"""
    return sql, params


def materialize_stage(con: duckdb.DuckDBPyConnection, stage: tuple[str, dict[str, object]]) -> None:
    """The table `_stage` of a stage SELECT, each row numbered (`_line`) so its checks can be joined back."""
    sql, params = stage
    con.execute(
        f"create or replace temp table _stage as select row_number() over () as _line, * from ({sql})", params
    ).fetchall()


def map_files(
    con: duckdb.DuckDBPyConnection, adapter: Adapter, paths: list[Path]
) -> tuple[dict[int, str], tuple[str, dict[str, object]]]:
    """Read vendor files into `_vlines` and map them: ({index in `paths`: why} of the files that cannot be
    read, the stage SELECT of every event, with `_reason` set where it cannot be mapped)."""
    failed = read_files(con, paths, adapter.envelopes)
    return failed, remap_file(con, adapter)


def keep_lines(con: duckdb.DuckDBPyConnection, adapter: Adapter, lines: str, params: dict[str, object]) -> None:
    """Keep in `_vlines` only the lines the query `lines` returns (`fidx`, `line`: the physical line, 0 for a
    document read whole), their events unwrapped again (`_vevents`): the rare path maps again only the lines
    holding events that cannot load."""
    con.execute(
        f"""delete from _vlines where not exists (
                select 1 from ({lines}) k where k.fidx = _vlines.fidx and k.line = coalesce(_vlines.line, 0))""",
        params,
    ).fetchall()
    _explode(con, adapter)


def remap_file(con: duckdb.DuckDBPyConnection, adapter: Adapter) -> tuple[str, dict[str, object]]:
    """Map the events of `_vlines`: the stage SELECT (`stage_select`)."""
    _explode(con, adapter)
    _names_lookup(con)
    # An event with a key given twice is judged by the contract's `_dup` (validate.reject_select), not by
    # the mapping's reason: what the mapping read of it may be the wrong one of two values.
    con.execute(
        f"""create or replace temp view _vmapped as
            with mapped as ({adapter.mapping_sql}),
            keyed as (select *, {plain_keys_sql(adapter.unique_keys)} as _keys from mapped),
            judged as (
                select * exclude (_keys, given_twice),
                       {duplicate_keys_sql(adapter.unique_keys, extra="given_twice")} as dup_keys
                from keyed
            )
            select * replace (
                case when not starts_with(ltrim(cast(raw as varchar)), '{{') then '{JSON_OBJECT_REASON}'
                     when dup_keys is null then reject_reason end as reject_reason)
            from judged"""
    ).fetchall()
    return stage_select(con, adapter)
