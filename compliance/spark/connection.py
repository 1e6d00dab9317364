"""A DuckDB-shaped connection over a SparkSession, so the controls engine runs on Spark unchanged.

`compliance.controls` and `compliance.check` talk to a connection through four calls: `cursor()`,
`sql(text, params=...)` (then `.fetchall()` or `.pl()`), `execute(...)` and `close()`. `SparkConnection`
offers exactly those: each statement is translated from DuckDB SQL (`compliance.spark.translate`, or a
query's hand-written Spark variant) and run with `spark.sql(text, args=params)`, so parameters stay
bound. The tables are views over `DATA/<table>/` (Parquet, as `compliance export-parquet` writes it,
or Delta when the folder holds a `_delta_log`); a contract table missing from DATA is an empty view of
the contract's columns, so a control that needs it reports `skip` as it does on DuckDB.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from compliance.spark.translate import TranslationError, to_spark
from compliance.spark.variants import variant_ctes

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkConnection", "SparkSQLError", "local_session", "register_tables"]

# Settings that make Spark SQL mean what the DuckDB SQL means: timestamps without a zone, read in UTC;
# `size(NULL)` is NULL; division by zero and overflow give NULL rather than failing the statement, as
# DuckDB gives NULL for x / 0.
SEMANTIC_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.legacy.sizeOfNull": "false",
    "spark.sql.ansi.enabled": "false",
}
# Local mode on a small machine: few shuffle partitions, no web UI, day folders listed by the driver
# (not by a job) and small day files packed into few tasks.
LOCAL_CONF = {
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    "spark.sql.files.openCostInBytes": "256KB",
    "spark.sql.files.maxPartitionBytes": "256MB",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.driver.memory": os.environ.get("COMPLIANCE_SPARK_DRIVER_MEMORY", "2g"),
}


class SparkSQLError(duckdb.Error):
    """A statement failed on Spark. A duckdb.Error, so the runner's handling of a failed statement applies."""


# For tests on a few thousand rows: compiling each query's generated Java code costs more than running it
# interpreted (seconds per query on a busy 2-core machine), and the JIT's top tier never pays off.
SMALL_DATA_CONF = {
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
}


