"""`compliance ingest`: export folders in, a published DuckDB audit database out.

How a load stays trustworthy:
- Files are keyed by SHA-256 in `load_manifest`: a file seen before, under any name, is skipped.
- Bad rows go to `rejects` with file, line, field, reason and the raw text; the load goes on.
- Overlapping exports are de-duplicated on the contract's keys; the newest export wins.
- The load works on a private copy of the database and publishes it with one atomic rename, so
  readers (dashboard, notebooks) see the old database or the new one, never a half-loaded one.
- Every export is untrusted: files are listed by `readers.list_source_files` (exact paths, sub-folders,
  no link out of the bundle, every unread file named) and read with their paths bound, never
  formatted into SQL. A file that cannot be read at all is named in the summary and in `rejects`,
  and the other files still load. One ingest at a time holds a database's lock; copies left by a
  killed load are removed by the next one.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from compliance.ingest import enrich
from compliance.ingest.readers import (
    MAX_RAW_CHARS,
    NOT_UTF8,
    UNCLOSED_QUOTE,
    CsvLayout,
    CsvUnit,
    FileReadError,
    LineEnds,
    Stage,
    UnreadFile,
    blank_line_copy,
    check_file_start,
    csv_layout,
    csv_structural_rejects,
    csv_units,
    exact,
    file_kind,
    is_gzip,
    jsonl_excerpt,
    list_export_folder,
    parquet_layout,
    physical_lines,
    raw_lines_python,
    raw_lines_sql,
    shown_text,
    stage,
    suspect_text_sql,
)
from compliance.ingest.tables import create_tables
from compliance.ingest.validate import reject_select, typed_select, window_params
from compliance.ingest.vendors.loader import EXTRA_FOLDER_KINDS, load_vendor_exports
from compliance.schema import AUDIT, DIAGNOSTIC, INVENTORY, SOURCES, SOURCES_BY_FOLDER, USAGE, Source

if TYPE_CHECKING:
    from compliance.config.bundle import Policy
    from compliance.stored_findings import LoadChanges

EVENT_SOURCES = (AUDIT, USAGE, DIAGNOSTIC, INVENTORY)  # tables that carry enrichment
REFERENCE_FOLDERS = {"directory", "tenants", "subjects", "dsr", "identities"}  # what enrichment is computed from

Progress = Callable[[str, Path | None, int, int], None]  # (source, file, index, total)


class IngestError(RuntimeError):
    """The load cannot go on (an export folder is missing, the disk is full, another load holds the
    database); nothing was published."""


EARLIEST_PLAUSIBLE = datetime(1990, 1, 1)
FUTURE_SLACK = timedelta(days=1)  # clocks of exporting systems run a little ahead; a year 9999 does not


@dataclass(frozen=True)
class TimeWindow:
    """Timestamps outside [earliest, latest] are rejects. Default: 1990 to one day after the load started."""

    earliest: datetime = EARLIEST_PLAUSIBLE
    latest: datetime | None = None

    def bounds(self, started: datetime) -> tuple[datetime, datetime]:
        return self.earliest, self.latest or (started + FUTURE_SLACK)


@dataclass
class FileResult:
    source: str
    path: Path
    file_id: str
    status: str  # loaded | skipped | failed (cannot be read at all: `note` says why)
    note: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    load_seq: int = 0
    structural: int = 0  # CSV lines the reader could not split into fields
    broken_lines: int = 0  # JSON Lines: lines that cannot be a JSON object (readers.LineEnds): read carefully
    # JSON Lines loaded by the fast read: no line is unparseable, gives a field twice or hides an object in
    # text (each would have sent the file to a careful read), so a fast numbered re-read explains its rejects.
    fast_read: bool = False
    blank_lines: int = 0  # CSV lines holding nothing (or only spaces and tabs): skipped, no data, counted
    # CSV: (provisional line, first line, last line) of the records not on line `record number + 1`
    # (after an empty line or a value with line breaks); None when every record is on its own line.
    line_map: pl.DataFrame | None = None
    layout: CsvLayout | None = None  # CSV header / Parquet schema, read before the file is staged
    read_path: Path | None = None  # a repaired copy read instead of `path` (CSV quote never closed)
    unclosed: list[tuple[int, str, str]] = field(default_factory=list)  # (line, reason, raw) repaired away
    newest_event_at: datetime | None = None


@dataclass
class IngestSummary:
    db_path: Path
    run_id: int | None
    published: bool
    files: list[FileResult] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    unread: list[UnreadFile] = field(default_factory=list)  # files not read (unknown kind, link out, ...)
    seconds: float = 0.0
    findings_as_of: date | None = None  # the as-of date of the stored findings (None: not stored)
    findings_seconds: float = 0.0
    findings_cpu_seconds: float = 0.0  # CPU time of this process (every thread) while the findings were stored
    findings_modes: dict[str, str] = field(default_factory=dict)  # control -> reused | window | full
    working_copy: WorkingCopy | None = None  # None: no database yet (a first load writes a new one)

    def by_source(self) -> list[dict[str, object]]:
        """One row per source: files loaded/skipped and rows read/loaded/duplicate/rejected."""
        rows = []
        # Vendor folders and identities (contract 1.10) are listed only when an export holds them.
        extra = dict.fromkeys(f.source for f in self.files if f.source not in {s.folder for s in SOURCES})
        for folder in (*(s.folder for s in SOURCES), *extra):
            fs = [f for f in self.files if f.source == folder]
            rows.append(
                {
                    "source": folder,
                    "files_loaded": sum(f.status == "loaded" for f in fs),
                    "files_skipped": sum(f.status == "skipped" for f in fs),
                    "files_failed": sum(f.status == "failed" for f in fs),
                    "rows_read": sum(f.rows_read for f in fs),
                    "rows_loaded": sum(f.rows_loaded for f in fs),
                    "rows_duplicate": sum(f.rows_duplicate for f in fs),
                    "rows_rejected": sum(f.rows_rejected for f in fs),
                    "present": bool(fs) or folder not in self.missing_sources,
                }
            )
        return rows

    @property
    def failed(self) -> list[FileResult]:
        """Files that could not be read at all (named, with the reason; the rest of the load went on)."""
        return [f for f in self.files if f.status == "failed"]


# Read in chunks of 1 MB: each chunk is hashed and scanned for line ends while it is still in the CPU's cache.
# With 4 MB chunks the scan ran from memory: at 10M events (5.6 GB of JSON Lines) hashing and scanning took
# 12.1 CPU s, the hash alone 5.8 (40 files: 1.08 against 0.66 CPU s for the two, 0.54 and 0.42 for the hash).
HASH_CHUNK_BYTES = 1 << 20


def sha256_file(path: Path, line_ends: LineEnds | None = None) -> tuple[str, bytes]:
    """The file's SHA-256 and its first bytes; `line_ends`, if given, sees every chunk too.

    Read into one buffer, reused: a fresh 1 MB object per chunk costs its page faults (10M events, 5.3 GB
    hashed: about a tenth of the hashing's CPU)."""
    h = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK_BYTES)
    view = memoryview(buffer)
    head = b""
    with path.open("rb", buffering=0) as fh:
        while size := fh.readinto(buffer):
            chunk = view[:size]
            if len(head) < 8:  # (an unbuffered read may return fewer bytes than asked)
                head += bytes(chunk[: 8 - len(head)])
            h.update(chunk)
            if line_ends is not None:
                line_ends.feed(chunk)
    return h.hexdigest(), head


def _file_id(path: Path, line_ends: LineEnds | None = None) -> str | FileReadError:
    """The file's SHA-256 (its id in the load manifest), or why it cannot be read (with the SHA-256
    when there is one, so the reject of a refused file still identifies its exact bytes)."""
    try:
        digest, head = sha256_file(path, line_ends)
    except OSError as exc:
        return FileReadError(path, exc.strerror or str(exc))
    try:
        check_file_start(path, head)  # bytes that contradict the file's name: refused before any reader
    except FileReadError as exc:
        exc.file_id = digest
        return exc
    return digest


def _file_id_and_broken_lines(path: Path) -> tuple[str | FileReadError, int]:
    """`_file_id`, and for an uncompressed JSON Lines file how many of its lines cannot be a JSON object
    (`LineEnds`), counted from the bytes read for the hash."""
    if file_kind(path) != "jsonl" or is_gzip(path):
        return _file_id(path), 0
    ends = LineEnds()
    file_id = _file_id(path, ends)
    return file_id, ends.close() if isinstance(file_id, str) else 0


