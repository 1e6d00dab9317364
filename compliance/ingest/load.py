"""`compliance ingest`: export folders in, a published DuckDB audit database out.

How a load stays trustworthy:
- Files are keyed by SHA-256 in `load_manifest`: a file seen before, under any name, is skipped.
- Bad rows go to `rejects` with file, line, field, reason and the raw text; the load goes on.
- Overlapping exports are de-duplicated on the contract's keys; the newest export wins.
- The load works on a private copy of the database and publishes it with one atomic rename, so
  readers (dashboard, notebooks) see the old database or the new one, never a half-loaded one. A file
  that cannot be read at all aborts the run with its name, and nothing of the run is published.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from compliance.config.bundle import Policy, load_policy
from compliance.ingest import enrich
from compliance.ingest.derive import build_dsr_deadlines, build_retention_rules
from compliance.ingest.readers import (
    FileReadError,
    corrected_line_sql,
    csv_structural_rejects,
    file_kind,
    jsonl_reader_sql,
    raw_lines_sql,
    stage_view,
)
from compliance.ingest.reference import write_reference_tables
from compliance.ingest.tables import create_tables
from compliance.ingest.validate import reject_select, typed_select
from compliance.ingest.vendors.loader import load_vendor_exports
from compliance.queries import QueryError
from compliance.schema import AUDIT, DIAGNOSTIC, INVENTORY, SOURCES, USAGE, Source
from compliance.stored_findings import clear_findings, fresh_controls, store_findings

EVENT_SOURCES = (AUDIT, USAGE, DIAGNOSTIC, INVENTORY)  # tables that carry enrichment
REFERENCE_FOLDERS = {"directory", "tenants", "subjects", "dsr", "identities"}  # what enrichment is computed from

Progress = Callable[[str, Path | None, int, int], None]  # (source, file, index, total)


class IngestError(RuntimeError):
    """The load cannot go on (an export folder is missing, a file cannot be read); nothing was published."""


@dataclass
class FileResult:
    source: str
    path: Path
    file_id: str
    status: str  # loaded | skipped
    note: str = ""
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    load_seq: int = 0
    structural: int = 0  # CSV lines the reader could not split into fields
    newest_event_at: datetime | None = None


@dataclass
class IngestSummary:
    db_path: Path
    run_id: int | None
    published: bool
    files: list[FileResult] = field(default_factory=list)
    missing_sources: list[str] = field(default_factory=list)
    ignored_files: list[Path] = field(default_factory=list)
    seconds: float = 0.0
    findings_as_of: date | None = None  # the as-of date of the stored findings (None: not stored)
    findings_seconds: float = 0.0

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
                    "rows_read": sum(f.rows_read for f in fs),
                    "rows_loaded": sum(f.rows_loaded for f in fs),
                    "rows_duplicate": sum(f.rows_duplicate for f in fs),
                    "rows_rejected": sum(f.rows_rejected for f in fs),
                    "present": bool(fs) or folder not in self.missing_sources,
                }
            )
        return rows


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _file_id(path: Path) -> str:
    """The file's SHA-256: its id in the load manifest."""
    try:
        return sha256_file(path)
    except OSError as exc:
        raise FileReadError(path, exc.strerror or str(exc)) from exc


def discover(exports: Sequence[Path]) -> tuple[dict[str, list[Path]], list[str], list[Path]]:
    """Files per source folder, oldest export first then by name; sources absent from every export; ignored files."""
    files: dict[str, list[Path]] = {s.folder: [] for s in SOURCES}
    ignored: list[Path] = []
    for export in exports:
        if not export.is_dir():
            raise IngestError(f"{export}: export folder does not exist")
        for s in SOURCES:
            folder = export / s.folder
            if not folder.is_dir():
                continue
            for p in sorted(folder.iterdir()):
                if p.is_file() and file_kind(p) in s.formats:
                    files[s.folder].append(p)
                elif p.is_file() and not p.name.startswith("."):
                    ignored.append(p)
    missing = [s.folder for s in SOURCES if not files[s.folder]]
    return files, missing, ignored


