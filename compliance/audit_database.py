"""Opening an audit database (built by `compliance ingest`) for reading: the one statement of how."""

from __future__ import annotations

from pathlib import Path

import duckdb


def connect_read_only(path: Path | str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the audit database at `path`, its session in UTC: the data contract stores and
    compares every timestamp in UTC, whatever the machine's zone. Use it as `with connect_read_only(db) as con:`
    to close it on the way out."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()  # GLOBAL: cursors start from global settings
    return con