def discover(exports: Sequence[Path]) -> tuple[dict[str, list[Path]], list[str], list[UnreadFile]]:
    """Files per folder (contract sources, then vendor logs and identities of contract 1.10), oldest export
    first then by path; contract sources absent from every export; every file or folder of the exports
    that will not be read, with the reason."""
    kinds = {s.folder: s.formats for s in SOURCES} | EXTRA_FOLDER_KINDS
    files: dict[str, list[Path]] = {folder: [] for folder in kinds}
    unread: list[UnreadFile] = []
    for export in exports:
        if not export.is_dir():
            raise IngestError(f"{export}: export folder does not exist")
        for entry in sorted(export.iterdir(), key=lambda p: p.name):
            if entry.name.startswith("."):
                unread.append(UnreadFile(entry, "hidden file or folder"))
            elif entry.name not in kinds:
                what = "folder" if entry.is_dir() else "file"
                unread.append(UnreadFile(entry, f"{what} outside the contract's source folders"))
        for folder, formats in kinds.items():
            found, skipped = list_export_folder(export, folder, formats)
            files[folder].extend(found)
            unread.extend(skipped)
    missing = [s.folder for s in SOURCES if not files[s.folder]]
    return files, missing, unread


def is_disk_full(exc: BaseException) -> bool:
    """True when an error means the disk (or quota) is full: a disk problem, never a bad input file."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def _time_column(source: Source) -> str:
    """The column that dates a row (for the manifest's newest_event_at); NULL for undated sources."""
    dated = [c.name for c in source.columns if c.type == "TIMESTAMP"]
    required = [c.name for c in source.columns if c.type == "TIMESTAMP" and c.required]
    return f'"{(required or dated)[0]}"' if dated else "null::timestamp"


def _with_reject_marks(file_ids: list[str]) -> list[str]:
    """The files' ids and the ids their invalid rows are held under (`<id>#rejected`), as one list: a row is
    found by one `in (select unnest(...))`, which DuckDB runs as a semi-join that skips the rest of the table.
    Two such conditions joined by `or` read every stored row instead (100M events: 0.7-1.0 s a daily load,
    against 5 ms)."""
    return [*file_ids, *(f"{i}#rejected" for i in file_ids)]


def _key_columns(source: Source) -> tuple[str, ...]:
    """The columns rows are de-duplicated on: the contract key, or for diagnostic lines the id derived from it,
    after the line's time. The id hashes the time too, so the pair keys the same lines as the id alone, but the
    time comes first: a day's load looks for duplicates among the stored lines of the new lines' time range only
    (`_new_key_range`), where a random id spans every row group."""
    return ("occurred_at", "line_id") if source is DIAGNOSTIC else source.key


def _key_expr(source: Source, alias: str = "") -> str:
    """The key's columns, as `hash(...)` and `partition by ...` take them: the columns themselves, never joined
    into one string, where two different keys could read the same (a value holding the separator)."""
    a = f"{alias}." if alias else ""
    return ", ".join(f'{a}"{k}"' for k in _key_columns(source))


FileStat = tuple[int, int, int, int, int]  # device, inode, size, mtime_ns, ctime_ns
HASH_SETTLE_SECONDS = 2  # a file's hash is remembered only when it was last changed this long before the load


def _file_stat(path: Path) -> FileStat | None:
    try:
        st = path.stat()
    except OSError:
        return None  # _file_id names the problem
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _HashedFiles:
    """The SHA-256 of every file an earlier load hashed, by its stat (`load_file_hashes`), so a load of an
    export that grows by a day hashes the new files only. Any write to a file changes its ctime (which no
    call can set back), so a changed file is always hashed again. A file changed within the clock's
    resolution of its hashing is not remembered (git's "racy" files): only files last changed
    HASH_SETTLE_SECONDS or more before the load started are. A cache only: created on first use (not a table `create_tables` makes,
    so older databases are not rebuilt for it), and a database without it merely hashes every file."""

    SETTLED_NS = HASH_SETTLE_SECONDS * 1_000_000_000

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.settled_ns = time.time_ns() - self.SETTLED_NS
        con.execute(
            "create table if not exists load_file_hashes (device UBIGINT, inode UBIGINT, size_bytes BIGINT,"
            " mtime_ns BIGINT, ctime_ns BIGINT, file_id VARCHAR)"
        ).fetchall()
        rows = con.execute("select device, inode, size_bytes, mtime_ns, ctime_ns, file_id from load_file_hashes")
        self.ids: dict[FileStat, str] = {tuple(r[:5]): r[5] for r in rows.fetchall()}  # type: ignore[misc]

    def remember(self, hashed: list[tuple[FileStat | None, str]]) -> None:
        new = [(*st, fid) for st, fid in hashed if st and st not in self.ids and max(st[3], st[4]) < self.settled_ns]
        if new:
            # One statement (one commit) for every file: `executemany` commits once per row, and 366 files
            # at 1M events took 1.0 s of the main thread while every core idled.
            columns = list(zip(*new, strict=True))
            self.con.execute(
                "insert into load_file_hashes select unnest($dev), unnest($ino), unnest($size), unnest($mtime),"
                " unnest($ctime), unnest($fid)",
                dict(zip(("dev", "ino", "size", "mtime", "ctime", "fid"), map(list, columns), strict=True)),
            ).fetchall()
            self.ids.update({tuple(r[:5]): r[5] for r in new})  # type: ignore[misc]


class _Loader:
    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int, window: tuple[datetime, datetime]) -> None:
        self.con = con
        self.run_id = run_id
        self.window = window
        self.repair_dir: Path | None = None
        self.threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
        seq = con.execute("select coalesce(max(load_seq), 0) from load_manifest").fetchall()
        self.load_seq = int(seq[0][0])
        known = con.execute("select file_id, path from load_manifest").fetchall()
        self.known: dict[str, str] = {fid: p for fid, p in known}
        self.hashed = _HashedFiles(con)
        self.hashing: ThreadPoolExecutor | None = None
        self.hashes: dict[Path, Future[tuple[FileStat | None, str | FileReadError, int]]] = {}

    def start_hashing(self, paths: list[Path]) -> None:
        """Start hashing files on every core (SHA-256 and numpy release the GIL), in the order they load;
        `load_files` takes the results. A file hashed by an earlier load and unchanged since (same inode,
        size, mtime and ctime) is not read again: its content is loaded, so it is skipped (a daily load
        re-hashed all history)."""
        loaded_before = {st: fid for st, fid in self.hashed.ids.items() if fid in self.known}

        def hash_file(path: Path) -> tuple[FileStat | None, str | FileReadError, int]:
            stat = _file_stat(path)  # taken before the bytes are read: a later change re-hashes
            known = loaded_before.get(stat) if stat else None
            return (stat, known, 0) if known else (stat, *_file_id_and_broken_lines(path))

        self.hashing = self.hashing or ThreadPoolExecutor(max_workers=self.threads)
        for path in dict.fromkeys(paths):
            self.hashes[path] = self.hashing.submit(hash_file, path)

    def stop_hashing(self) -> None:
        if self.hashing is not None:
            self.hashing.shutdown(wait=True, cancel_futures=True)
            self.hashing = None

    def _hashed(self, paths: list[Path]) -> list[tuple[FileStat | None, str | FileReadError, int]]:
        """(stat, SHA-256 or why the file cannot be read, broken lines) of each file: started by
        `start_hashing` (contract sources), else hashed now (vendor folders)."""
        self.start_hashing([p for p in paths if p not in self.hashes])
        return [self.hashes[p].result() for p in paths]

    def _params(self, sql: str, params: dict[str, object]) -> dict[str, object]:
        return {**params, **window_params(sql, *self.window)}

    def _register(self, source: Source, path: Path, file_id: str | FileReadError) -> FileResult:
        """`failed` when the file cannot be read, `skipped` when its content (its SHA-256) was loaded
        before, under any name, else `loaded` with its load_seq."""
        if isinstance(file_id, FileReadError):
            return FileResult(source.folder, path, file_id.file_id, "failed", file_id.problem)
        if file_id in self.known:
            return FileResult(source.folder, path, file_id, "skipped", f"same content as {self.known[file_id]}")
        self.known[file_id] = str(path)
        self.load_seq += 1
        return FileResult(source.folder, path, file_id, "loaded", load_seq=self.load_seq)

    def load_files(self, source: Source, paths: list[Path], progress: Callable[[Path], None]) -> list[FileResult]:
        """Hash every file and insert the records of the new ones into the source's table.

        Invalid records go in too, under a marker file id (`<sha256>#rejected`): `finish_source`
        explains and moves them to `rejects`, so the happy path reads each file once and never
        materialises a stage.

        All new JSON Lines files of a source go in one statement: one parallel multi-file scan, one
        transaction. Their rows carry no line number (`source_line` NULL; the file's SHA-256 and the
        event's id locate it): numbering records needs `WITH ORDINALITY`, which makes a scan
        sequential, and numbering them in parallel statements instead was slower (10M events: 64 s
        against 51 s in one session, 7.5 s of it the final checkpoint of the concurrent appends, against
        0.9 s). Rejected records still get their exact line, from the re-read that explains them. A
        CSV or Parquet file is a statement of its own, numbered, and those statements run in parallel
        on their own cursors.
        """
        hashed = self._hashed(paths)
        stats = [stat for stat, _, _ in hashed]
        results = []
        for path, (_, fid, broken) in zip(paths, hashed, strict=True):
            progress(path)
            results.append(self._register(source, path, fid))
            results[-1].broken_lines = broken
        for f in results:
            if f.status == "loaded" and file_kind(f.path) != "jsonl":
                self._read_layout(source, f)
        while self._load_new(source, [f for f in results if f.status == "loaded"]):
            pass  # a file failed: it is marked failed and the others are loaded again without it
        self.hashed.remember(
            [(st, f.file_id) for st, f in zip(stats, results, strict=True) if f.status != "failed" and f.file_id]
        )
        return results

    def _read_layout(self, source: Source, f: FileResult) -> None:
        """Read a CSV header or Parquet schema; a file whose header cannot be used fails alone."""
        try:
            f.layout = (
                csv_layout(source, f.path) if file_kind(f.path) == "csv" else parquet_layout(self.con, source, f.path)
            )
        except FileReadError as exc:
            self._fail(f, exc.problem)

    def _fail(self, f: FileResult, problem: str) -> None:
        f.status, f.note = "failed", problem
        self.known.pop(f.file_id, None)  # the same bytes under another name fail the same way, not "skipped"

    def _load_new(self, source: Source, new: list[FileResult]) -> bool:
        """Insert the new files' records; True when a file failed (then nothing of this call was kept)."""
        if not new:
            return False
        # The fast read of the clean JSON Lines files; beside it, each file with a broken line (`broken_lines`)
        # is read carefully, on its own cursor: a one-file numbered read runs on one core, which the fast
        # read would otherwise leave idle once it ends.
        fast = [f for f in new if file_kind(f.path) == "jsonl" and not f.broken_lines]
        if source is AUDIT and fast:  # most of the exporters' category lists keyed before the events go in
            enrich.register_sampled_lists(self.con, [f.path for f in fast])
        groups = [fast] if fast else []
        groups += [[f] for f in new if file_kind(f.path) != "jsonl" or f.broken_lines]
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            errors = [e for e in pool.map(lambda g: self._load_group(source, groups[g]), range(len(groups))) if e]
        fatal = [e for e in errors if isinstance(e, IngestError)]
        if fatal:
            raise fatal[0]
        if not errors:
            return False
        # Undo what the other groups inserted, so the retry without the failed files counts each row once.
        ids = [f.file_id for f in new if f.status == "loaded"]
        self.con.execute(
            f"delete from {source.table} where source_file_id in (select unnest($ids))",
            {"ids": _with_reject_marks(ids)},
        ).fetchall()
        self.con.execute(
            "delete from rejects where run_id = $run and file_id in (select unnest($ids))",
            {"run": self.run_id, "ids": ids},
        ).fetchall()
        for f in new:
            f.structural, f.blank_lines, f.line_map, f.fast_read = 0, 0, None, False
        for e in errors:
            failed = next(f for f in new if f.path == e.path)
            self._fail(failed, e.problem)
        return True

    def _load_group(self, source: Source, group: list[FileResult]) -> FileReadError | IngestError | None:
        """Insert one group of files on its own cursor; the error (naming an unreadable file), if any."""
        cur = self.con.cursor()  # its own temp tables: a cursor does not see another's
        try:
            if file_kind(group[0].path) == "jsonl" and not group[0].broken_lines:
                careful = self._load_jsonl_fast(cur, source, group)
                return self._insert_group(cur, source, careful) if careful else None
            return self._insert_group(cur, source, group)
        finally:
            cur.close()

    # Fast reads tried before the remaining files are read carefully. A line that stops a fast read wastes
    # what was read before it; splitting the files into several statements to bound that was slower
    # (1M events: 201 s in 8 statements against 158 s in one, side by side), so it is one statement.
    FAST_ATTEMPTS = 3

    def _load_jsonl_fast(
        self, cur: duckdb.DuckDBPyConnection, source: Source, group: list[FileResult]
    ) -> list[FileResult]:
        """The fast read of JSON Lines files (text as text, no per-line error handling: `stage(careful=False)`),
        in one parallel multi-file scan; returns the files that need a careful read instead.

        Clean files (the normal case) are read once, at full speed (`_load_new` reads a file with a line that
        cannot be a JSON object, `broken_lines`, seen while it was hashed, e.g. a line cut short, carefully
        from the start). Any other line that is not a JSON object, or that gives a contract field twice, stops the fast
        read (DuckDB names the file): that file is read carefully and the fast read is tried again without it.
        A file with a text value starting `{` or `[` (an object where text is wanted, or a string that looks
        like one) is read again carefully."""
        fast, careful = self._fast_read(cur, source, group)
        marked = [r[0] for r in cur.execute(
            f"select distinct source_file_id from {source.table} where source_file_id in (select unnest($ids))",
            {"ids": [f.file_id + "#suspect" for f in fast]},
        ).fetchall()]  # fmt: skip
        for f in fast:
            f.fast_read = f.file_id + "#suspect" not in marked
        suspect = [f for f in fast if not f.fast_read]
        if suspect:
            cur.execute(
                f"delete from {source.table} where source_file_id in (select unnest($ids))",
                {"ids": [f.file_id + tag for f in suspect for tag in ("", "#rejected", "#suspect")]},
            ).fetchall()
        return careful + suspect

    def _fast_read(
        self, cur: duckdb.DuckDBPyConnection, source: Source, files: list[FileResult]
    ) -> tuple[list[FileResult], list[FileResult]]:
        """One fast multi-file read of files; (files loaded fast, files that need a careful read)."""
        careful: list[FileResult] = []
        fast = list(files)
        for attempt in range(self.FAST_ATTEMPTS):
            if not fast:
                break
            try:
                st = stage(source, [f.path for f in fast], numbered=False, careful=False)
                self._insert(cur, source, fast, st, fast_read=True)
                break
            except FAST_READ_STOPS as exc:  # anything else is a bug, never a reason to read slowly
                if is_disk_full(exc):
                    raise IngestError(
                        f"the disk is full while loading {source.folder}: {str(exc).splitlines()[0]}"
                    ) from None
                named = _file_named_in(exc, fast)
                if named is None or attempt == self.FAST_ATTEMPTS - 1:
                    return [], careful + fast
                fast.remove(named)
                careful.append(named)
        return fast, careful

    def _insert(
        self,
        cur: duckdb.DuckDBPyConnection,
        source: Source,
        files: list[FileResult],
        st: Stage,
        fast_read: bool = False,
    ) -> int:
        """Insert a stage of `files` (its `_file_index` = their position) into the source's table: valid rows
        under the file's id, invalid ones under `<id>#rejected` (explained later), and rows of a fast read
        whose text may hide an object under `<id>#suspect` (the file is read again carefully)."""
        typed = typed_select(source, st.sql, nested_lists=not fast_read)
        relation = f"(select t.*, ($file_ids)[t._file_index::bigint + 1] as _file_id from ({typed}) t)"
        file_expr = "case when t._valid then t._file_id else t._file_id || '#rejected' end"
        if fast_read:
            suspect = suspect_text_sql(source, "t")
            if source is AUDIT:  # a nested list or object in a category list, which a careful read rejects
                suspect = f"({suspect} or {enrich.suspect_list_sql('t')})"
            file_expr = f"case when {suspect} then t._file_id || '#suspect' else {file_expr} end"
        select = enrich.enriched_select(source, relation, file_expr, "t._line")
        sql = f"insert into {source.table} by name {select}"
        done = cur.execute(sql, self._params(sql, {**st.params, "file_ids": [f.file_id for f in files]})).fetchall()
        return int(done[0][0]) if done else 0

    def _insert_group(
        self, cur: duckdb.DuckDBPyConnection, source: Source, group: list[FileResult]
    ) -> FileReadError | IngestError | None:
        """Insert files read carefully (numbered, every line judged on its own); the error, if any."""
        paths = [f.path for f in group]
        while True:  # once per CSV quote that is never closed (rare), else once
            try:
                read = [f.read_path or f.path for f in group]
                emitted = self._insert(cur, source, group, stage(source, read, layout=group[0].layout))
            except FileReadError as exc:
                return exc
            except duckdb.Error as exc:
                if is_disk_full(exc):
                    return IngestError(f"the disk is full while loading {source.folder}: {str(exc).splitlines()[0]}")
                if len(group) == 1:
                    return FileReadError(paths[0], str(exc).splitlines()[0])
                return self._unreadable_in(cur, source, group, exc)
            if file_kind(paths[0]) != "csv" or not self._repair_unclosed_quote(cur, source, group[0]):
                break
        if file_kind(paths[0]) == "csv":
            self._csv_structural(cur, source, group[0], emitted)
        return None

    def _unreadable_in(
        self, cur: duckdb.DuckDBPyConnection, source: Source, group: list[FileResult], exc: duckdb.Error
    ) -> FileReadError | IngestError:
        """Name the file of a multi-file scan that cannot be read (each is read on its own)."""
        for f in group:
            st = stage(source, [f.path], numbered=False)
            try:
                cur.execute(f"select count(*) from ({st.sql})", st.params).fetchall()
            except duckdb.Error as file_exc:
                if is_disk_full(file_exc):
                    return IngestError(f"the disk is full: {str(file_exc).splitlines()[0]}")
                return FileReadError(f.path, str(file_exc).splitlines()[0])
        # Every file reads on its own: the load itself failed (memory, interruption), not a file.
        paths = [f.path for f in group]
        return IngestError(
            f"loading {len(group)} {source.folder} files ({paths[0].name} to {paths[-1].name}) failed: "
            + str(exc).splitlines()[0]
        )

    def _repair_unclosed_quote(self, cur: duckdb.DuckDBPyConnection, source: Source, f: FileResult) -> bool:
        """After a CSV scan: when a quote is never closed (the reader took the lines after it as one
        value), re-read the file from a copy with that line emptied, so the good rows after it load.
        True when the file must be read again (its rows of this scan are removed)."""
        csv_structural_rejects(cur)
        found = cur.execute(
            "select line, raw from _structural where contains(raw, chr(10)) order by line limit 1"
        ).fetchall()
        if not found or len(f.unclosed) >= 1000:
            return False
        unit, raw = found[0]
        assert f.layout is not None
        read = f.read_path or f.path
        # Parsed only up to the reader's record (unit 2 is the first after the header), not to the end of the file.
        units = csv_units(read, f.layout.delimiter, until=int(unit) - 1)
        line = _unit_lines(units).get(int(unit), (int(unit), 0))[0]
        f.unclosed.append((line, UNCLOSED_QUOTE, str(raw).split("\n", 1)[0].rstrip("\r")))
        f.read_path = blank_line_copy(read, line, self._scratch_dir())
        cur.execute(
            f"delete from {source.table} where source_file_id in ($f, $f || '#rejected')", {"f": f.file_id}
        ).fetchall()
        return True

    def cleanup(self) -> None:
        if self.repair_dir is not None:
            shutil.rmtree(self.repair_dir, ignore_errors=True)
            self.repair_dir = None

    def _csv_structural(self, cur: duckdb.DuckDBPyConnection, source: Source, f: FileResult, emitted: int) -> None:
        """Give a CSV file's rows and rejects their true physical lines, and reject the lines the reader
        could not split into fields (`_structural`, from the last scan).

        The reader numbers records, not lines: it skips empty lines and reads a record whose quoted value
        holds line breaks as one. When the file has exactly one line per record (the normal case, checked
        by counting its lines) the provisional `record number + 1` is the line; otherwise the file's units
        (`csv_units`) map each record to its lines. A line of nothing but spaces and tabs carries no data:
        it is skipped and counted (`blank_lines`), not rejected (the reader calls it "missing columns")."""
        structural = int(cur.execute("select count(*) from _structural").fetchall()[0][0])
        read = f.read_path or f.path
        if not structural and not f.unclosed and physical_lines(read) == emitted + 1:
            return
        assert f.layout is not None
        units = csv_units(read, f.layout.delimiter)
        by_unit = _unit_lines(units)
        reported = [int(r[0]) for r in cur.execute("select line from _structural").fetchall()]
        frame = pl.DataFrame(
            [(u, *by_unit[u]) for u in reported if u in by_unit],
            schema={"unit": pl.Int64, "first": pl.Int64, "last": pl.Int64, "kind": pl.String},
            orient="row",
        )
        cur.register("_unit_frame", frame.to_arrow())
        cur.execute(
            """create or replace temp table _structural as
               select coalesce(u.first, s.line) as line, s.reason, s.raw, coalesce(u.kind, 'record') as kind
               from _structural s left join _unit_frame u on u.unit = s.line"""
        ).fetchall()
        cur.unregister("_unit_frame")
        unclosed = {line for line, _, _ in f.unclosed}
        f.blank_lines = sum(u.kind != "record" and u.first not in unclosed for u in units)
        cur.execute("delete from _structural where kind = 'blank'").fetchall()
        for line, reason, raw in f.unclosed:
            cur.execute(
                "insert into _structural values ($line, $reason, $raw, 'record')",
                {"line": line, "reason": reason, "raw": raw},
            ).fetchall()
        f.structural = int(cur.execute("select count(*) from _structural").fetchall()[0][0])
        rejected = {int(r[0]) for r in cur.execute("select line from _structural").fetchall()}
        rows = [(u.first, u.last) for u in units if u.kind == "record" and u.first not in rejected]
        if len(rows) == emitted:  # else the reader split the file otherwise than csv: keep its numbering
            moved = [(k + 2, first, last) for k, (first, last) in enumerate(rows) if (first, last) != (k + 2, k + 2)]
            if moved:
                f.line_map = pl.DataFrame(moved, schema=["prov", "first", "last"], orient="row")
                cur.register("_line_frame", f.line_map.to_arrow())
                cur.execute(
                    f"""update {source.table} t set source_line = m.first from _line_frame m
                        where t.source_file_id in ($f, $f || '#rejected') and t.source_line = m.prov""",
                    {"f": f.file_id},
                ).fetchall()
                cur.unregister("_line_frame")
        cur.execute(
            "insert into rejects select $run, $source, $file_id, $path, line, null, reason, raw from _structural",
            {"run": self.run_id, "source": source.folder, "file_id": f.file_id, "path": str(f.path)},
        ).fetchall()

    def _explain_all_rejects(self, source: Source, files: list[FileResult]) -> None:
        """Explain the rejects of every file that has some. JSON Lines files side by side, each on its own cursor:
        a numbered re-read is one sequential scan (100M events: 3 files of 350,000 lines for 3 rejects, 9.0 s one
        after the other, 6.9 s side by side). CSV and Parquet files on the loading connection, which holds their
        temp tables."""
        jsonl = [f for f in files if file_kind(f.path) == "jsonl"]
        for f in files:
            if f not in jsonl:
                self._explain_rejects(source, f, self.con)
        if not jsonl:
            return
        if not all(f.fast_read for f in jsonl):
            self._scratch_dir()  # made here, not by the threads below (excerpts of carefully read files)

        def explain_on_cursor(f: FileResult) -> None:
            with self.con.cursor() as cur:
                self._explain_rejects(source, f, cur)

        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            list(pool.map(explain_on_cursor, jsonl))

    def _explain_rejects(self, source: Source, f: FileResult, con: duckdb.DuckDBPyConnection) -> None:
        """Rare path: re-read a file's bad records as text to say what is wrong, with their exact raw lines. A file
        the fast read loaded is re-read fast (100M events: 0.7 CPU s for a file of 350,000 lines, against 3.9 s
        carefully, with the search for fields given twice that such a file cannot hold); a JSON Lines file read
        carefully has its rejected lines explained from an excerpt of them."""
        if file_kind(f.path) == "jsonl" and not f.fast_read and self._explain_from_excerpt(source, f, con):
            return
        st = stage(source, [f.read_path or f.path], layout=f.layout, careful=not f.fast_read)
        reasons = reject_select(source, st.sql)
        line, last, joined = "c._line", "c._line", ""
        if f.line_map is not None:  # records not on `record number + 1` (csv_units): their true lines
            con.register("_line_map", f.line_map.to_arrow())
            line, last, joined = (
                "coalesce(m.first, c._line)",
                "coalesce(m.last, c._line)",
                "left join _line_map m on m.prov = c._line",
            )
        params = {"run": self.run_id, "source": source.folder, "file_id": f.file_id, "path": str(f.path), **st.params}
        try:
            if file_kind(f.path) == "parquet":
                raise duckdb.InvalidInputException("no text lines")  # a Parquet row has no raw text line
            raw = raw_lines_sql(file_kind(f.path))
            if f.line_map is not None:  # a record's raw text is every line it spans
                sql = f"""insert into rejects
                    select $run, $source, $file_id, $path, {line}, c._reject_field, c._reject_reason,
                           (select left(string_agg(r.raw, chr(10) order by r.line), {MAX_RAW_CHARS})
                            from {raw} r where r.line between {line} and {last})
                    from ({reasons}) c {joined}"""
            else:
                sql = f"""insert into rejects
                    select $run, $source, $file_id, $path, coalesce(r.line, {line}), c._reject_field, c._reject_reason, r.raw
                    from ({reasons}) c left join {raw} r on r.rec = {line}"""
            con.execute(sql, self._params(sql, {**params, "raw_file": exact(f.path)})).fetchall()
        except duckdb.Error:
            # DuckDB cannot split the file into text lines (bad UTF-8, an overlong line): the rejects go
            # in without raw text, which Python then adds line by line.
            sql = f"""insert into rejects
                select $run, $source, $file_id, $path, {line}, c._reject_field, c._reject_reason, null
                from ({reasons}) c {joined}"""
            con.execute(sql, self._params(sql, params)).fetchall()
            if file_kind(f.path) != "parquet":
                self._raw_from_python(f, con)
        if f.line_map is not None:
            con.unregister("_line_map")
        if file_kind(f.path) == "csv":
            con.execute("drop table if exists _csv_rejects; drop table if exists _csv_reject_scans").fetchall()

    def _explain_from_excerpt(self, source: Source, f: FileResult, con: duckdb.DuckDBPyConnection) -> bool:
        """Explain the rejects of a JSON Lines file read carefully (its rejected rows know their record numbers)
        from an excerpt of those lines (readers.jsonl_excerpt): the careful read judges each line on its own, so
        this gives what re-reading the whole file gives (100M events: 0.3 s for a file of 350,000 lines instead
        of 4.3 s). False, with nothing written, when it cannot stand in for that re-read."""
        recs = {
            r[0]
            for r in con.execute(
                f"select distinct source_line from {source.table} where source_file_id = $f || '#rejected'",
                {"f": f.file_id},
            ).fetchall()
        }
        if not recs or None in recs:
            return False
        excerpt, kept = jsonl_excerpt(f.path, recs, self._scratch_dir())
        try:
            if len(kept) != len(recs):
                return False
            rows = [(k, line, *shown_text(raw)) for k, (_, line, raw) in enumerate(kept, start=1)]
            lines = pl.DataFrame(rows, schema=["k", "line", "raw", "utf8"], orient="row")
            st = stage(source, [excerpt])
            sql = f"""insert into rejects
                select $run, $source, $file_id, $path, x.line, c._reject_field,
                       case when x.utf8 then c._reject_reason else $not_utf8 end, x.raw
                from ({reject_select(source, st.sql)}) c inner join _excerpt x on x.k = c._line"""
            ids = {"run": self.run_id, "file_id": f.file_id}
            params = {**ids, "source": source.folder, "path": str(f.path), "not_utf8": NOT_UTF8, **st.params}
            con.register("_excerpt", lines.to_arrow())
            try:
                done = con.execute(sql, self._params(sql, params)).fetchall()
            finally:
                con.unregister("_excerpt")
            if int(done[0][0]) == len(recs):
                return True
            # a line judged otherwise on its own (never seen): the whole file is re-read instead
            con.execute("delete from rejects where run_id = $run and file_id = $file_id", ids).fetchall()
            return False
        except duckdb.Error:
            return False
        finally:
            excerpt.unlink(missing_ok=True)

    def _scratch_dir(self) -> Path:
        """A private folder for copies the loader reads instead of a file (repaired CSV, excerpts); removed by
        `cleanup`."""
        if self.repair_dir is None:
            self.repair_dir = Path(tempfile.mkdtemp(prefix="compliance-repaired-"))
        return self.repair_dir

    def _raw_from_python(self, f: FileResult, con: duckdb.DuckDBPyConnection) -> None:
        """Fill in the raw text (and physical line) of a file's rejects; a line that is not UTF-8 says so."""
        ids = {"run": self.run_id, "file_id": f.file_id}
        recs = {
            int(r[0])
            for r in con.execute(
                "select line from rejects where run_id = $run and file_id = $file_id and raw is null and line is not null",
                ids,
            ).fetchall()
        }
        found = raw_lines_python(f.path, recs)
        if not found:
            return
        frame = pl.DataFrame(found, schema=["rec", "line", "raw", "utf8"], orient="row")
        con.register("_raw_lines", frame.to_arrow())
        con.execute(
            """update rejects set line = r.line, raw = r.raw,
                   reason = case when r.utf8 then reason else $not_utf8 end
               from _raw_lines r
               where rejects.run_id = $run and rejects.file_id = $file_id and rejects.line = r.rec and rejects.raw is null""",
            {**ids, "not_utf8": NOT_UTF8},
        ).fetchall()
        con.unregister("_raw_lines")

    def finish_source(self, source: Source, results: list[FileResult]) -> None:
        """Count each new file's rows and move its invalid records to `rejects`."""
        con = self.con
        loaded = [f for f in results if f.status == "loaded"]
        if not loaded:
            return
        ids = [f.file_id for f in loaded]
        stats = {
            fid: (int(n), newest)
            for fid, n, newest in con.execute(
                f"""select source_file_id, count(*), max({_time_column(source)}) from {source.table}
                    where source_file_id in (select unnest($ids))
                    group by source_file_id""",
                {"ids": _with_reject_marks(ids)},
            ).fetchall()
        }
        self._explain_all_rejects(source, [f for f in loaded if f.file_id + "#rejected" in stats])
        for f in loaded:
            f.rows_loaded, newest = stats.get(f.file_id, (0, None))
            bad = stats.get(f.file_id + "#rejected", (0, None))[0]
            f.rows_rejected = bad + f.structural
            f.rows_read = f.rows_loaded + f.rows_rejected
            f.newest_event_at = newest
        con.execute(
            f"delete from {source.table} where source_file_id in (select unnest($ids) || '#rejected')", {"ids": ids}
        ).fetchall()
        con.execute("drop table if exists _structural").fetchall()

    def log_failed(self, source: Source, results: list[FileResult]) -> None:
        """A file that could not be read is a reject of its own (no line): the Data health page names it."""
        for f in results:
            if f.status == "failed":
                self.con.execute(
                    "insert into rejects values ($run, $source, nullif($file_id, ''), $path, null, null, $reason, null)",
                    {
                        "run": self.run_id,
                        "source": source.folder,
                        "file_id": f.file_id,
                        "path": str(f.path),
                        "reason": f"file not loaded: {f.note}",
                    },
                ).fetchall()

    def write_manifest(self, source: Source, results: list[FileResult]) -> None:
        """One manifest row per new file, with its final counts (after de-duplication)."""
        loaded = [f for f in results if f.status == "loaded"]
        if not loaded:
            return
        manifest = pl.DataFrame(
            [
                {
                    "file_id": f.file_id,
                    "source": source.folder,
                    "path": str(f.path),
                    "size_bytes": f.path.stat().st_size,
                    "run_id": self.run_id,
                    "load_seq": f.load_seq,
                    "rows_read": f.rows_read,
                    "rows_loaded": f.rows_loaded,
                    "rows_duplicate": f.rows_duplicate,
                    "rows_rejected": f.rows_rejected,
                    "newest_event_at": f.newest_event_at,
                }
                for f in loaded
            ],
            schema_overrides={"newest_event_at": pl.Datetime("us")},
        )
        self.con.register("_manifest_rows", manifest.to_arrow())
        self.con.execute("insert into load_manifest by name select * from _manifest_rows").fetchall()
        self.con.unregister("_manifest_rows")

    def _new_key_range(self, source: Source, ids: list[str]) -> tuple[str, dict[str, object]]:
        """A condition every stored row with the key of one of the new rows (files `ids`) meets, and its values:
        its first key column between the new rows' smallest and largest value, or NULL (a NULL equals only a
        NULL in the key). Bound as values, the range lets DuckDB skip the row groups outside it by their min/max:
        with keys that grow with time (ids that start with a date or a sequence), a day's load reads only the
        newest row groups of the history; with random keys the range spans them all and costs nothing more."""
        first = f't."{_key_columns(source)[0]}"'
        lo, hi = self.con.execute(
            f"select min({first}), max({first}) from {source.table} t where t.source_file_id in (select unnest($ids))",
            {"ids": ids},
        ).fetchall()[0]
        return f"({first} between $key_lo and $key_hi or {first} is null)", {"key_lo": lo, "key_hi": hi}

    def _rank_repeated_rows(self, source: Source, in_range: str, bounds: dict[str, object]) -> None:
        """`_dup_rows`: the rows of a repeated key (hashes in `_repeated_keys`) that lose (`win_rank` > 1: the newest
        export wins, or the newest `newest_by`) or arrived after the first (`arrival_rank` > 1).

        Within one file (JSON Lines rows carry no line), the row's content breaks the tie. Reading a row's content
        reads all its columns, and DuckDB reads them for every row of the table before any filter on a key's hash
        (100M events: 4.9 s in a load); so the candidates are read by their few ranking columns first, and the
        content only of rows tied on them, when there are any (a re-delivered file ties none)."""
        con = self.con
        key = _key_expr(source, "t")
        ranking = [*_key_columns(source), *([source.newest_by] if source.newest_by else []), "source_file_id"]
        columns = ", ".join(f't."{c}"' for c in dict.fromkeys([*ranking, "source_line"]))
        con.execute(
            f"""create or replace temp table _dup_candidates as
            select c.*, m.load_seq
            from (select t.rowid as _dup_rid, {columns} from {source.table} t
                  where {in_range} and hash({key}) in (select h from _repeated_keys)) as c
            join (select file_id, load_seq from load_manifest
                  union all select file_id, load_seq from _run_files) m on m.file_id = c.source_file_id""",
            bounds,
        ).fetchall()
        c_key = _key_expr(source, "c")
        con.execute("create or replace temp table _dup_content (_dup_rid bigint, content varchar)").fetchall()
        tied = f"""select _dup_rid from (
                       select c._dup_rid, count(*) over (partition by {c_key}, c.load_seq, c.source_line) as n
                       from _dup_candidates c)
                   where n > 1"""
        if con.execute(f"select count(*) from ({tied})").fetchall()[0][0]:
            con.execute(
                f"""insert into _dup_content
                select t.rowid, md5(cast(t as varchar)) from {source.table} t
                where t.rowid in ({tied})"""
            ).fetchall()
        newest = f'c."{source.newest_by}" desc nulls last, ' if source.newest_by else ""
        con.execute(
            f"""create or replace temp table _dup_rows as
            with ranked as (
                select c._dup_rid as rid, c.source_file_id,
                    row_number() over (partition by {c_key} order by {newest}c.load_seq desc,
                                       c.source_line desc nulls last, x.content) as win_rank,
                    row_number() over (partition by {c_key} order by c.load_seq, c.source_line nulls first,
                                       x.content) as arrival_rank
                from _dup_candidates c
                left join _dup_content x on x._dup_rid = c._dup_rid
            )
            select * from ranked where win_rank > 1 or arrival_rank > 1"""
        ).fetchall()
        con.execute("drop table _dup_candidates").fetchall()
        con.execute("drop table _dup_content").fetchall()

    def deduplicate(self, source: Source, run_files: list[FileResult]) -> None:
        """Keep one row per contract key: the newest export wins (or the newest `newest_by`, e.g. a snapshot).

        Rows that did not add a new key are counted as duplicates of the file they came from.
        """
        from compliance.ingest.derive import LOG_DAYS_FOLDERS

        con = self.con
        ids = [f.file_id for f in run_files if f.status == "loaded"]
        if not ids:
            return
        # This run's files are not in the manifest yet: it is written once, with final counts, after this.
        run_seq = pl.DataFrame(
            [{"file_id": f.file_id, "load_seq": f.load_seq} for f in run_files if f.status == "loaded"],
            schema={"file_id": pl.String, "load_seq": pl.Int64},
        )
        con.register("_run_files", run_seq.to_arrow())
        key = _key_expr(source, "t")
        # Few new rows on many (a daily load): group only the rows whose key hash is one of the new rows'
        # (a semi-join probe), not every key of the history; 10M events: 2.2 -> 0.4 CPU s. Mostly new
        # rows (a first load): every hash is sorted once instead, and a repeated one sits next to its
        # equal (100M events: 5.8 s against 10.3 s for `group by h having count(*) > 1` over every hash).
        new_rows = sum(f.rows_loaded for f in run_files if f.status == "loaded")
        total = con.execute(f"select count(*) from {source.table}").fetchall()[0][0]
        # Every row this run's (a first load): the range would span them all, so its scan is skipped (100M events:
        # 1.9 s over the ten sources).
        in_range, bounds = self._new_key_range(source, ids) if new_rows < total else ("true", {})
        if 4 * new_rows < total:
            repeated = f"""new_keys as (
                select distinct hash({key}) as h from {source.table} t where t.source_file_id in (select unnest($ids))
            ),
            repeated as (
                select hash({key}) as h from {source.table} t
                where {in_range} and hash({key}) in (select h from new_keys) group by h having count(*) > 1
            ),"""
        else:
            repeated = f"""sorted_hashes as (
                select h, lead(h) over (order by h) as next_h
                from (select hash({key}) as h from {source.table} t) as hashed
            ),
            repeated_hashes as (
                select distinct h from sorted_hashes where h = next_h
            ),"""
            # Every row is this run's (a first load): each repeated key involves a new row. Otherwise only the
            # few rows of a repeated hash are matched to the run's files.
            repeated += (
                "repeated as (select h from repeated_hashes),"
                if new_rows == total
                else f"""repeated as (
                    select hash({key}) as h from {source.table} t
                    where hash({key}) in (select h from repeated_hashes)
                    group by h having bool_or(t.source_file_id in (select unnest($ids)))
                ),"""
            )
        # Candidates by the 64-bit hash of the key (fixed-width, far cheaper to group or sort than tens of millions
        # of strings); the window below then compares real keys, so a hash collision only costs a look, never a
        # wrong merge. Kept apart: with no repeated hash (most daily loads) the table is not read a third time.
        con.execute(
            f"create or replace temp table _repeated_keys as with {repeated.rstrip().rstrip(',')} select h from repeated",
            ({"ids": ids} if "$ids" in repeated else {}) | (bounds if in_range in repeated else {}),
        ).fetchall()
        if not con.execute("select count(*) from _repeated_keys").fetchall()[0][0]:
            con.execute("drop table _repeated_keys").fetchall()
            con.unregister("_run_files")
            return
        self._rank_repeated_rows(source, in_range, bounds)
        dup_counts = dict(
            con.execute("select source_file_id, count(*) from _dup_rows where arrival_rank > 1 group by 1").fetchall()
        )
        replaced = f"select * from {source.table} where rowid in (select rid from _dup_rows where win_rank > 1)"
        if source.table == AUDIT.table:  # an older event replaced: its date's fingerprint changes
            enrich.note_touched_audit_days(con, f"select event_date from ({replaced})")
            enrich.note_replaced_role_targets(con, replaced)  # and the actor a replaced role change named
        elif source.folder in LOG_DAYS_FOLDERS:  # a replaced line's day is computed again
            enrich.note_touched_log_days(con, source.table, replaced)
        con.execute(
            f"delete from {source.table} where rowid in (select rid from _dup_rows where win_rank > 1)"
        ).fetchall()
        con.execute("drop table _dup_rows").fetchall()
        con.execute("drop table _repeated_keys").fetchall()
        con.unregister("_run_files")
        for f in run_files:
            d = int(dup_counts.get(f.file_id, 0))
            if d:
                f.rows_duplicate, f.rows_loaded = d, f.rows_loaded - d


