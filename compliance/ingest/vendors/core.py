"""The mapping core shared by the vendor adapters: read a vendor file into events, map, resolve, validate.

One file goes through four temp tables, all in SQL (no per-event Python):

1. `_vlines` (line, raw, is_json): the file's text lines, read by exact path (glob-escaped, bound);
   a file whose first line is not JSON on its own (pretty-printed documents) is read whole instead.
2. `_vevents` (line, elem, ev): envelopes (`{"Records": [...]}`, `{"items": [...]}`, `{"value": [...]}`,
   JSON arrays) unwrapped into one JSON object per event.
3. `_vmapped`: the adapter's SELECT over `_vevents` (one row per audit event; Google fans activities out),
   the columns of `MAPPED_COLUMNS`, with `reject_reason` set where the event cannot be mapped.
4. `_stage`: the contract's audit columns as text, principals resolved to directory actors through
   `identities`, vendor resources named by the data map. The contract's own validation
   (`validate.typed_select` / `reject_select`) then decides what loads, exactly as for `audit/` files.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import duckdb

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
)

JSON_OBJECT_REASON = "event is not a JSON object"


@dataclass(frozen=True)
class Adapter:
    folder: str  # the export folder, and the value of audit_events.log_source
    title: str  # the vendor's product, for messages and docs
    envelopes: tuple[str, ...]  # keys of wrapper objects whose array holds the events
    mapping_sql: str  # SELECT over `_vevents` returning MAPPED_COLUMNS


def exact_path(path: Path) -> str:
    """A path DuckDB's readers take literally: they treat names as globs, so escape `*?[`."""
    return glob.escape(str(path))


def extract(fields: dict[str, str], source: str = "ev", *, as_json: bool = False) -> str:
    """SELECT list of named fields pulled from one JSON column with a single parse (a list of paths)."""
    fn = "json_extract" if as_json else "json_extract_string"
    paths = ", ".join("'" + p.replace("'", "''") + "'" for p in fields.values())
    pulled = f"{fn}({source}, [{paths}])"
    return ", ".join(f'{pulled}[{i}] as "{name}"' for i, name in enumerate(fields, start=1))


