"""DDL of the audit database: source tables (from compliance.schema), enrichment columns and bookkeeping."""

from __future__ import annotations

import functools

import duckdb

from compliance.schema import AUDIT, DIAGNOSTIC, INVENTORY, SOURCES, USAGE, Source

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (("source_file_id", "VARCHAR"), ("source_line", "BIGINT"))

# Columns computed at ingest, per table (docs/database.md).
ENRICHMENT_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    AUDIT.table: (
        ("categories", "VARCHAR[]"),
        ("categories_derived", "BOOLEAN"),
        ("categories_key", "INTEGER"),
        ("event_date", "DATE"),
        ("actor_role", "VARCHAR"),
        ("actor_timezone", "VARCHAR"),
        ("subject_jurisdiction", "VARCHAR"),
    ),
    USAGE.table: (("subject_jurisdiction", "VARCHAR"),),
    INVENTORY.table: (("subject_jurisdiction", "VARCHAR"),),
    DIAGNOSTIC.table: (("line_id", "VARCHAR"),),
}

# Enrichment columns an older database gains in place, filled from its rows (not by re-enriching them).
_KEYED_AFTER_LOAD: dict[str, tuple[tuple[str, str], ...]] = {AUDIT.table: (("categories_key", "INTEGER"),)}

# Columns after the lineage, per table: the export folder an audit event came from (`audit` or a vendor
# adapter's folder, compliance.ingest.vendors).
ORIGIN_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {AUDIT.table: (("log_source", "VARCHAR"),)}


def _rollup_ddl(name: str, keys: str, *, days_extra: str = "", newest: bool = False) -> str:
    """`audit_<name>_days`, a daily rollup of audit events (compliance.ingest.derive.derive_event_rollups) by group
    `keys` (column definitions): each group-day's counts and first and last instants, and with `newest` its newest
    events where kept (compliance.ingest.derive.ROLLUP_NEWEST)."""
    kept = ", newest_events STRUCT(occurred_at TIMESTAMP, event_id VARCHAR)[]" if newest else ""
    return f"""
CREATE TABLE IF NOT EXISTS audit_{name}_days (
    event_date DATE, {keys}, events BIGINT{days_extra}, first_at TIMESTAMP, last_at TIMESTAMP{kept}
);"""


# Tables older versions derived and nothing reads any more, dropped from a database on its next load (they held
# about half of all audit events): each rollup's newest events per group-day, until 2026-12-04.
RETIRED_TABLES = (
    "audit_category_evidence",
    "audit_purpose_evidence",
    "audit_transfer_evidence",
    "audit_processed_subjects",
)
# Enrichment columns older versions stored and nothing reads, dropped from a database on its next load: each
# event's copy of its actor's directory department, home country, status and end date, until 2026-12-06. No query,
# page or notebook read them, and a join of directory_accounts on actor_id gives the same values (a directory load
# re-enriched every event to keep them equal). Storing them cost about 6% of a 10M-event load.
RETIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    AUDIT.table: ("actor_department", "actor_home_country", "actor_status", "actor_end_date"),
}


