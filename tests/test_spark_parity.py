"""Parity: every control's findings are the same rows on Spark (PySpark local mode) as on DuckDB.

Each fixture database is exported with `export_parquet` and checked twice: by DuckDB on the database
file, and by Spark SQL on the Parquet export (the translated queries, compliance.spark). After the
engine's canonical sort the two findings frames must be identical, column for column and row for row,
evidence lists included. Fixtures: the 20k-event demo, the hostile-input bundle (crafted values, odd
files, rejects) and the worked DSR deadline cases at dates around their transitions.

One SparkSession serves the whole test session (starting one costs seconds and a JVM); the group runs
on one xdist worker (`xdist_group`) so a single JVM is ever started.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from cli_support import run_cli
from conftest import DemoBuild, build_db_file

from compliance.check import run_check
from compliance.config.bundle import Policy
from compliance.controls import sort_findings
from compliance.export_parquet import export_parquet

pytestmark = [pytest.mark.spark, pytest.mark.xdist_group("spark")]

# As-of dates around the worked cases' transitions (due dates, extension notices, completion).
DEADLINE_AS_OF = [dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2025, 3, 6), dt.date(2025, 4, 21),
                  dt.date(2025, 8, 12), dt.date(2025, 12, 3)]  # fmt: skip


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from compliance.spark.connection import SMALL_DATA_CONF, local_session

    session = local_session(conf=SMALL_DATA_CONF)
    yield session
    session.stop()


def _exported(db: Path, out: Path) -> Path:
    export_parquet(db, out)
    return out


def _differences(duck: pl.DataFrame, spark: pl.DataFrame) -> str:
    """Per control, the rows only one engine produced (for the failure message)."""
    lines = []
    for cid in sorted(set(duck["control_id"]) | set(spark["control_id"])):
        a = duck.filter(pl.col("control_id") == cid)
        b = spark.filter(pl.col("control_id") == cid)
        if a.equals(b):
            continue
        only_a = a.join(b, on=a.columns, how="anti", join_nulls=True) if a.height else a
        only_b = b.join(a, on=b.columns, how="anti", join_nulls=True) if b.height else b
        lines.append(f"{cid}: duckdb {a.height} rows, spark {b.height}")
        lines += [f"  duckdb only: {r}" for r in only_a.head(3).iter_rows()]
        lines += [f"  spark only:  {r}" for r in only_b.head(3).iter_rows()]
    return "\n".join(lines)


def assert_same_findings(db: Path, data: Path, policy: Policy, as_of: dt.date | None = None, **kw: object) -> int:
    """Both engines' findings for `db` and its export are identical; returns the rows compared."""
    duck = sort_findings(run_check(db, as_of=as_of, policy=policy, **kw).findings)  # type: ignore[arg-type]
    spark = sort_findings(run_check(data, as_of=as_of, policy=policy, engine="spark", **kw).findings)  # type: ignore[arg-type]
    errors = spark.filter(pl.col("status") == "error")
    assert errors.is_empty(), "controls failed on Spark:\n" + "\n".join(errors["reason"].to_list())
    assert duck.equals(spark), "findings differ between DuckDB and Spark:\n" + _differences(duck, spark)
    return duck.height


