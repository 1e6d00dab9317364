"""Opening an audit database (built by `compliance ingest`) for reading: the one statement of how."""

from __future__ import annotations

from pathlib import Path

import duckdb


class OutdatedDatabaseError(ValueError):
    """The database was built by an older version of this tool: a table or column that this version reads is
    missing, so controls and pages would fail one by one on it. One ingest brings it up to date."""


def connect_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the audit database at `path`, its session in UTC: the data contract stores and
    compares every timestamp in UTC, whatever the machine's zone. Use it as `with connect_read_only(db) as con:`
    to close it on the way out."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()  # GLOBAL: cursors start from global settings
    return con


def connect_current(path: Path | str) -> duckdb.DuckDBPyConnection:
    """`connect_read_only`, after making sure the database holds every table and column of this version;
    OutdatedDatabaseError (a ValueError) says what is missing and how to bring the database up to date."""
    con = connect_read_only(path)
    try:
        missing = schema_gaps(con)
    except BaseException:
        con.close()
        raise
    if missing:
        con.close()
        raise OutdatedDatabaseError(outdated_message(path, missing))
    return con


def schema_gaps(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What this version's tables hold that the database lacks: `table T` or `column T.C`, sorted, then each change
    to stored rows not yet applied to it (`change NAME`)."""
    from compliance.ingest.tables import expected_columns, pending_data_changes

    present = columns_by_table(con)
    missing = []
    for table, columns in sorted(expected_columns().items()):
        if table not in present:
            missing.append(f"table {table}")
        else:
            missing += [f"column {table}.{column}" for column in sorted(columns - present[table])]
    return missing + [f"change {change}" for change in pending_data_changes(con)]


def columns_by_table(con: duckdb.DuckDBPyConnection) -> dict[str, frozenset[str]]:
    """Each table and view of the database with the names of its columns."""
    rows = con.execute("select table_name, column_name from duckdb_columns() where not internal").fetchall()
    columns: dict[str, set[str]] = {}
    for table, column in rows:
        columns.setdefault(table, set()).add(column)
    return {table: frozenset(names) for table, names in columns.items()}


def outdated_message(path: Path | str, missing: list[str]) -> str:
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (
        f"{path} was built by an older version of compliance: it lacks {shown}. Bring it up to date once with "
        f"`compliance ingest EXPORT_DIR --db {path}`: files already loaded are skipped, so any export folder "
        "(even an empty one) adds what is missing and stores fresh findings."
    )
