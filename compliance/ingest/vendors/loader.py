"""Load the vendor folders of export bundles into `audit_events`, with the bookkeeping of every other source.

Per file: SHA-256 in the manifest (a file seen before is skipped), mapped events through the contract's
validation into `audit_events` (with `log_source` = the folder), every event that cannot load into
`rejects` with its reason and raw text, then de-duplication on `event_id` (the newest export wins). A
file that cannot be read at all is one reject naming it, and the rest of the load goes on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from compliance.ingest import enrich
from compliance.ingest.readers import is_gzip
from compliance.ingest.validate import reject_select, typed_select, window_params
from compliance.ingest.vendors import cloudtrail, entra, google_workspace, ocsf, okta
from compliance.ingest.vendors.core import (
    FILE_ERRORS,
    LINE_SPAN,
    Adapter,
    exact_path,
    keep_lines,
    map_files,
    materialize_stage,
    remap_file,
    text_bytes,
)
from compliance.schema import AUDIT, Source

if TYPE_CHECKING:
    from compliance.config.bundle import Policy
    from compliance.ingest.load import FileResult, _Loader

ADAPTERS: tuple[Adapter, ...] = (
    cloudtrail.ADAPTER,
    okta.ADAPTER,
    google_workspace.ADAPTER,
    entra.ADAPTER,
    ocsf.ADAPTER,
)
IDENTITIES_FOLDER = "identities"
VENDOR_FOLDERS = tuple(a.folder for a in ADAPTERS)


def vendor_source(adapter: Adapter) -> Source:
    """The audit source under the vendor's folder name: same table, key and columns."""
    return dataclasses.replace(AUDIT, folder=adapter.folder, required=False, description=adapter.title)


VENDOR_SOURCES: tuple[Source, ...] = tuple(vendor_source(a) for a in ADAPTERS)


# What each extra folder takes: vendor logs are JSON (arrays, envelopes or JSON Lines); identities a CSV.
EXTRA_FOLDER_KINDS: dict[str, tuple[str, ...]] = {IDENTITIES_FOLDER: ("csv",)} | {
    a.folder: ("jsonl",) for a in ADAPTERS
}