def local_session(master: str | None = None, conf: Mapping[str, str] | None = None) -> SparkSession:
    """The active SparkSession (spark-submit, Databricks), else a local one with `conf` added (e.g.
    SMALL_DATA_CONF); always with the semantic settings."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        builder = SparkSession.builder.appName("compliance-check")
        # Under spark-submit the gateway is already up with the cluster's master and settings: keep them.
        if master or "PYSPARK_GATEWAY_PORT" not in os.environ:
            builder = builder.master(master or os.environ.get("COMPLIANCE_SPARK_MASTER", "local[2]"))
            for key, value in (LOCAL_CONF | dict(conf or {})).items():
                builder = builder.config(key, value)
        for key, value in SEMANTIC_CONF.items():
            builder = builder.config(key, value)
        active = builder.getOrCreate()
        active.sparkContext.setLogLevel("ERROR")
    for key, value in SEMANTIC_CONF.items():
        active.conf.set(key, value)
    return active


@lru_cache(maxsize=1)
def _contract_tables() -> dict[str, Any]:
    """Every table `compliance ingest` creates, as an empty Arrow table of its columns."""
    from compliance.ingest.tables import create_tables

    con = duckdb.connect()
    try:
        create_tables(con)
        names = [n for (n,) in con.sql("select table_name from information_schema.tables order by 1").fetchall()]
        return {name: con.table(name).limit(0).arrow().read_all() for name in names}
    finally:
        con.close()


def _read_table(spark: SparkSession, location: str) -> DataFrame | None:
    """The table stored at `location` (Delta when it holds a `_delta_log`, else Parquet); None if absent."""
    from pyspark.errors import AnalysisException

    is_local = "://" not in location
    if is_local and not Path(location).is_dir():
        return None
    fmt = "delta" if is_local and Path(location, "_delta_log").is_dir() else "parquet"
    try:
        return spark.read.format(fmt).load(location)
    except AnalysisException:
        return None


def register_tables(spark: SparkSession, data: str | Path) -> list[str]:
    """Views named after each table under `data` (a folder or an object-store URI such as s3://...).

    Locally every sub-folder named like a table is read; on object storage the contract's tables are.
    Returns the names of the tables found in `data` (the others are empty views)."""
    root = str(data).rstrip("/")
    names = set(_contract_tables())
    if "://" not in root:
        if not Path(root).is_dir():
            raise FileNotFoundError(f"{root}: no such data folder (write one with `compliance export-parquet`)")
        names |= {p.name for p in Path(root).iterdir() if p.is_dir() and p.name.isidentifier()}
    found: list[str] = []
    for name in sorted(names):
        frame = _read_table(spark, f"{root}/{name}")
        if frame is not None:
            found.append(name)
        elif name in _contract_tables():
            frame = spark.createDataFrame(_contract_tables()[name])
        else:
            continue
        frame.createOrReplaceTempView(name)  # an API call: the name is never part of SQL text
    _refuse_outdated(root, found)
    return found


def _refuse_outdated(root: str, found: list[str]) -> None:
    """Refuse data holding a source table without a table the ingest derives from it (DERIVED_TABLES): an export
    written by an older version, or source tables written without the ingest, whose missing derived table would be
    read as empty and the controls would judge wrongly (every recipient of `disclosure.unapproved_recipient`
    unapproved without the disclosure rollup, no request late without `dsr_states`), where a missing source only
    makes its controls skip."""
    from compliance.ingest.derive import DERIVED_TABLES

    present = set(found)
    missing = {s: DERIVED_TABLES[s] - present for s in sorted(DERIVED_TABLES) if s in present}
    lacking = sorted(set().union(*missing.values()))
    if lacking:
        holders = ", ".join(source for source, tables in missing.items() if tables)
        raise ValueError(
            f"{root} was written by an older version of compliance: it holds {holders} but lacks "
            f"{', '.join(lacking)}, which the ingest derives from them and the controls read. Bring the database "
            "up to date (`compliance ingest EXPORT_DIR --db DB`) and export it again "
            f"(`compliance export-parquet --db DB {root}`)."
        )


class _SparkResult:
    """What `con.sql(...)` returns on DuckDB, enough of it: the rows, as tuples or a Polars frame."""

    def __init__(self, frame: DataFrame) -> None:
        self._frame = frame

    @property
    def columns(self) -> list[str]:
        return list(self._frame.columns)

    def arrow(self) -> Any:
        return _guard(self._frame.toArrow)

    def pl(self) -> pl.DataFrame:
        return pl.from_arrow(self.arrow())  # type: ignore[return-value]

    def fetchall(self) -> list[tuple]:
        return [tuple(row) for row in _guard(self._frame.collect)]


def _guard(run: Any, *args: Any, **kwargs: Any) -> Any:
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        return run(*args, **kwargs)
    except (PySparkException, Py4JJavaError) as exc:
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
        # A failed task's cause is the last "Caused by" line; an analysis error says it in the first.
        causes = [ln for ln in lines if ln.startswith("Caused by:")]
        raise SparkSQLError(f"Spark: {(causes or lines or [type(exc).__name__])[-1 if causes else 0]}") from exc


class SparkConnection:
    """The connection interface the controls engine uses, on a SparkSession with the data's tables as views."""

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._last: _SparkResult | None = None

    @classmethod
    def open(cls, data: str | Path, spark: SparkSession | None = None) -> SparkConnection:
        spark = spark or local_session()
        register_tables(spark, data)
        return cls(spark)

    def cursor(self) -> SparkConnection:
        return self  # Spark statements are independent: no per-thread cursor state to separate

    def close(self) -> None:
        """Nothing to release: the session outlives a check (it is shared, and costly to start)."""

    def sql(self, query: str, params: Mapping[str, Any] | None = None) -> _SparkResult:
        text = _translated(query)
        args = dict(params or {})
        frame = _guard(self.spark.sql, text, args=args) if args else _guard(self.spark.sql, text)
        return _SparkResult(frame)

    def execute(self, query: str, params: Mapping[str, Any] | None = None) -> SparkConnection:
        self._last = self.sql(query, params)
        return self

    def fetchall(self) -> list[tuple]:
        if self._last is None:
            return []
        rows, self._last = self._last.fetchall(), None
        return rows


def _translated(query: str) -> str:
    try:
        return to_spark(query, variant_ctes(query))
    except TranslationError as exc:
        raise SparkSQLError(str(exc)) from None