# What a line or file that needs a careful read raises in a fast read (not JSON, a field twice, bad bytes,
# corrupt compression).
FAST_READ_STOPS = (duckdb.InvalidInputException, duckdb.IOException, duckdb.ConversionException)


def _unit_lines(units: list[CsvUnit]) -> dict[int, tuple[int, int, str]]:
    """(first line, last line, kind) by the CSV reader's record number (the header is 1, then every
    unit: records, empty and blank lines)."""
    return {i + 2: (u.first, u.last, u.kind) for i, u in enumerate(units)}


def _file_named_in(exc: duckdb.Error, files: list[FileResult]) -> FileResult | None:
    """The file a reader's error names (`... in file "<path>" ...`), if it is one of `files`."""
    found = re.search(r'in file "(.*?)"', str(exc))
    if not found:
        return None
    return next((f for f in files if found.group(1) in (str(f.path), exact(f.path))), None)


def _work_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.loading-{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_copies(db_path: Path) -> list[Path]:
    """Delete the private working copies (`.<db>.loading-PID`, and their WAL) of loads whose process is
    gone (killed, crashed): each is the size of the database, and they would fill the disk."""
    pattern = re.compile(re.escape(f".{db_path.name}.loading-") + r"(\d+)(\.wal)?")
    removed = []
    for p in db_path.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if m and (int(m.group(1)) == os.getpid() or not _pid_alive(int(m.group(1)))):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


class DatabaseLock:
    """One ingest at a time per database (an advisory lock on `.<db>.lock`, released when the process
    ends, however it ends). A second ingest waits up to `wait_seconds`, then stops with a clear message:
    two loads that each copy, load and rename would lose the first one's rows."""

    def __init__(self, db_path: Path, wait_seconds: float) -> None:
        self.path = db_path.with_name(f".{db_path.name}.lock")
        self.db_path = db_path
        self.wait_seconds = wait_seconds
        self.fh: object | None = None

    def __enter__(self) -> DatabaseLock:
        fh = self.path.open("a+")
        deadline = time.monotonic() + self.wait_seconds
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown"
                    fh.close()
                    raise IngestError(
                        f"another ingest (process {holder}) is loading into {self.db_path}; "
                        f"waited {self.wait_seconds:g} s. Run this one again when it has finished."
                    ) from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self.fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_UN)  # type: ignore[attr-defined]
            self.fh.close()  # type: ignore[attr-defined]


