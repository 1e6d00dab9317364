"""Enrichment every control needs, computed once at ingest (docs/database.md).

The same SELECT serves two paths: rows of a newly staged file on their way in, and a full rebuild of
a table when what they are enriched from (directory, subjects, DSR register, tenants, policy) changed.
"""

from __future__ import annotations

import zlib
from datetime import date
from pathlib import Path

import duckdb

from compliance.ingest.readers import open_text_bytes
from compliance.ingest.tables import table_columns
from compliance.schema import AUDIT, DIAGNOSTIC, INVENTORY, USAGE, Source


def build_lookups(con: duckdb.DuckDBPyConnection, *, subjects_changed: bool = True) -> None:
    """Small lookup tables the enrichment joins: run after the reference sources of a load.

    Plain tables, not temp ones: the parallel JSON Lines loaders work on their own cursors, which do not
    see the loading connection's temp tables. `drop_lookups` removes the private ones before publishing.
    `subject_jurisdictions` is rebuilt only when `subjects_changed` (what it is computed from may differ) or
    the database lacks it: it reads every subject (100M events: about 1 s of a daily load).
    """
    if subjects_changed or not _table_exists(con, "subject_jurisdictions"):
        _build_subject_jurisdictions(con)
    con.execute(
        """
        create or replace table _resource_categories as
        select resource_type, list(distinct data_category order by data_category) as categories
        from ref_resource_types group by resource_type;

        create or replace table _tenant_jurisdictions as
        select t.tenant_id, cj.jurisdiction
        from tenants t join ref_country_jurisdictions cj on cj.country = t.country;
        """
    ).fetchall()
    # The lists the data map gives (and the empty one) get their keys before events load, so only events whose
    # exporter sent a list not seen before are keyed after their insert (assign_category_keys).
    _register_category_lists(con, "select categories from _resource_categories union all select []::varchar[]")
    # Each resource type's list with its key: an event without a list of its own takes both from this one join,
    # so only the events that give a list look it up by value (hashing a list costs more than the rest).
    con.execute(
        """create or replace table _resource_categories as
           select rc.resource_type, rc.categories, l.categories_key
           from _resource_categories rc join audit_category_lists l on l.categories = rc.categories"""
    ).fetchall()
    _register_raw_lists(con)


# What `subject_jurisdictions` is computed from, besides the policy's ref_country_jurisdictions.
SUBJECT_FOLDERS = frozenset({"subjects", "dsr", "tenants"})


