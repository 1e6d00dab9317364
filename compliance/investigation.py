"""Helpers for the audit notebooks and any investigation script (not dashboard-specific).

- `open_audit_database`: the database a notebook audits (the demo, a given file, or an export ingested into
  a temporary file), opened read-only;
- `resolve_as_of`: the audit date from a parameter, or the data's own newest date;
- `actor_of`, `flagged_actors`, `actor_findings`: who is behind the findings (the most severe first);
- `Detector`, `ACCESS_DETECTORS`, `threshold_sweep`: re-run a detector control with other thresholds, passing
  the parameter explicitly to `run_query`, to show what changing a setting would do;
- `of_text`: "12 of 412 (2.9%)", the way every notebook states a share.

Everything here calls the named queries and the controls engine; none of it holds SQL.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from compliance.catalog import load_catalog
from compliance.controls import SEVERITIES, default_as_of
from compliance.queries import get_query, run_query

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = [
    "ACCESS_DETECTORS",
    "AuditDatabase",
    "Detector",
    "actor_findings",
    "actor_of",
    "flagged_actors",
    "of_text",
    "open_audit_database",
    "resolve_as_of",
    "threshold_sweep",
]

_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}  # info 0 ... critical 4
_ACTOR_RESOURCE = re.compile(r"^actor:([^@]+)(?:@(\d{4}-\d{2}-\d{2}))?$")


@dataclass(frozen=True)
class AuditDatabase:
    """A read-only connection and how to name its source in a report (never an absolute path)."""

    con: duckdb.DuckDBPyConnection
    path: Path
    label: str


def open_audit_database(
    db: str | Path | None = None,
    export_dir: str | Path | None = None,
    *,
    policy: Policy | None = None,
    log: Callable[[str], None] = print,
) -> AuditDatabase:
    """Open the database to audit, read-only.

    - `export_dir` given: ingest that export bundle into a new temporary database (a `compliance-audit-*` folder
      under the system temp directory, removed when the process exits) and open it; `db` must then be None.
    - `db` given: open that database file (built by `compliance ingest`).
    - neither: the bundled demo database, built on first use (`ensure_demo_database`).
    """
    if export_dir is not None:
        if db is not None:
            raise ValueError("give either a database (db) or an export folder (export_dir), not both")
        from compliance.ingest.load import ingest

        export = Path(export_dir)
        if not export.is_dir():
            raise FileNotFoundError(f"export folder {export} does not exist")
        workdir = Path(tempfile.mkdtemp(prefix="compliance-audit-"))
        atexit.register(shutil.rmtree, workdir, ignore_errors=True)
        path = workdir / "audit.duckdb"
        ingest([export], path, policy=policy)
        label = f"the export {export.name!r}, ingested into a temporary database"
    elif db is not None:
        path = Path(db)
        if not path.is_file():
            raise FileNotFoundError(f"database {path} does not exist (build it with `compliance ingest`)")
        label = f"the database {path.name!r}"
    else:
        from compliance.demo_database import ensure_demo_database

        path = ensure_demo_database(log=log)
        label = "the demo database"
    con = duckdb.connect(str(path), read_only=True)
    # Everything is stored and compared in UTC (data contract): make the session say so whatever the machine's zone.
    con.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()  # GLOBAL: cursors start from global settings
    return AuditDatabase(con, path, label)


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: str | date | None) -> date:
    """The audit date: an ISO date (text or date), or None for the newest date in the loaded data."""
    if as_of is None:
        return default_as_of(con)
    return as_of if isinstance(as_of, date) else date.fromisoformat(as_of)


def of_text(part: int, whole: int, digits: int = 1) -> str:
    """'12 of 412 (2.9%)'; '0 of 0' when there is nothing to divide."""
    if whole == 0:
        return f"{part:,} of 0"
    return f"{part:,} of {whole:,} ({100 * part / whole:.{digits}f}%)"


# --- who is behind the findings ----------------------------------------------------------------


def actor_of(resource: str | None) -> str | None:
    """The actor id of a finding resource `actor:<id>` or `actor:<id>@<date>`; None for other resources."""
    if resource is None:
        return None
    m = _ACTOR_RESOURCE.match(resource)
    return m.group(1) if m else None


def _with_actor(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.with_columns(
        pl.col("resource").map_elements(actor_of, return_dtype=pl.String).alias("actor_id")
    ).filter(pl.col("actor_id").is_not_null())


def flagged_actors(findings: pl.DataFrame) -> pl.DataFrame:
    """Actors with at least one `alarm` in a findings frame, the most severe first: highest severity, then alarms
    of that severity, then all alarms, then distinct controls, then actor id (so the order is reproducible).

    Severity leads because one critical exfiltration matters more than three low-severity oddities; columns:
    actor_id, highest_severity, severe_alarms (of the highest severity), alarms, controls, control_ids, first and
    last observed."""
    alarms = _with_actor(findings.filter(pl.col("status") == "alarm")).with_columns(
        pl.col("severity").replace_strict(_SEVERITY_RANK, default=0, return_dtype=pl.Int64).alias("_rank")
    )
    return (
        alarms.group_by("actor_id")
        .agg(
            pl.col("_rank").max().alias("_top"),
            (pl.col("_rank") == pl.col("_rank").max()).sum().cast(pl.Int64).alias("severe_alarms"),
            pl.len().cast(pl.Int64).alias("alarms"),
            pl.col("control_id").n_unique().cast(pl.Int64).alias("controls"),
            pl.col("control_id").unique().sort().str.join(", ").alias("control_ids"),
            pl.col("observed_at").min().alias("first_observed_at"),
            pl.col("observed_at").max().alias("last_observed_at"),
        )
        .sort(["_top", "severe_alarms", "alarms", "controls", "actor_id"], descending=[True, True, True, True, False])
        .with_columns(pl.col("_top").replace_strict(dict(enumerate(SEVERITIES)), return_dtype=pl.String))
        .rename({"_top": "highest_severity"})
        .select("actor_id", "highest_severity", "severe_alarms", "alarms", "controls", "control_ids",
                "first_observed_at", "last_observed_at")
    )  # fmt: skip


def actor_findings(findings: pl.DataFrame, actor_id: str, statuses: Sequence[str] = ("alarm",)) -> pl.DataFrame:
    """The findings about one actor (resources `actor:<id>` and `actor:<id>@<date>`) with the given statuses,
    in time order."""
    return (
        _with_actor(findings)
        .filter((pl.col("actor_id") == actor_id) & pl.col("status").is_in(list(statuses)))
        .drop("actor_id")
        .sort(["observed_at", "control_id", "resource"], nulls_last=True)
    )


# --- detectors and their thresholds -----------------------------------------------------------


@dataclass(frozen=True)
class Detector:
    """A control whose alarms depend on one threshold setting, and values worth trying for it."""

    query: str  # the control query's name
    parameter: str  # the $parameter that holds the threshold (a settings.yaml key, flattened)
    values: tuple[float, ...]
    meaning: str  # what the threshold is, in a phrase: "<meaning> <value>"

    @property
    def control_id(self) -> str:
        return get_query(self.query).control_id or self.query


# The access detectors and the settings their alarms hinge on, from the catalog's `sweep` entries (a
# detector appears once per setting). Higher values alarm less for every one of them, so a sweep reads
# the same way throughout.
ACCESS_DETECTORS: tuple[Detector, ...] = tuple(
    Detector(control.name, sweep.setting, sweep.values, sweep.meaning)
    for control in load_catalog().on_page("access")
    for sweep in control.sweep
)


def threshold_sweep(
    con: duckdb.DuckDBPyConnection,
    policy: Policy,
    detector: Detector,
    as_of: date,
    values: Iterable[float] | None = None,
) -> pl.DataFrame:
    """Re-run a detector control once per threshold value, passing the value explicitly to `run_query`
    (every other parameter comes from the policy settings), and count what it reports.

    One row per value, ascending, the current setting always included: threshold, is_current, resources
    examined (rows), alarms, and distinct actors alarmed.
    """
    current = policy.parameters()[detector.parameter]
    tried = sorted({*(values if values is not None else detector.values), current})
    rows: list[dict[str, Any]] = []
    for value in tried:
        typed = type(current)(value)  # the setting's own type: an INTEGER parameter gets an int
        found = run_query(con, detector.query, {"as_of": as_of, detector.parameter: typed}, policy)
        alarms = found.filter(pl.col("status") == "alarm")
        actors = {a for a in map(actor_of, alarms["resource"].to_list()) if a is not None}
        rows.append(
            {
                "threshold": float(value),
                "is_current": value == current,
                "rows": found.height,
                "alarms": alarms.height,
                "actors_alarmed": len(actors),
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "threshold": pl.Float64,
            "is_current": pl.Boolean,
            "rows": pl.Int64,
            "alarms": pl.Int64,
            "actors_alarmed": pl.Int64,
        },
    )