FICLONE = 0x40049409  # linux/fs.h: share the source's extents, copy-on-write (what `cp --reflink` does)


def clone_or_copy(src: Path, dst: Path) -> bool:
    """Copy `src` to `dst` for a load's private working copy: a reflink clone where the filesystem has
    them (Btrfs, XFS: instant whatever the size, and writes to the clone never reach `src`), else a
    byte copy (ext4 here: 730 MB at 10M events, 0.5-1.2 CPU s of a daily load; 5.6 GB at 100M, about
    9 s). True when cloned."""
    try:
        with src.open("rb") as fin, dst.open("wb") as fout:
            fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
        return True
    except OSError:  # EOPNOTSUPP, EXDEV, EINVAL...: no clone here
        pass
    shutil.copyfile(src, dst)
    return False


@dataclass(frozen=True)
class WorkingCopy:
    """How a load's private working copy of the published database was made: the one step of a daily load whose
    cost follows the database's size, not the day's, unless the filesystem clones files."""

    cloned: bool  # a reflink clone (instant) rather than a byte copy
    size_bytes: int
    seconds: float


def _make_working_copy(db_path: Path, work: Path) -> WorkingCopy:
    clock = time.perf_counter()
    cloned = clone_or_copy(db_path, work)
    return WorkingCopy(cloned, work.stat().st_size, time.perf_counter() - clock)


