"""Helpers for the audit notebooks and any investigation script (not dashboard-specific).

- `open_audit_database`: the database a notebook audits (the demo, a given file, or an export ingested into
  a temporary file), opened read-only;
- `resolve_as_of`: the audit date from a parameter, or the data's own newest date;
- `actor_of`, `actor_findings`: who a finding names, and the findings about one actor (who is flagged, and
  in which order, is `compliance.posture_counts.flagged_actors`, the dashboard's definition);
- `Detector`, `ACCESS_DETECTORS`, `threshold_sweep`: re-run a detector control with other thresholds, passing
  the parameter explicitly to `run_query`, to show what changing a setting would do;
- `of_text`: "12 of 412 (2.9%)", the way every notebook states a share;
- `notebook_controls`: the controls a notebook audits, from the catalog (each control's sidecar lists its
  notebooks), so adding a control to a notebook is one line in its `.yml`.

Everything here calls the named queries and the controls engine; none of it holds SQL.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

from compliance.audit_database import connect_current
from compliance.catalog import load_catalog
from compliance.controls import default_as_of
from compliance.posture_counts import FLAGGED_ACTOR_PATTERN, actor_in_resource
from compliance.queries import get_query, run_query

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = [
    "ACCESS_DETECTORS",
    "AuditDatabase",
    "Detector",
    "actor_findings",
    "actor_of",
    "notebook_controls",
    "of_text",
    "open_audit_database",
    "resolve_as_of",
    "threshold_sweep",
]


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
    return AuditDatabase(connect_current(path), path, label)


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


def notebook_controls(notebook: str) -> list[str]:
    """The ids of the controls the notebook `notebook` (its file's stem) audits: every control whose catalog
    sidecar names it under `notebooks`, in catalog order."""
    return [control.id for control in load_catalog().in_notebook(notebook)]


# --- who is behind the findings ----------------------------------------------------------------


# One definition of who a finding names (compliance.posture_counts); the dashboard imports it from here too.
actor_of = actor_in_resource


def _with_actor(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.with_columns(pl.col("resource").str.extract(FLAGGED_ACTOR_PATTERN, 1).alias("actor_id")).filter(
        pl.col("actor_id").is_not_null()
    )


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
