"""Tables derived at ingest from the loaded sources (so no query recomputes them)."""

from __future__ import annotations

import duckdb
import polars as pl

from compliance.config.bundle import Policy
from compliance.deadlines import deadlines_frame


def build_dsr_deadlines(con: duckdb.DuckDBPyConnection, policy: Policy) -> int:
    """Recompute `dsr_deadlines` for the whole register with the deadline engine; returns the row count.

    The register holds thousands of requests, not millions, so one Python pass is cheap, and it keeps
    the legal calendar logic (month ends, holidays, time zones) in one tested place.
    """
    # The caller's connection, not a cursor: ingestion runs in one transaction that a cursor cannot see.
    rows = con.sql("SELECT * FROM dsr_requests ORDER BY request_id").pl().to_dicts()
    frame = deadlines_frame(rows, policy.dsr_rules)
    utc = [n for n, t in frame.schema.items() if isinstance(t, pl.Datetime)]
    frame = frame.with_columns(pl.col(utc).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
    con.register("_deadlines", frame.to_arrow())
    con.execute("DELETE FROM dsr_deadlines").fetchall()
    con.execute("INSERT INTO dsr_deadlines BY NAME SELECT * FROM _deadlines").fetchall()
    con.unregister("_deadlines")
    return frame.height