def _remove_db_files(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _previous_as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    from compliance.controls import default_as_of

    try:
        return default_as_of(con)
    except ValueError:
        return None


def _findings_stale(con: duckdb.DuckDBPyConnection, policy: Policy) -> bool:
    """True when some control's stored findings for the current default as-of date are missing or
    were computed from other SQL or another policy."""
    from compliance.controls import default_as_of, select_controls
    from compliance.stored_findings import fresh_controls

    try:
        as_of = default_as_of(con)
        return len(fresh_controls(con, policy, as_of)) < len(select_controls())
    except ValueError:  # nothing dated, so nothing to evaluate; or a query file that does not parse
        # (QueryError), which store_findings reports when the load has something to publish
        return False


def build_retention_rules(con: duckdb.DuckDBPyConnection) -> None:
    """derive.build_retention_rules, imported when the load needs it (see `_policy_and_modules`)."""
    from compliance.ingest.derive import build_retention_rules as build

    build(con)


def _policy_and_modules(policy: Policy | None) -> Policy:
    """The policy (loaded unless given), and the modules the load imports once it has read its files.

    Run on a thread while the files are hashed: the policy's YAML and models, the rollups and the
    findings import most of the project (1M events: 0.8 CPU s on one core, before any file was read).
    The load imports none of them before it has this result, so no module is imported by two threads."""
    import compliance.ingest.derive
    import compliance.ingest.reference
    import compliance.stored_findings  # noqa: F401  (and compliance.controls, compliance.queries)

    if policy is None:
        from compliance.config.bundle import load_policy

        policy = load_policy()
    return policy


def ingest(
    exports: Sequence[Path | str],
    db_path: Path | str,
    *,
    policy: Policy | None = None,
    progress: Progress | None = None,
    memory_limit: str | None = None,
    threads: int | None = None,
    before_publish: Callable[[Path], None] | None = None,
    findings: bool = True,
    findings_progress: Callable[[str, int, int], None] | None = None,
    window: TimeWindow | None = None,
    lock_wait_seconds: float = 600.0,
) -> IngestSummary:
    """Load export folders (oldest first) into the database at `db_path`, publishing it atomically.

    One load at a time per database: a second one waits for the first (up to `lock_wait_seconds`) and
    then loads on top of its published result, so both exports' rows end up in the database.
    Timestamps outside `window` (default 1990 to a day after the load started) are rejects.

    With `findings`, every control is then evaluated as of the data's newest date and its findings
    stored in the database (compliance.stored_findings), so readers open it with results ready; a
    run with nothing new still refreshes findings whose query or policy changed since they were stored.
    `before_publish` is a test hook called with the private working copy just before the rename.
    """
    exports = [Path(e) for e in exports]
    db_path = Path(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(max_workers=1) as preparing, DatabaseLock(db_path, lock_wait_seconds):
            prepared = preparing.submit(_policy_and_modules, policy)
            remove_stale_copies(db_path)
            return _ingest_locked(
                exports, db_path, prepared, progress, memory_limit, threads, before_publish, findings,
                findings_progress, window or TimeWindow(),
            )  # fmt: skip
    except (OSError, duckdb.Error) as exc:
        if is_disk_full(exc):
            raise IngestError(f"the disk holding {db_path} is full: free space and run the ingest again") from None
        if isinstance(exc, duckdb.OutOfMemoryException):
            # Seen at 100M events under a 4 GB limit: what the user can change, not DuckDB's traceback.
            limit = memory_limit or "DuckDB's default, 80% of RAM"
            raise IngestError(
                f"DuckDB ran out of memory under its memory limit ({limit}): run the ingest again with a larger "
                "--memory-limit or fewer --threads"
            ) from None
        raise


@dataclass
class _Ticker:
    """The load's progress callback over every file of the call, the sources' and the vendor folders' alike."""

    progress: Progress | None
    total: int
    done: int = 0

    def __call__(self, folder: str, path: Path) -> None:
        if self.progress:
            self.progress(folder, path, self.done, self.total)
        self.done += 1

    def finish(self) -> None:
        if self.progress:
            self.progress("", None, self.total, self.total)


def _configure(con: duckdb.DuckDBPyConnection, memory_limit: str | None, threads: int | None) -> None:
    # GLOBAL: the parallel loaders' cursors start from global settings, not from this connection's.
    con.execute("set global TimeZone = 'UTC'").fetchall()
    con.execute("set enable_progress_bar = false").fetchall()  # the CLI draws its own
    if memory_limit:
        try:
            con.execute("set memory_limit = $limit", {"limit": memory_limit}).fetchall()
        except duckdb.Error:
            raise IngestError(f"--memory-limit {memory_limit!r} is not a size like 4GB or 512MB") from None
    if threads:
        con.execute(f"set threads = {int(threads)}").fetchall()


def _load_sources(
    con: duckdb.DuckDBPyConnection,
    loader: _Loader,
    files: dict[str, list[Path]],
    tick: _Ticker,
    *,
    everything_changed: bool,
) -> tuple[list[FileResult], set[str]]:
    """Every source's files, reference sources first (schema.SOURCES order): the files' results and the
    folders that loaded rows. `everything_changed`: the policy or the database layout did, so every lookup is
    rebuilt whatever the load brings."""
    loaded: list[FileResult] = []
    touched: set[str] = set()
    lookups_built = False
    for source in SOURCES:
        if source.folder not in REFERENCE_FOLDERS and not lookups_built:
            # enriched sources join these lookups as they load
            enrich.build_lookups(con, subjects_changed=everything_changed or bool(touched & enrich.SUBJECT_FOLDERS))
            lookups_built = True
        try:
            results = loader.load_files(source, files[source.folder], lambda path, f=source.folder: tick(f, path))
            loader.finish_source(source, results)
        finally:
            loader.cleanup()  # repaired copies of CSV files, if any
        loader.deduplicate(source, results)
        loader.write_manifest(source, results)
        loader.log_failed(source, results)
        loaded.extend(results)
        if any(r.status == "loaded" for r in results):
            touched.add(source.folder)
    return loaded, touched


def _optimizers_off(disabled: str, name: str) -> str:
    """The `disabled_optimizers` list `disabled` with `name` added once: idempotent when it is already there
    (disabled by the caller, or by an enclosing load)."""
    names = [n.strip() for n in disabled.split(",") if n.strip()]
    return ",".join(names if name in names else [*names, name])


@contextmanager
def _lookups_on_build_side(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """While files load, DuckDB keeps a join's build side where the SQL puts it: the enrichment's lookups.

    DuckDB guesses a compressed JSON Lines file holds a few rows (40 gzip files of 11M events: ~1,700),
    so its `build_side_probe_side` optimizer turns the enrichment's LEFT joins around and builds a hash
    table of every event read: at 100M events under 4 GB that table spilled 27 GB to disk in 30 minutes
    and then ran out of memory. GLOBAL, as in `_configure`: the loaders work on their own cursors.
    Restored after loading, so the derivations and the controls keep the optimizer."""
    before = con.execute("select current_setting('disabled_optimizers')").fetchall()[0][0]
    off = _optimizers_off(before, "build_side_probe_side")
    con.execute("set global disabled_optimizers = $off", {"off": off}).fetchall()
    try:
        yield
    finally:
        con.execute("set global disabled_optimizers = $before", {"before": before}).fetchall()


def _load_all(
    con: duckdb.DuckDBPyConnection,
    loader: _Loader,
    files: dict[str, list[Path]],
    policy: Policy,
    tick: _Ticker,
    *,
    policy_changed: bool,
    schema_changed: bool,
) -> tuple[list[FileResult], set[str]]:
    """The sources' files, then the vendor log folders (contract 1.10) and the identities that name their
    principals (compliance.ingest.vendors): every file's result and the folders that loaded rows (a vendor
    folder's events are audit events)."""
    with _lookups_on_build_side(con):
        loaded, touched = _load_sources(con, loader, files, tick, everything_changed=policy_changed or schema_changed)
        vendor_files, vendor_touched = load_vendor_exports(
            con,
            loader,
            files,
            policy,
            tick,
            directory_changed="directory" in touched,
            policy_changed=policy_changed,
        )
    if vendor_touched:
        touched |= {"audit", *vendor_touched}
    tick.finish()
    return [*loaded, *vendor_files], touched


def _record_run(
    con: duckdb.DuckDBPyConnection, run_id: int, started: datetime, policy: Policy, exports: list[Path]
) -> None:
    con.execute(
        "insert into load_runs values ($run, $started, $finished, $version, $digest, $exports)",
        {
            "run": run_id,
            "started": started,
            "finished": datetime.now(UTC).replace(tzinfo=None),
            "version": policy.version,
            "digest": policy.digest,
            "exports": [str(e) for e in exports],
        },
    ).fetchall()


def _publish(
    con: duckdb.DuckDBPyConnection, work: Path, db_path: Path, before_publish: Callable[[Path], None] | None
) -> None:
    """Close the working copy and put it in the database's place."""
    enrich.drop_lookups(con)
    con.execute("checkpoint").fetchall()
    con.close()
    if before_publish:
        before_publish(work)
    os.replace(work, db_path)  # atomic on POSIX: readers see the old file or the new one


def _touched_audit_days(con: duckdb.DuckDBPyConnection, run_id: int | None = None) -> list[date]:
    """The event dates of audit events the load deleted or changed (enrich.note_touched_audit_days), and with
    `run_id` those of the run's new events, noted first: after a load of audit events alone, no other date's
    events differ."""
    if run_id is not None:
        enrich.note_touched_audit_days(
            con,
            "select event_date from audit_events"
            " where source_file_id in (select file_id from load_manifest where run_id = $run)",
            {"run": run_id},
        )
    rows = con.execute(f"select distinct event_date from {enrich.TOUCHED_AUDIT_DAYS} where event_date is not null")
    return [r[0] for r in rows.fetchall()]


def _touched_log_days(con: duckdb.DuckDBPyConnection, table: str, run_id: int) -> list[date]:
    """The UTC days of the lines of the log `table` the run loaded, noted first, and of those its de-duplication
    deleted (enrich.note_touched_log_days): the only days whose line counts a load can change."""
    enrich.note_touched_log_days(
        con,
        table,
        f"select * from {table} where source_file_id in (select file_id from load_manifest where run_id = $run)",
        {"run": run_id},
    )
    rows = con.execute(
        f"select distinct event_date from {enrich.TOUCHED_LOG_DAYS} where log = $log and event_date is not null",
        {"log": table},
    )
    return [r[0] for r in rows.fetchall()]


def _derive(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    touched: set[str],
    had_rows: dict[str, bool],
    run_id: int,
    *,
    policy_changed: bool,
    schema_changed: bool,
) -> bool:
    """Bring what is derived from the loaded rows up to date; True when the audit events' fingerprint was
    taken on the way (nothing after it changes audit_events, so the findings' refresh reuses it)."""
    from compliance.ingest.derive import (
        LOG_DAYS,
        build_dsr_deadlines,
        build_incident_local_dates,
        derive_event_rollups,
        derive_log_days,
        derive_usage_subjects,
    )
    from compliance.stored_findings import changed_event_dates

    # Rows loaded in earlier runs were enriched from the lookups of their time: refresh them when
    # a lookup source or the policy changed.
    refresh = policy_changed or bool(touched & REFERENCE_FOLDERS)
    for s in EVENT_SOURCES:
        if refresh and had_rows[s.table]:
            enrich.rebuild(con, s)
    # Lists new to the database (an exporter's, or the changed data map's): keyed once, after every insert
    # and rebuild of audit events.
    if "audit" in touched or (refresh and had_rows[AUDIT.table]):
        enrich.assign_category_keys(con)
    audit_alone = "audit" in touched and not (touched & REFERENCE_FOLDERS or policy_changed or schema_changed)
    if audit_alone:  # a daily load: the roles of events from its earliest new or replaced one on
        new_days = _touched_audit_days(con, run_id)
        if new_days:
            enrich.apply_role_changes(con, since=min(new_days))
    elif "audit" in touched or touched & REFERENCE_FOLDERS or policy_changed:  # (a rebuild reset every role)
        enrich.apply_role_changes(con)
    # The daily rollups of audit events: every day when the events' enrichment (reference sources,
    # policy) or the tables themselves (an older database) changed; after a load of audit events alone,
    # only the days whose events differ from the fingerprint stored with the findings (every day when
    # none is stored, e.g. after a load without findings).
    fingerprint_taken = False
    if touched & REFERENCE_FOLDERS or policy_changed or schema_changed:
        derive_event_rollups(con, policy=policy)
    elif audit_alone:
        derive_event_rollups(con, changed_event_dates(con, candidates=_touched_audit_days(con)), policy=policy)
        fingerprint_taken = True
    if schema_changed:  # (an older database may lack the table)
        derive_usage_subjects(con)
    elif "usage" in touched:
        run_files = con.execute("select file_id from load_manifest where run_id = $run", {"run": run_id}).fetchall()
        derive_usage_subjects(con, [r[0] for r in run_files])
    log_days: dict[str, list[date]] = {}  # per log table: the days its lines changed on, found once
    for log in LOG_DAYS:  # every day when the tables are new (an older database may lack them)
        if schema_changed:
            derive_log_days(con, log)
        elif log.source.folder in touched:
            table = log.source.table
            if table not in log_days:
                log_days[table] = _touched_log_days(con, table, run_id)
            derive_log_days(con, log, log_days[table])
    if "dsr" in touched or policy_changed or schema_changed:  # an older database may lack dsr_states
        build_dsr_deadlines(con, policy)
    # A table per incident, rebuilt on every published load (a database from before it existed gets it).
    build_incident_local_dates(con, policy)
    # A few hundred keys whatever the data size: rebuilt on every published load, so a database
    # created before this table existed gets it on its next ingest.
    build_retention_rules(con)
    return fingerprint_taken


def _store_findings(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    summary: IngestSummary,
    changes: LoadChanges,
    findings_progress: Callable[[str, int, int], None] | None,
) -> None:
    """Evaluate the controls the load changed and store their findings, timing it in `summary`."""
    from compliance.queries import QueryError
    from compliance.stored_findings import refresh_findings

    clock, cpu_clock = datetime.now(UTC), time.process_time()
    try:
        plan = refresh_findings(con, policy, changes, findings_progress)
        summary.findings_as_of, summary.findings_modes = plan.as_of, plan.modes
    except QueryError as exc:
        raise IngestError(f"cannot evaluate the controls: {exc} (--no-findings loads without them)") from exc
    summary.findings_seconds = (datetime.now(UTC) - clock).total_seconds()
    summary.findings_cpu_seconds = time.process_time() - cpu_clock


def _ingest_locked(
    exports: list[Path],
    db_path: Path,
    prepared: Future[Policy],
    progress: Progress | None,
    memory_limit: str | None,
    threads: int | None,
    before_publish: Callable[[Path], None] | None,
    findings: bool,
    findings_progress: Callable[[str, int, int], None] | None,
    window: TimeWindow,
) -> IngestSummary:
    started = datetime.now(UTC).replace(tzinfo=None)
    files, missing, unread = discover(exports)
    summary = IngestSummary(db_path, None, False, missing_sources=missing, unread=unread)

    work = _work_path(db_path)
    _remove_db_files(work)
    if db_path.exists():
        try:
            summary.working_copy = _make_working_copy(db_path, work)
        except BaseException:
            _remove_db_files(work)  # half a copy (a full disk) is the very space the user needs back
            raise
    con = duckdb.connect(str(work))
    loader: _Loader | None = None
    try:
        _configure(con, memory_limit, threads)
        schema_changed = create_tables(con)  # an older database gains new columns: publish it
        # No explicit transaction: the copy is private until published and is discarded on any failure,
        # and one giant transaction made the final commit rewrite what the bulk inserts had already written.
        last = con.execute("select coalesce(max(run_id), 0), arg_max(policy_digest, run_id) from load_runs").fetchall()[
            0
        ]
        run_id, previous_digest = int(last[0]) + 1, last[1]
        summary.run_id = run_id
        loader = _Loader(con, run_id, window.bounds(started))
        loader.start_hashing([p for s in SOURCES for p in files[s.folder]])  # while the policy loads
        policy = prepared.result()
        # Imported by `_policy_and_modules`, so these are look-ups now.
        from compliance.ingest.reference import write_reference_tables
        from compliance.stored_findings import LoadChanges, clear_findings

        policy_changed = previous_digest != policy.digest
        write_reference_tables(con, policy)
        previous_as_of = _previous_as_of(con)  # what the stored findings were evaluated for
        had_rows = {s.table: con.execute(f"select count(*) > 0 from {s.table}").fetchall()[0][0] for s in EVENT_SOURCES}

        loaded, touched = _load_all(con, loader, files, policy, _Ticker(progress, sum(map(len, files.values()))),
                                    policy_changed=policy_changed, schema_changed=schema_changed)  # fmt: skip
        summary.files.extend(loaded)

        changed = touched or policy_changed or schema_changed
        if not changed and not (findings and _findings_stale(con, policy)):  # (judged only when it decides)
            con.close()
            _remove_db_files(work)
            summary.seconds = (datetime.now(UTC).replace(tzinfo=None) - started).total_seconds()
            return summary  # nothing new: the published database stays exactly as it was

        fingerprint_taken = _derive(
            con, policy, touched, had_rows, run_id, policy_changed=policy_changed, schema_changed=schema_changed
        )
        if findings:
            loaded_tables = {SOURCES_BY_FOLDER[f].table for f in touched if f in SOURCES_BY_FOLDER}
            changes = LoadChanges.after_load(
                loaded_tables | ({"identities"} & touched),
                reference_changed=bool(touched & REFERENCE_FOLDERS),
                previous_as_of=previous_as_of,
                everything=policy_changed or schema_changed,
                fingerprint_taken=fingerprint_taken,
            )
            _store_findings(con, policy, summary, changes, findings_progress)
        else:
            clear_findings(con)  # findings of the previous data would otherwise pass for fresh
        _record_run(con, run_id, started, policy, exports)
        _publish(con, work, db_path, before_publish)
        summary.published = True
    except BaseException:
        try:
            con.close()
        finally:
            _remove_db_files(work)
        raise
    finally:
        if loader is not None:
            loader.stop_hashing()
    summary.seconds = (datetime.now(UTC).replace(tzinfo=None) - started).total_seconds()
    return summary