def _read_lines(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """`_vlines`: the file's non-blank text lines with their number; documents spanning lines read whole."""
    con.execute(
        """create or replace temp table _vlines as
           select line, raw, json_valid(raw) as is_json
           from (select ordinality as line, raw
                 from read_csv($path, columns={'raw': 'VARCHAR'}, header=false, delim=E'\\x1f', quote='',
                               escape='', auto_detect=false, max_line_size=268435456) with ordinality)
           where raw is not null and trim(raw) <> ''""",
        {"path": exact_path(path)},
    ).fetchall()
    first = con.execute("select is_json from _vlines order by line limit 1").fetchall()
    if first and not first[0][0]:
        # Pretty-printed JSON (an API page saved as-is): values span lines, so the document is read whole.
        con.execute(
            """create or replace temp table _vlines as
               select null::bigint as line, cast(json as varchar) as raw, true as is_json
               from read_json_objects($path, format='unstructured', maximum_object_size=268435456)""",
            {"path": exact_path(path)},
        ).fetchall()


def _explode(con: duckdb.DuckDBPyConnection, adapter: Adapter) -> None:
    """`_vevents`: one JSON value per event, envelopes and arrays unwrapped."""
    wrapped = " or ".join(f"json_type(doc, '$.\"{k}\"') = 'ARRAY'" for k in adapter.envelopes) or "false"
    inner = (
        "coalesce(" + ", ".join(f"json_extract(doc, '$.\"{k}\"')" for k in adapter.envelopes) + ")"
        if adapter.envelopes
        else "null::json"
    )
    con.execute(
        f"""create or replace temp table _vevents as
            with docs as (select line, cast(raw as json) as doc from _vlines where is_json),
            listed as (
                select line,
                       case when json_type(doc) = 'ARRAY' then doc when {wrapped} then {inner} end as arr,
                       doc
                from docs
            )
            select line, 0 as elem, doc as ev from listed where arr is null
            union all
            select line, unnest(generate_series(1, cast(json_array_length(arr) as bigint))) as elem,
                   unnest(json_extract(arr, '$[*]')) as ev
            from listed where arr is not null"""
    ).fetchall()


def _resolved_sql(list_col: str) -> str:
    """Per mapped row: the directory actor named by `list_col`: an identity mapping first, then a directory
    actor id equal to one of the names, each in the adapter's order of preference; NULL when none."""
    return f"""(
        select k.seq, min_by(coalesce(i.actor_id, d.actor_id), (i.actor_id is null, k.pos)) as actor_id
        from (select seq, unnest({list_col}) as name, unnest(generate_series(1, cast(len({list_col}) as bigint))) as pos
              from _vmapped where len({list_col}) > 0) k
        left join _videntities i on i.identity = lower(k.name)
        left join directory_accounts d on d.actor_id = k.name
        where i.actor_id is not null or d.actor_id is not null
        group by k.seq
    )"""


def _stage(con: duckdb.DuckDBPyConnection, adapter: Adapter) -> None:
    """`_stage` for validate.typed_select: `_line` is the mapped row's `seq`, every audit column as text."""
    folder = adapter.folder.replace("'", "''")
    columns = {
        # The vendor's id where it has one, made unique across vendors, plus a digest of the event itself:
        # re-delivered events de-duplicate, while two different events under one id both load.
        "event_id": f"'{folder}:' || coalesce(m.vendor_id || ':', '') || substr(md5(cast(m.raw as varchar)), 1, 16)",
        "occurred_at": "m.occurred_at",
        "actor_id": "coalesce(a.actor_id, m.principals[1])",
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
        "target_actor_id": "coalesce(t.actor_id, m.target_principals[1])",
        "role": "m.role",
        "user_agent": "m.user_agent",
        "details": "m.raw",
    }
    assert tuple(columns) == AUDIT.column_names
    kept = {c.name for c in AUDIT.columns if c.type in ("VARCHAR[]", "JSON")}  # the reader's types, as for audit/
    select = ", ".join(
        f'{expr} as "{name}"' if name in kept else f'cast({expr} as varchar) as "{name}"'
        for name, expr in columns.items()
    )
    con.execute(
        f"""create or replace temp table _stage as
            with matched_resources as (
                select m.seq, arg_max(p, len(p.pattern)) as r
                from _vmapped m join _vresources p on p.source = '{folder}' and m.resource_name glob p.pattern
                group by m.seq
            )
            select 0 as _file_index, m.seq as _line, false as _unparseable, {select}
            from _vmapped m
            left join {_resolved_sql("principals")} a on a.seq = m.seq
            left join {_resolved_sql("target_principals")} t on t.seq = m.seq
            left join directory_accounts d on d.actor_id = coalesce(a.actor_id, m.principals[1])
            left join (select seq, unnest(r) from matched_resources) r on r.seq = m.seq
            left join _vcountry_names cn on cn.name = lower(m.geo_country_name)
            where m.reject_reason is null"""
    ).fetchall()


def map_file(con: duckdb.DuckDBPyConnection, adapter: Adapter, path: Path) -> None:
    """Read and map one vendor file into `_stage` (mappable events) and `_vmapped` (all events)."""
    _read_lines(con, path)
    _explode(con, adapter)
    con.execute(
        f"""create or replace temp table _vmapped as
            with mapped as ({adapter.mapping_sql})
            select row_number() over (order by line nulls first, elem) as seq, *
            from (select * replace (coalesce(reject_reason, case when json_type(raw) <> 'OBJECT'
                                    then '{JSON_OBJECT_REASON}' end) as reject_reason) from mapped)"""
    ).fetchall()
    _stage(con, adapter)