# Tables derived at ingest in SQL (compliance.ingest.derive; docs/database.md). `audit_category_lists`: the
# distinct category lists of audit events under small keys (compliance.ingest.enrich.assign_category_keys).
DERIVED_DDL = (
    """
CREATE TABLE IF NOT EXISTS audit_category_lists (categories_key INTEGER, categories VARCHAR[]);
CREATE TABLE IF NOT EXISTS incident_local_dates (
    incident_id VARCHAR, au_timezone VARCHAR, au_detected_date DATE, au_assessed_date DATE
);
CREATE TABLE IF NOT EXISTS retention_rules_resolved (
    system VARCHAR, store VARCHAR, data_category VARCHAR, rule_category VARCHAR, rule_system VARCHAR,
    rule_store VARCHAR, specificity BIGINT, period_days BIGINT, clock VARCHAR, grace_days BIGINT, action VARCHAR,
    basis VARCHAR
);"""
    + _rollup_ddl("category", "data_category VARCHAR", newest=True)
    + _rollup_ddl(
        "purpose",
        "actor_id VARCHAR, system_id VARCHAR, purpose VARCHAR",
        days_extra=", records BIGINT",
    )
    + _rollup_ddl("use", "system_id VARCHAR, purpose VARCHAR", days_extra=", records BIGINT", newest=True)
    + _rollup_ddl("transfer", "jurisdiction VARCHAR, region VARCHAR", newest=True)
    + _rollup_ddl(
        "disclosure",
        "recipient VARCHAR, actor_id VARCHAR, categories_key INTEGER, system_id VARCHAR",
        days_extra=", records BIGINT",
    )
    + _rollup_ddl("system_region", "system_id VARCHAR, processing_region VARCHAR", days_extra=", records BIGINT")
    + """
CREATE TABLE IF NOT EXISTS audit_role_grant_days (
    event_date DATE, target_actor_id VARCHAR, event_id VARCHAR, role VARCHAR, granted_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_erasure_subject_days (
    event_date DATE, subject_id VARCHAR, event_id VARCHAR, is_disclosure BOOLEAN, occurred_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_transfer_subjects (
    jurisdiction VARCHAR, region VARCHAR, subject_id VARCHAR, first_date DATE
);
CREATE TABLE IF NOT EXISTS audit_first_seen (kind VARCHAR, value VARCHAR, first_date DATE);
CREATE TABLE IF NOT EXISTS usage_processed_subjects (subject_id VARCHAR, last_date DATE);
CREATE TABLE IF NOT EXISTS usage_event_days (event_date DATE, lines BIGINT, first_at TIMESTAMP, last_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS diagnostic_service_days (
    event_date DATE, service VARCHAR, lines BIGINT, first_at TIMESTAMP, last_at TIMESTAMP, email_lines BIGINT,
    phone_lines BIGINT, card_lines BIGINT, flagged_lines BIGINT, flagged_first_at TIMESTAMP,
    flagged_last_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS diagnostic_flagged_lines (
    event_date DATE, service VARCHAR, line_id VARCHAR, occurred_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_use_actors (system_id VARCHAR, purpose VARCHAR, actor_id VARCHAR, first_date DATE);
CREATE TABLE IF NOT EXISTS audit_system_category_days (
    event_date DATE, system_id VARCHAR, data_category VARCHAR, purpose VARCHAR, events BIGINT, records BIGINT
);
CREATE TABLE IF NOT EXISTS audit_system_hours (
    event_date DATE, system VARCHAR, hour_start TIMESTAMP, events BIGINT, first_at TIMESTAMP, last_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_local_hour_days (
    event_date DATE, actor_id VARCHAR, actor_timezone VARCHAR, local_hour TIMESTAMP, events BIGINT, data_events BIGINT,
    data_records BIGINT, exports BIGINT, data_first_at TIMESTAMP, data_last_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_role_action_days (
    event_date DATE, actor_id VARCHAR, actor_role VARCHAR, action VARCHAR, categories_key INTEGER, events BIGINT,
    records BIGINT, last_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_role_action_totals (
    actor_id VARCHAR, actor_role VARCHAR, action VARCHAR, categories_key INTEGER, events BIGINT, records BIGINT,
    last_at TIMESTAMP, through_date DATE
);
CREATE TABLE IF NOT EXISTS audit_actor_bulk_totals (
    actor_id VARCHAR, bulk_events BIGINT, bulk_records BIGINT, backup_events BIGINT, backup_records BIGINT,
    bulk_last_at TIMESTAMP, busiest_day_records BIGINT, through_date DATE
);
CREATE TABLE IF NOT EXISTS audit_located_login_days (
    event_date DATE, actor_id VARCHAR, geo_country VARCHAR, logins BIGINT, last_at TIMESTAMP, last_event_id VARCHAR,
    last_lat DOUBLE, last_lon DOUBLE, last_is_centroid BOOLEAN
);
CREATE TABLE IF NOT EXISTS audit_located_login_totals (
    actor_id VARCHAR, geo_country VARCHAR, logins BIGINT, last_at TIMESTAMP, through_date DATE
);
CREATE TABLE IF NOT EXISTS audit_login_days (
    event_date DATE, actor_id VARCHAR, attempts BIGINT, failures BIGINT, last_at TIMESTAMP,
    max_failures_in_window BIGINT, window_minutes BIGINT
);
CREATE TABLE IF NOT EXISTS audit_login_totals (
    actor_id VARCHAR, window_minutes BIGINT, attempts BIGINT, failures BIGINT, last_at TIMESTAMP,
    max_failures_in_window BIGINT, through_date DATE
);
CREATE TABLE IF NOT EXISTS audit_account_activity_days (
    event_date DATE, actor_id VARCHAR, actor_type VARCHAR, events BIGINT, personal_events BIGINT, first_at TIMESTAMP,
    last_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS audit_actor_activity_days (
    event_date DATE, actor_id VARCHAR, actor_type VARCHAR, events BIGINT, personal_events BIGINT, first_at TIMESTAMP,
    last_at TIMESTAMP, data_events BIGINT, data_records BIGINT, data_role VARCHAR, data_last_at TIMESTAMP,
    bulk_events BIGINT, bulk_records BIGINT, bulk_last_at TIMESTAMP, backup_events BIGINT, backup_records BIGINT
);
"""
)

