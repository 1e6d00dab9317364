"""The audit database as Hive-partitioned Parquet, for engines that read a data lake (Spark, Trino, Athena).

Layout: one folder per table, `OUT_DIR/<table>/`. Event tables are split by UTC day into
`event_date=YYYY-MM-DD/` folders (Hive partitioning, so engines prune days); every other table
(reference, policy, derived deadline and bookkeeping tables) is written whole. `audit_events` already
holds `event_date`; `usage_events` and `diagnostic_logs` get it from `occurred_at` (an added column,
named in `_export.json`). Timestamps stay UTC without a zone (Parquet `isAdjustedToUTC=false`, read by
Spark as TIMESTAMP_NTZ), lists stay lists. A table with no rows is written as one empty file, so its
columns are still known to the reader. The export is written to a sibling folder and renamed into
place, so a reader never sees half an export.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compliance.audit_database import connect_current
from compliance.schema import LOG_TABLES

__all__ = ["PARTITION_COLUMN", "ExportedTable", "export_parquet"]

PARTITION_COLUMN = "event_date"
MANIFEST = "_export.json"


@dataclass(frozen=True)
class ExportedTable:
    table: str
    rows: int
    partitioned: bool


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.sql(
        "select table_name from information_schema.tables where table_schema = 'main' and table_type = 'BASE TABLE' "
        "order by table_name"
    ).fetchall()
    return [name for (name,) in rows]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.sql(
        "select column_name from information_schema.columns where table_schema = 'main' and table_name = $t "
        "order by ordinal_position",
        params={"t": table},
    ).fetchall()
    return [name for (name,) in rows]


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> duckdb.DuckDBPyRelation:
    """The table's rows; an event table without `event_date` gets it from `occurred_at`."""
    rel = con.table(_quoted(table))
    if table in LOG_TABLES and PARTITION_COLUMN not in columns:
        rel = rel.select(*map(_quoted, columns), duckdb.SQLExpression("cast(occurred_at as date) as event_date"))
    return rel


def _write_table(con: duckdb.DuckDBPyConnection, table: str, dest: Path) -> ExportedTable:
    columns = _columns(con, table)
    rel = _relation(con, table, columns)
    rows = rel.aggregate("count(*)").fetchall()[0][0]
    partitioned = table in LOG_TABLES and rows > 0
    dest.mkdir(parents=True)
    if partitioned:
        rel.to_parquet(str(dest), partition_by=[PARTITION_COLUMN], compression="zstd")
    else:
        rel.to_parquet(str(dest / "data_0.parquet"), compression="zstd")
    return ExportedTable(table, int(rows), partitioned)


def export_parquet(db: Path | str, out_dir: Path | str) -> list[ExportedTable]:
    """Write every table of the database at `db` (opened read-only) under `out_dir`, replacing it."""
    db, out_dir = Path(db), Path(out_dir)
    if not db.exists():
        raise FileNotFoundError(f"{db}: no such database")
    if out_dir.exists() and not (out_dir / MANIFEST).exists() and any(out_dir.iterdir()):
        # Never wipe a folder this command did not write.
        raise FileExistsError(f"{out_dir} exists and is not an earlier Parquet export: choose an empty folder")
    staging = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    con = connect_current(db)
    try:
        con.execute("SET enable_progress_bar = false").fetchall()
        written = [_write_table(con, table, staging / table) for table in _tables(con)]
    finally:
        con.close()
    manifest = {
        "database": db.name,
        "partition_column": PARTITION_COLUMN,
        "tables": {t.table: {"rows": t.rows, "partitioned_by": PARTITION_COLUMN if t.partitioned else None}
                   for t in written},
    }  # fmt: skip
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return written