def _build_subject_jurisdictions(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create or replace table subject_jurisdictions as
        with candidates as (
            select subject_id, jurisdiction, 1 as priority, 'subjects' as basis
            from subjects where jurisdiction is not null
            union all
            select subject_id, jurisdiction, 2, 'dsr register'
            from (select subject_id, jurisdiction,
                         row_number() over (partition by subject_id order by received_at desc, request_id) as n
                  from dsr_requests) where n = 1
            union all
            select s.subject_id, cj.jurisdiction, 3, 'subject country'
            from subjects s join ref_country_jurisdictions cj on cj.country = s.country
            union all
            select s.subject_id, cj.jurisdiction, 4, 'tenant country'
            from subjects s join tenants t on t.tenant_id = s.tenant_id
            join ref_country_jurisdictions cj on cj.country = t.country
        ),
        ranked as (
            select *, row_number() over (partition by subject_id order by priority) as n from candidates
        )
        select subject_id, jurisdiction, basis from ranked where n = 1;
        """
    ).fetchall()


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    found = con.execute(
        "select count(*) from duckdb_tables()"
        " where database_name = current_database() and schema_name = 'main' and table_name = $t",
        {"t": table},
    ).fetchall()
    return bool(found[0][0])


def _register_category_lists(
    con: duckdb.DuckDBPyConnection, lists_sql: str, params: dict[str, object] | None = None
) -> None:
    """Give each list of `lists_sql` (one `categories` column) that `audit_category_lists` lacks the next free key.

    Append-only: a key, once given, names its list for good, so keys stored with events stay valid."""
    con.execute(
        f"""insert into audit_category_lists
            select coalesce((select max(categories_key) from audit_category_lists), 0)
                   + row_number() over (order by categories), categories
            from (select distinct categories from ({lists_sql}) s where categories is not null) n
            where not exists (select 1 from audit_category_lists l where l.categories = n.categories)""",
        params or {},
    ).fetchall()


SAMPLED_FILES, SAMPLED_LINES = 8, 20_000


def register_sampled_lists(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    """Key, before the audit events load, the category lists given in the first lines of some of their files.

    Events whose exporter gives a list new to the database are inserted without its key, and
    `assign_category_keys` rewrites them after the load: an update that touches nearly every stored vector once
    those events are spread over the year, whether they are 2.8M of 9.7M events (a first load of 10M: 1.5 s) or
    46,000 (1.4 s). Exporters repeat a few lists: the first 20,000 lines of 8 files spread over the load
    (160,000 lines) hold all but the rarest. They are read here, line by line (DuckDB's reader inflated a whole
    gzip file before its limit applied: 0.12 s a file at 100M events, 1.0 s in all). Each list is put in the form
    the enrichment keys (`_given_list`), and each form sent goes into the enrichment's first look-up beside that
    form's key (`_register_raw_lists`). A file the sample cannot read is left to the load, which names it; the
    lists the sample missed are keyed after the load as before. What the sample reads changes no key: a list maps
    to its normal form whatever line it came from."""
    step = max(1, len(paths) // SAMPLED_FILES)
    con.execute("create or replace temp table _sampled_lists (raw varchar[])").fetchall()
    for path in paths[::step][:SAMPLED_FILES]:
        lines = _first_lines(path, SAMPLED_LINES)
        if not lines:
            continue
        try:
            # (a line that is not JSON, or whose field is not a list of strings, gives no list)
            con.execute(
                """insert into _sampled_lists
                   select distinct try_cast(json_extract(l.line, '$.data_categories') as varchar[])
                   from (select unnest($lines) as line) as l
                   where json_valid(l.line)""",
                {"lines": lines},
            ).fetchall()
        except duckdb.Error:
            continue  # a sample only: the load reads the file and names what is wrong with it
    _register_category_lists(con, _normal_forms("select raw from _sampled_lists"))
    _register_raw_lists(con, "select raw from _sampled_lists")
    con.execute("drop table _sampled_lists").fetchall()


_SAMPLED_LINE_BYTES = 1 << 20


def _first_lines(path: Path, count: int) -> list[str]:
    """The first `count` lines of a JSON Lines file (inflated when named .gz), as text, up to the first line longer
    than `_SAMPLED_LINE_BYTES` (never read whole); none when the file cannot be read (the load names it)."""
    lines: list[str] = []
    try:
        with open_text_bytes(path) as f:
            while len(lines) < count:
                line = f.readline(_SAMPLED_LINE_BYTES)
                if not line or (len(line) == _SAMPLED_LINE_BYTES and not line.endswith(b"\n")):
                    break
                lines.append(line.decode("utf-8", "replace"))
    except (OSError, EOFError, zlib.error):
        return []
    return lines


def _normal_forms(raw_sql: str) -> str:
    """Each list of `raw_sql` (`raw`) beside its normal form (`categories`: `_given_list`, NULL for one without a
    category). A list with a value starting `[` or `{` is left out: it may hide a nested list or object, which
    only a careful read can tell from text (`suspect_list_sql`), so it is never keyed or looked up before one."""
    return f"""select t.raw, {_given_list("t")} as categories
               from (select s.raw, s.raw as data_categories, list_sort(s.raw) as _sorted from ({raw_sql}) s
                     where not {_suspect_values("s.raw")}) t"""


def _register_raw_lists(con: duckdb.DuckDBPyConnection, raw_sql: str = "") -> None:
    """(Re)build `_raw_category_lists`, the enrichment's first look-up (`_with_categories`): each keyed list, and
    each list of `raw_sql` (`raw`, as an exporter sent it), beside its normal form and that form's key."""
    sent = f"union select raw from ({raw_sql}) s" if raw_sql else ""
    lists = f"select categories as raw from audit_category_lists {sent}"
    con.execute(
        f"""create or replace table _raw_category_lists as
            select r.raw, l.categories, l.categories_key
            from ({_normal_forms(lists)}) r
            join audit_category_lists l on l.categories = r.categories"""
    ).fetchall()


def assign_category_keys(con: duckdb.DuckDBPyConnection) -> int:
    """Key the audit events whose category list had no key when they were enriched; returns rows keyed.

    The enrichment looks each list up in `audit_category_lists`; a list it did not find (sent by an exporter,
    new to the database) is registered here, after the load's inserts, so parallel loaders never hand out keys."""
    _register_category_lists(con, "select categories from audit_events where categories_key is null")
    rows = con.execute(
        """update audit_events as e set categories_key = l.categories_key
           from audit_category_lists as l
           where e.categories_key is null and l.categories = e.categories"""
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def drop_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the private lookups (rebuilt by every load). `subject_jurisdictions` stays: it records
    each subject's jurisdiction and where it came from (docs/database.md)."""
    for table in ("_resource_categories", "_tenant_jurisdictions", "_raw_category_lists"):
        con.execute(f"drop table if exists {table}").fetchall()


def _enrichment(source: Source) -> tuple[list[str], str]:
    """(select expressions for the enrichment columns, joins) against a relation aliased `t`."""
    if source is AUDIT:
        return (
            [
                "t._categories as categories",
                "(t._given_categories is null and t._rc_categories is not null) as categories_derived",
                # NULL for a list new to the database: assign_category_keys keys it after the load's inserts
                "case when t._given_categories is not null then coalesce(t._found_key, cl.categories_key)"
                f" else coalesce(t._rc_key, ({_EMPTY_LIST_KEY})) end"
                " as categories_key",
                "cast(t.occurred_at as date) as event_date",
                "case when t.actor_type = 'customer_user' then 'customer_user' else d.role end as actor_role",
                "coalesce(d.timezone, 'UTC') as actor_timezone",
                "coalesce(sj.jurisdiction, tj.jurisdiction) as subject_jurisdiction",
            ],
            # Only a list not found as sent is looked up by its normal form (a NULL probes nothing).
            """left join audit_category_lists cl on cl.categories = t._unkeyed_categories
               left join directory_accounts d on d.actor_id = t.actor_id
               left join subject_jurisdictions sj on sj.subject_id = t.subject_id
               left join _tenant_jurisdictions tj on tj.tenant_id = t.tenant_id""",
        )
    if source is USAGE:
        return (
            ["coalesce(sj.jurisdiction, cj.jurisdiction, tj.jurisdiction) as subject_jurisdiction"],
            """left join subject_jurisdictions sj on sj.subject_id = t.user_id
               left join ref_country_jurisdictions cj on cj.country = t.country
               left join _tenant_jurisdictions tj on tj.tenant_id = t.tenant_id""",
        )
    if source is INVENTORY:
        return (
            ["coalesce(sj.jurisdiction, tj.jurisdiction) as subject_jurisdiction"],
            """left join subject_jurisdictions sj on sj.subject_id = t.subject_id
               left join _tenant_jurisdictions tj on tj.tenant_id = t.tenant_id""",
        )
    if source is DIAGNOSTIC:
        # A log line has no id in the contract: its content hash is its evidence id and de-duplication key.
        return ([f"{diagnostic_line_id('t')} as line_id"], "")
    return ([], "")


def diagnostic_line_id(alias: str) -> str:
    """The id of the diagnostic line of `alias`: the first 20 hex digits of the md5 of its fields
    (schema.DIAGNOSTIC.key: every field, in contract order), each written `S<bytes>:<text>`, or `N` for a missing
    one. The length prefix makes the form one no other line's fields give, whatever characters they hold (an empty
    field never reaches it: the load reads '' as missing); an auditor can recompute an id from the line in any
    language."""
    fields = [f"cast({alias}.{k} as varchar)" for k in DIAGNOSTIC.key]
    written = " || ".join(f"coalesce('S' || strlen({f}) || ':' || {f}, 'N')" for f in fields)
    return f"substr(md5({written}), 1, 20)"


def rehash_diagnostic_line_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Give each stored diagnostic line the id `diagnostic_line_id` gives it (versions before 2026-12-06 hashed
    five of its fields, so lines differing only in the others shared an id and merged), so that a re-delivered
    copy is found as its duplicate; the number of lines whose id changed."""
    new_id = diagnostic_line_id("l")
    changed = con.execute(
        f"update {DIAGNOSTIC.table} as l set line_id = {new_id} where line_id is distinct from {new_id}"
    ).fetchone()
    return int(changed[0]) if changed else 0


# The key of the empty list (registered by build_lookups before any event loads): an uncorrelated subquery, run once.
_EMPTY_LIST_KEY = "select categories_key from audit_category_lists where categories = []::varchar[]"


def _has_given(alias: str) -> str:
    """Whether the event of `alias` sends a category list with any value (it may still hold no category)."""
    return f"({alias}.data_categories is not null and len({alias}.data_categories) > 0)"


def _given_list(alias: str) -> str:
    """The list the event of `alias` gives, in the one form lists are keyed in, from its `_sorted` column
    (`list_sort(data_categories)`); NULL when it gives none: no list, an empty one, or only NULLs and empty
    strings, which name no category, so the event takes the data map's list like one that sends no list."""
    return f"case when {_has_given(alias)} then nullif({_normal_list(alias)}, []::varchar[]) end"


def _normal_list(alias: str) -> str:
    """The form lists are keyed in, from the `_sorted` column of `alias` (`list_sort(data_categories)`)."""
    # duckdb: each key once, sorted, so controls count events per category without a distinct. Sorted first, then
    # each value kept where it differs from the one before it (NULLs and empty strings dropped, as a text field's
    # empty string is an absent value): what list_sort(list_distinct()) gives, without the hash table
    # list_distinct builds per list (1M events: 0.26 against 0.39 CPU s).
    keep = f"v is not null and v <> '' and (i = 1 or v is distinct from {alias}._sorted[i - 1])"
    return f"list_filter({alias}._sorted, lambda v, i: {keep})"


def _suspect_values(list_expr: str) -> str:
    """True when a value of the list `list_expr` (read as text) starts with `[` or `{`: maybe a nested list or
    object cast to its JSON text, maybe a string that looks like one."""
    # A byte-prefix test, like the one of text fields (readers.suspect_text_sql).
    return f"coalesce(list_bool_or(list_transform({list_expr}, lambda v: prefix(v, '[') or prefix(v, '{{'))), false)"


def suspect_list_sql(alias: str) -> str:
    """True when the fast-read audit event of `alias` (`_with_categories`) sends a category list with a value that
    may hide a nested list or object: the file is read again carefully, which rejects such a list
    (validate.typed_select). A list found as sent (`_found_categories`) was checked when it went into the look-up
    (`_normal_forms`), so only the rare list not found is tested."""
    values = _suspect_values(f"{alias}.data_categories")
    return f"({alias}._has_given and {alias}._found_categories is null and {values})"


def _with_categories(relation: str) -> str:
    """Audit events of `relation` with their category list (`_categories`: the list given, else the data map's
    for the resource type, else empty) computed once, for the column and for the join that looks up its key.
    `_given_categories` is the given list in normal form (NULL when it gives none: `_given_list`); `_found_categories` and
    `_found_key` that form and its key when the list as sent is a keyed or sampled one (`_raw_category_lists`);
    `_rc_key` the data map list's key.

    A list is looked up as sent first: exporters repeat a few lists, so most events take their list's normal
    form and key from that one join. Only a list not found is sorted (`_sorted`, NULL otherwise) and looked up
    by its normal form. Sorting every list cost more than the rest of the enrichment (20 files of the 100M
    bundle, 4.6M events, one thread: 24.6-25.7 CPU s against 25.5-27.9 for the whole fast read)."""
    return f"""(select t.*, coalesce(t._given_categories, t._rc_categories, []::varchar[]) as _categories,
                      case when t._found_key is null then t._given_categories end as _unkeyed_categories
               from (select t.*, coalesce(t._found_categories, {_given_list("t")}) as _given_categories
                     from (select t.*, case when t._has_given and t._found_categories is null
                                            then list_sort(t.data_categories) end as _sorted
                           from (select t.*, {_has_given("t")} as _has_given, rl.categories as _found_categories,
                                        rl.categories_key as _found_key,
                                        rc.categories as _rc_categories, rc.categories_key as _rc_key
                                 from {relation} t
                                 left join _raw_category_lists rl on rl.raw = t.data_categories
                                 left join _resource_categories rc on rc.resource_type = t.resource_type) t) t) t)"""


def enriched_select(
    source: Source, relation: str, file_id_expr: str, line_expr: str, *, log_source_expr: str = "'audit'"
) -> str:
    """SELECT producing every column of the source's table from `relation` (contract columns typed).

    `log_source_expr`: the export folder an audit event came from (`audit` or a vendor folder)."""
    exprs, joins = _enrichment(source)
    if source is AUDIT:
        relation = _with_categories(relation)
    contract = [f't."{c.name}"' for c in source.columns]
    cols = [*contract, *exprs, f"{file_id_expr} as source_file_id", f"{line_expr} as source_line"]
    if source is AUDIT:
        cols.append(f"{log_source_expr} as log_source")
    return f"select {', '.join(cols)} from {relation} t {joins}"


def rebuild(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    """Recompute a table's enrichment for every row it holds (after its lookups changed)."""
    if source not in (AUDIT, USAGE, INVENTORY, DIAGNOSTIC):
        return
    names = ", ".join(f'"{n}"' for n, _ in table_columns(source))
    log_source = "coalesce(t.log_source, 'audit')" if source is AUDIT else "'audit'"
    sql = enriched_select(source, source.table, "t.source_file_id", "t.source_line", log_source_expr=log_source)
    con.execute(f"create or replace table _rebuilt as select {names} from ({sql})").fetchall()
    con.execute(f"drop table {source.table}; alter table _rebuilt rename to {source.table}").fetchall()
    # Audit events: the caller keys the lists the changed data map now gives (assign_category_keys), once
    # for the rebuilt rows and the newly loaded ones together.


def apply_role_changes(con: duckdb.DuckDBPyConnection, since: date | None = None) -> int:
    """Set `actor_role` from successful role grants/revokes at or before each event; returns rows changed.

    Grants are rare, so only the events of actors who were granted or revoked a role are touched.
    `since`: only events of that date or later (a daily load's earliest new or replaced event: no grant or
    revoke before it changed, and the directory did not, so an earlier event keeps the role it has).
    duckdb: ASOF join (ingest is DuckDB-only; controls never need it because the role is stored here).
    """
    con.execute(
        """create or replace temp table _role_changes as
           select target_actor_id as actor_id, occurred_at as changed_at,
                  case when action = 'role_grant' then role end as role, outcome = 'success' as took_effect
           from audit_events
           where action in ('role_grant', 'role_revoke') and target_actor_id is not null"""
    ).fetchall()
    con.execute(f"create temp table if not exists {REPLACED_ROLE_TARGETS} (actor_id varchar)").fetchall()
    con.execute(
        f"""create or replace temp table _role_updates as
           select e2.rid, e2.event_date, coalesce(rc.role, d.role) as new_role
           -- only the (few) actors named by a role change are sorted for the ASOF join, not every event; those of
           -- a change that did not succeed too, and those a replaced change named: it may have replaced a successful
           -- one (a re-delivered event), whose role their events still hold
           from (select rowid as rid, event_date, actor_role, actor_id, occurred_at from audit_events
                 where actor_type <> 'customer_user'
                   and (actor_id in (select actor_id from _role_changes)
                        or actor_id in (select actor_id from {REPLACED_ROLE_TARGETS}))
                   and event_date >= $since) e2
           asof left join (select * from _role_changes where took_effect) rc
               on rc.actor_id = e2.actor_id and e2.occurred_at >= rc.changed_at
           left join directory_accounts d on d.actor_id = e2.actor_id
           where e2.actor_role is distinct from coalesce(rc.role, d.role)""",
        {"since": since or date.min},
    ).fetchall()
    note_touched_audit_days(con, "select event_date from _role_updates")
    # By row id (the events just read): joining on event_id probed every stored event's id.
    rows = con.execute(
        "update audit_events as e set actor_role = x.new_role from _role_updates as x where e.rowid = x.rid"
    ).fetchall()
    con.execute("drop table _role_updates").fetchall()
    return int(rows[0][0]) if rows else 0


TOUCHED_AUDIT_DAYS = "_touched_audit_days"
# The actors named by role changes the load's de-duplication replaced (a temp table of the load's connection): a
# newer copy may name another actor or no longer be a role change, so apply_role_changes revisits them too.
REPLACED_ROLE_TARGETS = "_replaced_role_targets"


def note_replaced_role_targets(con: duckdb.DuckDBPyConnection, rows_sql: str) -> None:
    """Remember the actors named by the role changes among the audit events `rows_sql` selects (`select * ...`),
    about to be replaced by newer copies."""
    con.execute(f"create temp table if not exists {REPLACED_ROLE_TARGETS} (actor_id varchar)").fetchall()
    con.execute(
        f"""insert into {REPLACED_ROLE_TARGETS}
            select target_actor_id from ({rows_sql}) as r
            where r.action in ('role_grant', 'role_revoke') and r.target_actor_id is not null"""
    ).fetchall()


# The UTC days of usage and diagnostic lines a load's de-duplication deleted (a temp table of the load's connection,
# `log` naming the table): with the days of its own lines, the days whose per-day counts it changed
# (compliance.ingest.derive.derive_log_days).
TOUCHED_LOG_DAYS = "_touched_log_days"


def note_touched_log_days(
    con: duckdb.DuckDBPyConnection, table: str, rows_sql: str, params: dict | None = None
) -> None:
    """Remember the UTC days of the lines of `table` that `rows_sql` selects (`select * ...`, bound with
    `params`): lines about to be deleted, or a load's own."""
    con.execute(f"create temp table if not exists {TOUCHED_LOG_DAYS} (log varchar, event_date date)").fetchall()
    con.execute(
        f"insert into {TOUCHED_LOG_DAYS} select distinct $log, cast(occurred_at as date) from ({rows_sql})",
        (params or {}) | {"log": table},
    ).fetchall()


def note_touched_audit_days(con: duckdb.DuckDBPyConnection, dates_sql: str, params: dict | None = None) -> None:
    """Remember the event dates `dates_sql` selects (one column) in a temp table of the load's connection: the
    dates of audit events the load deleted or changed. With those of its new events, they are the only dates
    whose fingerprint (compliance.stored_findings) a load of audit events alone can change, so a daily load
    fingerprints them again instead of every stored event (load._touched_audit_days)."""
    con.execute(f"create temp table if not exists {TOUCHED_AUDIT_DAYS} (event_date date)").fetchall()
    con.execute(f"insert into {TOUCHED_AUDIT_DAYS} {dates_sql}", params or {}).fetchall()