BOOKKEEPING_DDL = """
CREATE TABLE IF NOT EXISTS load_runs (
    run_id BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, policy_version VARCHAR,
    policy_digest VARCHAR, exports VARCHAR[]
);
CREATE TABLE IF NOT EXISTS load_manifest (
    file_id VARCHAR, source VARCHAR, path VARCHAR, size_bytes BIGINT, run_id BIGINT, load_seq BIGINT,
    rows_read BIGINT, rows_loaded BIGINT, rows_duplicate BIGINT, rows_rejected BIGINT, newest_event_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS rejects (
    run_id BIGINT, source VARCHAR, file_id VARCHAR, path VARCHAR, line BIGINT, field VARCHAR,
    reason VARCHAR, raw VARCHAR
);
CREATE TABLE IF NOT EXISTS findings (
    control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
    reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[], as_of DATE
);
CREATE TABLE IF NOT EXISTS findings_runs (
    control_id VARCHAR, as_of DATE, sql_digest VARCHAR, policy_digest VARCHAR, rows BIGINT, seconds DOUBLE
);
CREATE TABLE IF NOT EXISTS findings_event_days (event_date DATE, events BIGINT, digest UBIGINT);
CREATE TABLE IF NOT EXISTS database_changes (change VARCHAR, applied_at TIMESTAMP, rows_changed BIGINT);
"""

# Changes to stored rows, by name: applied once to a database on its next load, and recorded in `database_changes`
# (a database created by this version records them at once, with nothing to change).
DATA_CHANGES = ("diagnostic line ids of lines holding chr(31)", "diagnostic line ids from every field")


def dsr_deadline_columns(timeline: bool = False) -> list[tuple[str, str]]:
    """Columns of `dsr_deadlines` (or with `timeline`, `dsr_states`), mirrored from the deadline
    engine's frames (UTC datetimes as TIMESTAMP)."""
    import polars as pl

    from compliance.deadlines import frame_schema

    sql_type = {
        pl.String: "VARCHAR",
        pl.Date: "DATE",
        pl.Boolean: "BOOLEAN",
        pl.Int32: "INTEGER",
        pl.Datetime: "TIMESTAMP",
    }
    return [(name, sql_type[dtype.base_type()]) for name, dtype in frame_schema(timeline).items()]


def table_columns(source: Source) -> list[tuple[str, str]]:
    """All columns of a source's native table, in order: contract fields, enrichment, lineage."""
    cols = [(c.name, c.type) for c in source.columns]
    cols += list(ENRICHMENT_COLUMNS.get(source.table, ()))
    cols += list(LINEAGE_COLUMNS)
    cols += list(ORIGIN_COLUMNS.get(source.table, ()))
    return cols