def write_lookups(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """The small tables the mapping joins: vendor resources of the data map, country names."""
    import pycountry

    rows = [
        {
            "source": vr.source,
            "pattern": vr.match,
            "system_id": system.id,
            "store_id": store.id,
            "resource_type": store.resource_types[0] if store.resource_types else None,
            "categories": list(store.data_categories),
        }
        for system in policy.data_map.systems
        for store in system.stores
        for vr in store.vendor_resources
    ]
    schema = {
        "source": pl.String,
        "pattern": pl.String,
        "system_id": pl.String,
        "store_id": pl.String,
        "resource_type": pl.String,
        "categories": pl.List(pl.String),
    }
    names: dict[str, str] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if value := getattr(c, attr, None):
                names.setdefault(value.lower(), c.alpha_2)
    countries = pl.DataFrame(
        {"name": list(names), "alpha2": list(names.values())}, schema={"name": pl.String, "alpha2": pl.String}
    )
    vendor_roles = pl.DataFrame(
        [{"pattern": v.lower(), "role": r.id} for r in policy.roles.roles for v in r.vendor_roles],
        schema={"pattern": pl.String, "role": pl.String},
    )
    # ref_vendor_resources stays (the data map's naming of vendor resources); the other lookups are private.
    for name, frame, kind in (
        ("ref_vendor_resources", pl.DataFrame(rows, schema=schema), "table"),
        ("_vcountry_names", countries, "temp table"),
        ("_vroles", vendor_roles, "temp table"),
    ):
        con.register("_frame", frame.to_arrow())
        con.execute(f"create or replace {kind} {name} as select * from _frame").fetchall()
        con.unregister("_frame")
    con.execute("create or replace temp view _vresources as select * from ref_vendor_resources").fetchall()


IDENTITIES_DDL = """create table if not exists identities (
    identity VARCHAR, actor_id VARCHAR, source_file_id VARCHAR, source_line BIGINT, load_seq BIGINT
)"""


# The mapped events as the contract's validation reads a stage: every field as text, one row per event.
# `_dup` names the keys an event gives twice (core.duplicate_keys_sql); an event the mapping cannot map
# (`_reason`) is invalid too. `_line` is the mapped row's `_at` (file index * LINE_SPAN + physical line).
def _vendor_stage(stage: str) -> str:
    return (
        "select *, _at as _line, _reason is not null as _unparseable, cast(null as varchar) as _shape"
        f" from ({stage}) _mapped"
    )


# The same over the table `_stage` (core.materialize_stage) of the lines mapped again to say why their
# events cannot load: the events the mapping could map, `_line` the row's number there.
VENDOR_STAGE = (
    "select _file_index, _line, false as _unparseable, cast(null as varchar) as _shape,"
    " * exclude (_file_index, _line) from _stage where _reason is null"
)


def _insert_rejects(
    con: duckdb.DuckDBPyConnection,
    files: list[FileResult],
    run_id: int,
    select: str,
    params: dict[str, object] | None = None,
) -> int:
    """Insert rejects (fidx, line, field, reason, raw) of files of one source, each under its file (`fidx`
    its index in `files`); returns how many."""
    n = con.execute(
        f"""insert into rejects select $run, $source, $file_ids[fidx + 1], $paths[fidx + 1], line, field, reason, raw
            from ({select})""",
        {
            "run": run_id,
            "source": files[0].source,
            "file_ids": [f.file_id for f in files],
            "paths": [str(f.path) for f in files],
            **(params or {}),
        },
    ).fetchall()
    return int(n[0][0]) if n else 0


def _reject_whole_file(
    con: duckdb.DuckDBPyConnection,
    f: FileResult,
    run_id: int,
    reason: str,
    line: int | None = None,
    field: str | None = None,
) -> None:
    """One reject standing for a file that cannot be read (its name and the reader's message, bound)."""
    con.execute(
        "insert into rejects values ($run, $source, $file_id, $path, $line, $field, $reason, null)",
        {
            "run": run_id,
            "source": f.source,
            "file_id": f.file_id,
            "path": str(f.path),
            "line": line,
            "field": field,
            "reason": reason,
        },
    ).fetchall()
    f.rows_read = f.rows_rejected = 1


def _load_identities_file(con: duckdb.DuckDBPyConnection, f: FileResult, run_id: int) -> None:
    """Rows `identity, actor_id` of one CSV into `identities`; rows missing either are rejects."""
    try:
        con.execute(
            """create or replace temp table _vid as
               select ordinality + 1 as line, * from read_csv($path, header=true, all_varchar=true,
                   auto_detect=true) with ordinality""",
            {"path": exact_path(f.path)},
        ).fetchall()
        present = {r[0] for r in con.execute("select column_name from (describe _vid)").fetchall()}
    except FILE_ERRORS as exc:
        _reject_whole_file(con, f, run_id, "file cannot be read as CSV: " + str(exc).splitlines()[0])
        return
    missing = [c for c in ("identity", "actor_id") if c not in present]
    if missing:
        why = f"header lacks column(s) {', '.join(missing)} (expected identity, actor_id)"
        _reject_whole_file(con, f, run_id, why, line=1, field=missing[0])
        return
    f.rows_rejected = _insert_rejects(
        con,
        [f],
        run_id,
        """select 0 as fidx, line, case when nullif(trim(identity), '') is null then 'identity' else 'actor_id' end as field,
                  case when nullif(trim(identity), '') is null then 'field identity: missing required value'
                       else 'field actor_id: missing required value' end as reason,
                  concat_ws(',', identity, actor_id) as raw
           from _vid where nullif(trim(identity), '') is null or nullif(trim(actor_id), '') is null""",
    )
    rows = con.execute(
        """insert into identities
           select trim(identity), trim(actor_id), $file_id, line, $seq from _vid
           where nullif(trim(identity), '') is not null and nullif(trim(actor_id), '') is not null""",
        {"file_id": f.file_id, "seq": f.load_seq},
    ).fetchall()
    f.rows_loaded = int(rows[0][0]) if rows else 0
    f.rows_read = f.rows_loaded + f.rows_rejected


def _identities_view(con: duckdb.DuckDBPyConnection) -> None:
    """`_videntities`: one actor per vendor name (case-insensitive); the newest file and line win."""
    con.execute(
        """create or replace temp view _videntities as
           select lower(identity) as identity, arg_max(actor_id, (load_seq, source_line)) as actor_id
           from identities group by lower(identity)"""
    ).fetchall()


def _load_vendor_files(
    con: duckdb.DuckDBPyConnection,
    adapter: Adapter,
    files: list[FileResult],
    run_id: int,
    window: tuple[object, object],
) -> None:
    """Map a batch of vendor files and insert their events, each under its file and line: everything that
    cannot load becomes a reject (timestamps outside the load's plausible `window` too, as for the
    contract's own sources); a file that cannot be read at all is one reject naming it."""
    failed, (stage, stage_params) = map_files(con, adapter, [f.path for f in files])
    for i, why in failed.items():
        _reject_whole_file(con, files[i], run_id, f"file cannot be read as {adapter.title} JSON: " + why)
    ids = {"file_ids": [f.file_id for f in files]}
    _insert_rejects(
        con,
        files,
        run_id,
        "select fidx, line, null as field, coalesce(problem, 'unparseable line: not valid JSON') as reason, raw"
        " from _vlines where doc is null",
    )
    # Every mapped event goes in, mapped once, an invalid one (the mapping's or the contract's reason) under
    # `<id>#rejected`: only a batch that has invalid events maps their lines again to say why (the rare path).
    relation = f"({typed_select(AUDIT, _vendor_stage(stage))})"
    file_expr = "$file_ids[t._file_index + 1] || case when t._valid then '' else '#rejected' end"
    select = enrich.enriched_select(
        AUDIT, relation, file_expr, f"nullif(t._line % {LINE_SPAN}, 0)", log_source_expr="$log_source"
    )
    con.execute(
        f"insert into {AUDIT.table} by name {select}",
        {**ids, **stage_params, "log_source": adapter.folder, **window_params(select, *window)},
    ).fetchall()
    rejected = {"rejected": [f.file_id + "#rejected" for f in files]}
    if con.execute(
        f"select count(*) from {AUDIT.table} where source_file_id in (select unnest($rejected))", rejected
    ).fetchall()[0][0]:
        _explain_rejected(con, adapter, files, run_id, window, (stage, stage_params))
        con.execute(
            f"delete from {AUDIT.table} where source_file_id in (select unnest($rejected))", rejected
        ).fetchall()
    loaded = {
        r[0]: (int(r[1]), r[2])
        for r in con.execute(
            f"""select source_file_id, count(*), max(occurred_at) from {AUDIT.table}
                where source_file_id in (select unnest($file_ids)) group by 1""",
            ids,
        ).fetchall()
    }
    rejected_now = dict(
        con.execute(
            "select file_id, count(*) from rejects where run_id = $run and file_id in (select unnest($file_ids)) group by 1",
            {"run": run_id, **ids},
        ).fetchall()
    )
    for i, f in enumerate(files):
        if i in failed:
            continue
        f.rows_loaded, f.newest_event_at = loaded.get(f.file_id, (0, None))
        f.rows_rejected = int(rejected_now.get(f.file_id, 0))
        f.rows_read = f.rows_loaded + f.rows_rejected


def _explain_rejected(
    con: duckdb.DuckDBPyConnection,
    adapter: Adapter,
    files: list[FileResult],
    run_id: int,
    window: tuple[object, object],
    stage: tuple[str, dict[str, object]],
) -> None:
    """Rejects for the events inserted under `<id>#rejected`: their lines are mapped again into `_stage`,
    each event that cannot load gets the mapping's reason, or the contract's (judged on its text)."""
    keep_lines(
        con,
        adapter,
        f"""select list_position($rejected, source_file_id) - 1 as fidx, coalesce(source_line, 0) as line
            from {AUDIT.table} where source_file_id in (select unnest($rejected))""",
        {"rejected": [f.file_id + "#rejected" for f in files]},
    )
    materialize_stage(con, stage)
    _insert_rejects(
        con,
        files,
        run_id,
        "select _file_index as fidx, _phys_line as line, null as field, _reason as reason,"
        " cast(details as varchar) as raw from _stage where _reason is not null",
    )
    checks = reject_select(AUDIT, VENDOR_STAGE)
    _insert_rejects(
        con,
        files,
        run_id,
        f"""select s._file_index as fidx, s._phys_line as line, c._reject_field as field,
                   c._reject_reason as reason, cast(s.details as varchar) as raw
            from ({checks}) c join _stage s on s._line = c._line where s._reason is null""",
        window_params(checks, *window),
    )


# Files of a folder mapped in one batch, up to this many bytes of text: one statement per step for many files
# (CloudTrail delivers thousands of small ones), memory still bounded.
BATCH_BYTES = 512 * 1024 * 1024
GZIP_RATIO = 10  # a gzip file's text at the least, against its size (ISIZE says more for one member)


def _batch_bytes(path: Path) -> int:
    """The text a file adds to a batch: its size; for gzip, its ISIZE trailer (CloudTrail's S3 files inflate
    21x, where a fixed 10x made batches twice the intended size), at least 10x its size (ISIZE counts the last
    member only); 0 for a file gone since it was listed (the reader names it)."""
    try:
        size = path.stat().st_size
    except OSError:
        return 0
    if not is_gzip(path):
        return size
    return max(text_bytes(path) or 0, GZIP_RATIO * size)


def _batches(files: list[FileResult]) -> list[list[FileResult]]:
    out: list[list[FileResult]] = []
    size = BATCH_BYTES
    for f in files:
        n = _batch_bytes(f.path)
        if size + n > BATCH_BYTES:
            out.append([])
            size = 0
        out[-1].append(f)
        size += n
    return out


# The columns of a stored vendor event that the policy, identities/ or the directory decide (the rest is
# the vendor's own text): a re-mapping from `details` updates these.
REMAPPED_COLUMNS = ("actor_id", "actor_type", "target_actor_id", "role", "system", "resource_type", "data_categories")


def remap_stored(con: duckdb.DuckDBPyConnection, adapter: Adapter, loaded_now: list[str] | None = None) -> int:
    """Map a vendor's stored events again from the vendor events kept in `details` (identities, the
    directory or the policy changed: roles.yaml `vendor_roles`, the data map's `vendor_resources`) and
    update the columns they decide; returns the rows changed. Events of the files `loaded_now` (this
    run's) were mapped with today's lookups already.

    Each stored event is one mapped row; it is matched back by its position, not by a re-derived event id
    (a Google activity's second event is stored alone in `details`, so its position would change the id)."""
    stored = "from audit_events where log_source = $folder and source_file_id not in (select unnest($now))"
    params = {"folder": adapter.folder, "now": loaded_now or []}
    # Asked first on the two narrow columns: the copy below reads every stored event's `details`.
    if not con.execute(f"select exists (select 1 {stored})", params).fetchall()[0][0]:
        return 0
    con.execute(
        f"create or replace temp table _vstored as select row_number() over () as line, event_id, details {stored}",
        params,
    ).fetchall()
    con.execute(
        """create or replace temp table _vlines as
           select 0::bigint as fidx, line, null::bigint as elem, details as doc, null::varchar as raw,
                  null::varchar as problem, null::bigint as bytes
           from _vstored"""
    ).fetchall()
    if not con.execute("select count(*) from _vlines").fetchall()[0][0]:
        return 0
    stage, stage_params = remap_file(con, adapter)
    changed = " or ".join(f'e."{c}" is distinct from s."{c}"' for c in REMAPPED_COLUMNS)
    assignments = ", ".join(f'"{c}" = s."{c}"' for c in REMAPPED_COLUMNS)
    rows = con.execute(
        f"""update audit_events as e
            set {assignments}
            from (select k.event_id, m.* from ({stage}) m join _vstored k on k.line = m._phys_line
                  where m._reason is null) as s
            where e.log_source = $folder and e.event_id = s.event_id and ({changed})""",
        {**stage_params, "folder": adapter.folder},
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _drop_work_tables(con: duckdb.DuckDBPyConnection) -> None:
    for name in (
        "_vlines",
        "_vstored",
        "_stage",
        "_vid",
        "_vcountry_names",
        "_vnames",
        "_vroles",
        "_vunwrapped",
        "_vmarks",
    ):
        con.execute(f"drop table if exists {name}").fetchall()
    for name in ("_vmapped", "_vevents", "_vresources", "_videntities"):
        con.execute(f"drop view if exists {name}").fetchall()


def load_vendor_exports(
    con: duckdb.DuckDBPyConnection,
    loader: _Loader,
    files_by_folder: Mapping[str, list[Path]],
    policy: Policy,
    progress: Callable[[str, Path], None] | None = None,
    *,
    directory_changed: bool = False,
    policy_changed: bool = False,
) -> tuple[list[FileResult], set[str]]:
    """Load the `identities/` and vendor-folder files that `load.discover` listed (exact paths, oldest export
    first); (file results, folders with new files).

    When identities, the directory or the policy changed in this run, vendor events of earlier runs are
    mapped again (principals, matrix roles, data-map stores)."""
    from compliance.ingest.load import _file_id

    con.execute(IDENTITIES_DDL).fetchall()
    write_lookups(con, policy)
    results: list[FileResult] = []
    touched: set[str] = set()
    id_source = dataclasses.replace(AUDIT, folder=IDENTITIES_FOLDER, table="identities", required=False)
    batches: list[tuple[Source, Adapter | None, list[Path]]] = [(id_source, None, files_by_folder[IDENTITIES_FOLDER])]
    batches += [(s, a, files_by_folder[a.folder]) for s, a in zip(VENDOR_SOURCES, ADAPTERS, strict=True)]
    try:
        for source, adapter, paths in batches:
            files = []
            for path in paths:
                if progress:
                    progress(source.folder, path)
                f = loader._register(source, path, _file_id(path))
                files.append(f)
                if f.status == "loaded" and adapter is None:
                    _load_identities_file(con, f, loader.run_id)
            if adapter is not None:
                _identities_view(con)
                for batch in _batches([f for f in files if f.status == "loaded"]):
                    _load_vendor_files(con, adapter, batch, loader.run_id, loader.window)
                loader.deduplicate(source, files)
            loader.write_manifest(source, files)
            loader.log_failed(source, files)  # a file that cannot be read is named; the others load
            results.extend(files)
            if any(f.status == "loaded" for f in files):
                touched.add(source.folder)
        if directory_changed or policy_changed or IDENTITIES_FOLDER in touched:
            _identities_view(con)
            loaded_now = [f.file_id for f in results if f.status == "loaded"]
            for adapter in ADAPTERS:
                remap_stored(con, adapter, loaded_now)
    finally:
        _drop_work_tables(con)
    return results, touched
