"""The check shared by the tests of the all-time totals kept at ingest (compliance.ingest.derive.TOTALS): what a
model reads after a load recomputes some days equals what it reads after a derive of every day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

import duckdb

from compliance.ingest.derive import derive_event_rollups

T = TypeVar("T")


def through_dates(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """The distinct `through_date` of a totals table (one, or none when it is empty)."""
    return con.sql(f"select distinct through_date from {table}").fetchall()


def read_after_recomputing(con: duckdb.DuckDBPyConnection, policy, days: list[dt.date], read: Callable[[], T]) -> T:
    """What `read` gives after recomputing `days` (a daily load's derive), checked equal to what it gives after a
    derive of every day (a full ingest's)."""
    derive_event_rollups(con, days, policy=policy)
    kept = read()
    derive_event_rollups(con, policy=policy)
    assert read() == kept
    return kept