def create_tables(con: duckdb.DuckDBPyConnection) -> bool:
    """Create every table of the audit database that does not exist yet (idempotent); True when the
    database was built by an older version (a table or a column was missing), so the load must publish
    and rebuild what is derived."""
    before = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    added = rekey = False
    for source in SOURCES:
        cols = ", ".join(f'"{n}" {t}' for n, t in table_columns(source))
        con.execute(f"CREATE TABLE IF NOT EXISTS {source.table} ({cols})").fetchall()
        have = {r[0] for r in con.execute(f"select column_name from (describe {source.table})").fetchall()}
        for name in RETIRED_COLUMNS.get(source.table, ()):
            if name in have:  # a database from before the column was retired (names from code, never data)
                con.execute(f'ALTER TABLE {source.table} DROP COLUMN "{name}"').fetchall()
        for name, type_ in ORIGIN_COLUMNS.get(source.table, ()):
            if name not in have:  # a database created before the column: its rows came from audit/
                con.execute(f"ALTER TABLE {source.table} ADD COLUMN \"{name}\" {type_} DEFAULT 'audit'").fetchall()
                added = True
        for name, type_ in _KEYED_AFTER_LOAD.get(source.table, ()):
            if name not in have:  # keyed below, once the lookup table exists
                con.execute(f'ALTER TABLE {source.table} ADD COLUMN "{name}" {type_}').fetchall()
                rekey = added = True
    cols = ", ".join(f'"{n}" {t}' for n, t in dsr_deadline_columns())
    con.execute(f"CREATE TABLE IF NOT EXISTS dsr_deadlines ({cols})").fetchall()
    cols = ", ".join(f'"{n}" {t}' for n, t in dsr_deadline_columns(timeline=True))
    con.execute(f"CREATE TABLE IF NOT EXISTS dsr_states ({cols})").fetchall()
    _run_statements(con, DERIVED_DDL + BOOKKEEPING_DDL)
    added = _recreate_changed_rollups(con) or added
    for table in RETIRED_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
    if rekey:
        from compliance.ingest.enrich import assign_category_keys

        assign_category_keys(con)
    added = _apply_data_changes(con) or added
    # The ledger of changes alone is no reason to rebuild what is derived: a change that alters rows says so.
    after = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()} - {"database_changes"}
    return added or bool(before and after - before)  # an empty database is new, not older


def pending_data_changes(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The DATA_CHANGES not yet recorded in the database's `database_changes` (all, when it has no such table)."""
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    done = set()
    if "database_changes" in tables:
        done = {r[0] for r in con.execute("select change from database_changes").fetchall()}
    return [change for change in DATA_CHANGES if change not in done]


def _apply_data_changes(con: duckdb.DuckDBPyConnection) -> bool:
    """Apply and record each pending DATA_CHANGES; True when one changed a stored row (derived tables and stored
    findings may still hold the old values, so the load rebuilds them)."""
    from compliance.ingest.enrich import rehash_diagnostic_line_ids

    # The first is pending only where the second is (it came first) and the second recomputes every id: nothing
    # is left for it to change.
    apply = {DATA_CHANGES[0]: lambda _con: 0, DATA_CHANGES[1]: rehash_diagnostic_line_ids}
    changed = 0
    for change in pending_data_changes(con):
        rows = apply[change](con)
        con.execute(
            "insert into database_changes values ($change, now()::timestamp, $rows)", {"change": change, "rows": rows}
        ).fetchall()
        changed += rows
    return changed > 0


@functools.cache
def _derived_columns() -> dict[str, frozenset[str]]:
    """The columns of each table DERIVED_DDL creates."""
    from compliance.audit_database import columns_by_table

    con = duckdb.connect()
    try:
        _run_statements(con, DERIVED_DDL)
        return columns_by_table(con)
    finally:
        con.close()


def _recreate_changed_rollups(con: duckdb.DuckDBPyConnection) -> bool:
    """Recreate, empty, each rollup and per-day log table whose columns differ from this version's (a column added
    since it was built): such a table holds nothing but what the events or lines give, and a database found older
    rebuilds every one of them. True when one was."""
    from compliance.audit_database import columns_by_table
    from compliance.ingest.derive import LOG_DAYS_TABLES, ROLLUP_TABLES

    wanted, have = _derived_columns(), columns_by_table(con)
    changed = [t for t in (*ROLLUP_TABLES, *LOG_DAYS_TABLES) if have.get(t) != wanted[t]]
    for table in changed:
        con.execute(f"DROP TABLE {table}").fetchall()
    if changed:
        _run_statements(con, DERIVED_DDL)
    return bool(changed)


def _run_statements(con: duckdb.DuckDBPyConnection, ddl: str) -> None:
    for stmt in ddl.split(";"):
        if stmt.strip():
            con.execute(stmt).fetchall()


@functools.cache
def expected_columns() -> dict[str, frozenset[str]]:
    """Each table `create_tables` makes, with its columns: what a database built by this version holds."""
    from compliance.audit_database import columns_by_table

    con = duckdb.connect()
    try:
        create_tables(con)
        return columns_by_table(con)
    finally:
        con.close()