def _time_column(source: Source) -> str:
    """The column that dates a row (for the manifest's newest_event_at); NULL for undated sources."""
    dated = [c.name for c in source.columns if c.type == "TIMESTAMP"]
    required = [c.name for c in source.columns if c.type == "TIMESTAMP" and c.required]
    return f'"{(required or dated)[0]}"' if dated else "null::timestamp"


def _key_expr(source: Source, alias: str = "") -> str:
    a = f"{alias}." if alias else ""
    if source is DIAGNOSTIC:
        return f"{a}line_id"
    if len(source.key) == 1:
        return f'{a}"{source.key[0]}"'
    return "concat_ws(chr(31), " + ", ".join(f"coalesce(cast({a}\"{k}\" as varchar), '')" for k in source.key) + ")"


class _Loader:
    def __init__(self, con: duckdb.DuckDBPyConnection, run_id: int) -> None:
        self.con = con
        self.run_id = run_id
        self.threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
        seq = con.execute("select coalesce(max(load_seq), 0) from load_manifest").fetchall()
        self.load_seq = int(seq[0][0])
        known = con.execute("select file_id, path from load_manifest").fetchall()
        self.known: dict[str, str] = {fid: p for fid, p in known}

    def _register(self, source: Source, path: Path, file_id: str) -> FileResult:
        """`skipped` when a file's content (its SHA-256) was loaded before, under any name, else
        `loaded` with its load_seq."""
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
        # SHA-256 releases the GIL: hash the files on every core while DuckDB is idle.
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            file_ids = list(pool.map(_file_id, paths))
        results = []
        for path, file_id in zip(paths, file_ids, strict=True):
            progress(path)
            results.append(self._register(source, path, file_id))
        new = [f for f in results if f.status == "loaded"]
        if not new:
            return results
        jsonl = [f for f in new if file_kind(f.path) == "jsonl"]
        groups = [jsonl] if jsonl else []
        groups += [[f] for f in new if file_kind(f.path) != "jsonl"]
        files = pl.DataFrame(
            [
                {"grp": g, "file_index": i, "file_id": f.file_id}
                for g, group in enumerate(groups)
                for i, f in enumerate(group)
            ],
            schema={"grp": pl.Int64, "file_index": pl.Int64, "file_id": pl.String},
        )
        self.con.register("_files_frame", files.to_arrow())
        self.con.execute("create or replace table _load_files as select * from _files_frame").fetchall()
        self.con.unregister("_files_frame")
        with ThreadPoolExecutor(max_workers=self.threads) as pool:
            errors = [e for e in pool.map(lambda g: self._load_group(source, g, groups[g]), range(len(groups))) if e]
        self.con.execute("drop table _load_files").fetchall()
        if errors:
            raise errors[0]
        return results

    def _load_group(self, source: Source, group_no: int, group: list[FileResult]) -> FileReadError | IngestError | None:
        """Insert one group of files on its own cursor; the error (naming an unreadable file), if any."""
        cur = self.con.cursor()  # its own temp views and tables: a cursor does not see another's
        try:
            paths = [f.path for f in group]
            try:
                stage_view(cur, source, paths, numbered=file_kind(paths[0]) != "jsonl")
                cur.execute(f"create or replace temp view _typed as {typed_select(source)}").fetchall()
                relation = f"""(select t.*, f.file_id as _file_id from _typed t
                                join _load_files f on f.grp = {int(group_no)} and f.file_index = t._file_index)"""
                file_expr = "case when t._valid then t._file_id else t._file_id || '#rejected' end"
                select = enrich.enriched_select(source, relation, file_expr, "t._line")
                cur.execute(f"insert into {source.table} by name {select}").fetchall()
            except FileReadError as exc:
                return exc
            except duckdb.Error as exc:
                if len(group) == 1:
                    return FileReadError(paths[0], str(exc).splitlines()[0])
                for f in group:  # name the file that cannot be read
                    try:
                        cur.execute(f"select count(*) from {jsonl_reader_sql(source, [f.path])}").fetchall()
                    except duckdb.Error as file_exc:
                        return FileReadError(f.path, str(file_exc).splitlines()[0])
                # Every file reads on its own: the load itself failed (memory, interruption), not a file.
                return IngestError(
                    f"loading {len(group)} {source.folder} files ({paths[0].name} to {paths[-1].name}) failed: "
                    + str(exc).splitlines()[0]
                )
            if file_kind(paths[0]) == "csv":
                self._csv_structural(cur, source, group[0])
            return None
        finally:
            cur.close()

    def _csv_structural(self, cur: duckdb.DuckDBPyConnection, source: Source, f: FileResult) -> None:
        """Reject the lines the CSV reader could not split into fields (rare), and correct the line
        numbers of the rows after them."""
        csv_structural_rejects(cur)
        f.structural = int(cur.execute("select count(*) from _structural").fetchall()[0][0])
        if not f.structural:
            return
        cur.execute(
            f"update {source.table} set source_line = {corrected_line_sql('source_line')}"
            " where source_file_id in ($f, $f || '#rejected')",
            {"f": f.file_id},
        ).fetchall()
        cur.execute(
            "insert into rejects select $run, $source, $file_id, $path, line, null, reason, raw from _structural",
            {"run": self.run_id, "source": source.folder, "file_id": f.file_id, "path": str(f.path)},
        ).fetchall()

    def _explain_rejects(self, source: Source, f: FileResult) -> None:
        """Rare path: re-read a file's bad records as text to say what is wrong, with their exact raw lines."""
        con = self.con
        stage_view(con, source, f.path)
        if f.structural:  # corrected_line_sql needs this file's structural lines: scan once to log them
            con.execute("select count(*) from _stage").fetchall()
            csv_structural_rejects(con)
        raw = "(select null::bigint as rec, null::bigint as line, null::varchar as raw)"
        if file_kind(f.path) != "parquet":
            raw = raw_lines_sql(f.path)
        line = corrected_line_sql("c._line") if f.structural else "c._line"
        con.execute(
            f"""insert into rejects
                select $run, $source, $file_id, $path, coalesce(r.line, {line}), c._reject_field, c._reject_reason, r.raw
                from ({reject_select(source)}) c left join {raw} r on r.rec = {line}""",
            {"run": self.run_id, "source": source.folder, "file_id": f.file_id, "path": str(f.path)},
        ).fetchall()
        if file_kind(f.path) == "csv":
            con.execute("drop table if exists _csv_rejects; drop table if exists _csv_reject_scans").fetchall()

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
                    where source_file_id in (select unnest($ids)) or source_file_id in (select unnest($ids) || '#rejected')
                    group by source_file_id""",
                {"ids": ids},
            ).fetchall()
        }
        for f in loaded:
            f.rows_loaded, newest = stats.get(f.file_id, (0, None))
            bad = stats.get(f.file_id + "#rejected", (0, None))[0]
            if bad:
                self._explain_rejects(source, f)
            f.rows_rejected = bad + f.structural
            f.rows_read = f.rows_loaded + f.rows_rejected
            f.newest_event_at = newest
        con.execute(
            f"delete from {source.table} where source_file_id in (select unnest($ids) || '#rejected')", {"ids": ids}
        ).fetchall()
        con.execute(
            "drop view if exists _typed; drop view if exists _stage; drop table if exists _structural"
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

    def deduplicate(self, source: Source, run_files: list[FileResult]) -> None:
        """Keep one row per contract key: the newest export wins (or the newest `newest_by`, e.g. a snapshot).

        Rows that did not add a new key are counted as duplicates of the file they came from.
        """
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
        newest = f't."{source.newest_by}" desc nulls last, ' if source.newest_by else ""
        con.execute(
            f"""create or replace temp table _dup_rows as
            -- Candidates by the 64-bit hash of the key (a fixed-width aggregate, far cheaper than
            -- grouping tens of millions of strings); the window below then compares real keys, so a
            -- hash collision only costs a look, never a wrong merge.
            with hashed as (
                select hash({key}) as h, t.source_file_id in (select unnest($ids)) as is_new
                from {source.table} t
            ),
            repeated as (
                select h from hashed group by h having count(*) > 1 and bool_or(is_new)
            ),
            ranked as (
                select t.rowid as rid, t.source_file_id,
                    -- Within one file (JSON Lines rows carry no line), the row's content breaks the tie.
                    row_number() over (partition by {key} order by {newest}m.load_seq desc,
                                       t.source_line desc nulls last, md5(cast(t as varchar))) as win_rank,
                    row_number() over (partition by {key} order by m.load_seq, t.source_line nulls first,
                                       md5(cast(t as varchar))) as arrival_rank
                from {source.table} t
                join (select file_id, load_seq from load_manifest
                      union all select file_id, load_seq from _run_files) m on m.file_id = t.source_file_id
                where hash({key}) in (select h from repeated)
            )
            select * from ranked where win_rank > 1 or arrival_rank > 1""",
            {"ids": ids},
        ).fetchall()
        dup_counts = dict(
            con.execute("select source_file_id, count(*) from _dup_rows where arrival_rank > 1 group by 1").fetchall()
        )
        con.execute(
            f"delete from {source.table} where rowid in (select rid from _dup_rows where win_rank > 1)"
        ).fetchall()
        con.execute("drop table _dup_rows").fetchall()
        con.unregister("_run_files")
        for f in run_files:
            d = int(dup_counts.get(f.file_id, 0))
            if d:
                f.rows_duplicate, f.rows_loaded = d, f.rows_loaded - d


def _work_path(db_path: Path) -> Path:
    return db_path.with_name(f".{db_path.name}.loading-{os.getpid()}")


def _remove_db_files(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)


def _findings_stale(con: duckdb.DuckDBPyConnection, policy: Policy) -> bool:
    """True when some control's stored findings for the current default as-of date are missing or
    were computed from other SQL or another policy."""
    from compliance.controls import default_as_of, select_controls

    try:
        as_of = default_as_of(con)
        return len(fresh_controls(con, policy, as_of)) < len(select_controls())
    except ValueError:  # nothing dated, so nothing to evaluate; or a query file that does not parse
        # (QueryError), which store_findings reports when the load has something to publish
        return False


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
) -> IngestSummary:
    """Load export folders (oldest first) into the database at `db_path`, publishing it atomically.

    With `findings`, every control is then evaluated as of the data's newest date and its findings
    stored in the database (compliance.stored_findings), so readers open it with results ready; a
    run with nothing new still refreshes findings whose query or policy changed since they were stored.
    `before_publish` is a test hook called with the private working copy just before the rename.
    """
    started = datetime.now(UTC).replace(tzinfo=None)
    exports = [Path(e) for e in exports]
    db_path = Path(db_path)
    policy = policy or load_policy()
    files, missing, ignored = discover(exports)
    summary = IngestSummary(db_path, None, False, missing_sources=missing, ignored_files=ignored)

    db_path.parent.mkdir(parents=True, exist_ok=True)
    work = _work_path(db_path)
    _remove_db_files(work)
    if db_path.exists():
        shutil.copyfile(db_path, work)
    con = duckdb.connect(str(work))
    try:
        # GLOBAL: the parallel loaders' cursors start from global settings, not from this connection's.
        con.execute("set global TimeZone = 'UTC'").fetchall()
        con.execute("set enable_progress_bar = false").fetchall()  # the CLI draws its own
        if memory_limit:
            con.execute(f"set memory_limit = '{memory_limit}'").fetchall()
        if threads:
            con.execute(f"set threads = {int(threads)}").fetchall()
        schema_changed = create_tables(con)  # an older database gains new columns: publish it
        # No explicit transaction: the copy is private until published and is discarded on any failure,
        # and one giant transaction made the final commit rewrite what the bulk inserts had already written.
        last = con.execute("select coalesce(max(run_id), 0), arg_max(policy_digest, run_id) from load_runs").fetchall()[
            0
        ]
        run_id, previous_digest = int(last[0]) + 1, last[1]
        summary.run_id = run_id
        policy_changed = previous_digest != policy.digest
        write_reference_tables(con, policy)
        had_rows = {s.table: con.execute(f"select count(*) > 0 from {s.table}").fetchall()[0][0] for s in EVENT_SOURCES}

        loader = _Loader(con, run_id)
        total = sum(len(v) for v in files.values())
        done = 0
        touched: set[str] = set()
        lookups_built = False
        for source in SOURCES:  # reference sources come first (schema.SOURCES order)
            if source.folder not in REFERENCE_FOLDERS and not lookups_built:
                enrich.build_lookups(con)  # enriched sources join these lookups as they load
                lookups_built = True
            paths = files[source.folder]

            def tick(path: Path, folder: str = source.folder) -> None:
                nonlocal done
                if progress:
                    progress(folder, path, done, total)
                done += 1

            results = loader.load_files(source, paths, tick)
            loader.finish_source(source, results)
            loader.deduplicate(source, results)
            loader.write_manifest(source, results)
            summary.files.extend(results)
            if any(r.status == "loaded" for r in results):
                touched.add(source.folder)
        # Vendor log folders (contract 1.10) and the identities that name their principals: compliance.ingest.vendors.
        vendor_files, vendor_touched = load_vendor_exports(
            con, loader, exports, policy, directory_changed="directory" in touched
        )
        summary.files.extend(vendor_files)
        if vendor_touched:
            touched |= {"audit", *vendor_touched}
        if progress:
            progress("", None, total, total)

        findings_stale = findings and _findings_stale(con, policy)
        if not touched and not policy_changed and not findings_stale and not schema_changed:
            con.close()
            _remove_db_files(work)
            summary.seconds = (datetime.now(UTC).replace(tzinfo=None) - started).total_seconds()
            return summary  # nothing new: the published database stays exactly as it was

        # Rows loaded in earlier runs were enriched from the lookups of their time: refresh them when
        # a lookup source or the policy changed.
        if policy_changed or touched & REFERENCE_FOLDERS:
            for s in EVENT_SOURCES:
                if had_rows[s.table]:
                    enrich.rebuild(con, s)
        if "audit" in touched or "directory" in touched or policy_changed:
            enrich.apply_role_changes(con)
        if "dsr" in touched or policy_changed:
            build_dsr_deadlines(con, policy)
        # A few hundred keys whatever the data size: rebuilt on every published load, so a database
        # created before this table existed gets it on its next ingest.
        build_retention_rules(con)
        if findings:
            clock = datetime.now(UTC)
            try:
                summary.findings_as_of = store_findings(con, policy, progress=findings_progress)
            except QueryError as exc:
                raise IngestError(f"cannot evaluate the controls: {exc} (--no-findings loads without them)") from exc
            summary.findings_seconds = (datetime.now(UTC) - clock).total_seconds()
        else:
            clear_findings(con)  # findings of the previous data would otherwise pass for fresh
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
        enrich.drop_lookups(con)
        con.execute("checkpoint").fetchall()
        con.close()
        if before_publish:
            before_publish(work)
        os.replace(work, db_path)  # atomic on POSIX: readers see the old file or the new one
        summary.published = True
    except BaseException:
        try:
            con.close()
        finally:
            _remove_db_files(work)
        raise
    summary.seconds = (datetime.now(UTC).replace(tzinfo=None) - started).total_seconds()
    return summary