def test_demo_findings_are_identical(
    spark: object, demo_build: DemoBuild, policy: Policy, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = _exported(demo_build.db, tmp_path_factory.mktemp("spark-demo") / "parquet")
    rows = assert_same_findings(demo_build.db, data, policy)
    # The demo plants alarms for every control family: the comparison covers real findings, not skips.
    findings = run_check(demo_build.db, policy=policy).findings
    assert rows > 1000
    assert findings.filter(pl.col("status") == "alarm")["control_id"].n_unique() >= 20


def test_hostile_bundle_findings_are_identical(
    spark: object, policy: Policy, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from hostile_corpus import write_bundle

    from compliance.ingest.load import ingest

    root = tmp_path_factory.mktemp("spark-hostile")
    export = write_bundle(root / "export")
    db = root / "audit.duckdb"
    ingest([export], db, findings=False)
    data = _exported(db, root / "parquet")
    assert assert_same_findings(db, data, policy) > 0


@pytest.fixture(scope="module")
def deadline_export(policy: Policy, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from legal_case import register_rows

    root = tmp_path_factory.mktemp("spark-deadlines")
    db = build_db_file(policy, {"dsr_requests": register_rows()}, root / "register.duckdb")
    return db, _exported(db, root / "parquet")


@pytest.mark.parametrize("as_of", DEADLINE_AS_OF, ids=str)
def test_deadline_case_findings_are_identical(
    spark: object, deadline_export: tuple[Path, Path], policy: Policy, as_of: dt.date
) -> None:
    db, data = deadline_export
    assert assert_same_findings(db, data, policy, as_of, sections=["8"]) > 0


def test_export_is_hive_partitioned_by_event_date(demo_build: DemoBuild, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    written = {t.table: t for t in export_parquet(demo_build.db, out)}
    assert written["audit_events"].partitioned and written["ref_policy_sections"].partitioned is False
    days = sorted(p.name for p in (out / "audit_events").iterdir())
    assert days[0].startswith("event_date=") and len(days) > 300
    # Every row is there, read back through the Hive layout as another engine would see it.
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        expected = con.sql("select count(*), count(distinct event_date) from audit_events").fetchall()[0]
    got = duckdb.sql(
        "select count(*), count(distinct event_date) from read_parquet($p, hive_partitioning = true)",
        params={"p": str(out / "audit_events" / "*" / "*.parquet")},
    ).fetchall()[0]
    assert got == expected
    shutil.rmtree(out)


def test_cli_exports_and_checks_on_spark_as_a_user_would(
    deadline_export: tuple[Path, Path], policy: Policy, tmp_path: Path
) -> None:
    """`compliance export-parquet` then `compliance check --engine spark`, each a subprocess (its own JVM)."""
    import json
    import subprocess

    from compliance.paths import REPO_ROOT

    db, _ = deadline_export
    out = tmp_path / "parquet"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, timeout=900, cwd=REPO_ROOT)

    exported = run("export-parquet", "--db", str(db), str(out))
    assert exported.returncode == 0, exported.stderr
    assert "dsr_states" in exported.stdout and (out / "dsr_states").is_dir()
    args = ["--as-of", "2025-03-06", "--control", "dsr.overdue", "--fail-on", "high", "--output"]
    spark = run("check", "--engine", "spark", "--data", str(out), *args, str(tmp_path / "spark.jsonl"))
    duck = run("check", "--db", str(db), *args, str(tmp_path / "duck.jsonl"))
    assert (spark.returncode, duck.returncode) == (1, 1), spark.stderr[-2000:]  # overdue alarms fail the gate
    assert (tmp_path / "spark.jsonl").read_bytes() == (tmp_path / "duck.jsonl").read_bytes()
    assert any(json.loads(line)["status"] == "alarm" for line in (tmp_path / "spark.jsonl").read_text().splitlines())
    # Usage errors name the fix, without a traceback.
    missing = run("check", "--engine", "spark", *args[:-1])
    assert missing.returncode == 2 and "--data" in missing.stderr and "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("removed", "source"),
    [("audit_disclosure_days", "audit_events"), ("dsr_states", "dsr_requests"), ("incident_local_dates", "incidents")],
)
def test_an_export_older_than_its_derived_tables_is_refused_naming_them(
    spark: object,
    demo_build: DemoBuild,
    policy: Policy,
    tmp_path_factory: pytest.TempPathFactory,
    removed: str,
    source: str,
) -> None:
    """A folder with a source table but without a table the ingest derives from it (an export written before the
    table existed) would read that table as empty and judge wrongly: it is refused, naming what it lacks."""
    data = _exported(demo_build.db, tmp_path_factory.mktemp("spark-outdated") / "parquet")
    shutil.rmtree(data / removed)
    with pytest.raises(ValueError, match=f"holds {source} but lacks {removed}") as refused:
        run_check(data, policy=policy, engine="spark")
    assert f"compliance export-parquet --db DB {data}" in str(refused.value)
    if source != "audit_events":
        return  # the command line's refusal is the same for every source: run once (a JVM start each)
    result = run_cli("check", "--engine", "spark", "--data", str(data))
    said = " ".join((result.stdout + result.stderr).split())  # the console wraps long lines
    assert result.returncode == 2 and "written by an older version" in said, said
    assert "Traceback" not in said
