"""History: each recorded run's findings by as-of date, and what changed between runs.

Every ingest that publishes findings, and every `compliance check --record`, records a run in the
triage store beside the audit database (it survives re-ingest, which replaces the database file):
the as-of date, the digests of the policy, of the controls' SQL and of the findings file, the status
counts, and every finding other than `ok`. Runs are compared by as-of date; when one date was
recorded more than once, the latest recording speaks for it (all are kept).

An alarm is identified by (control_id, resource). Between two consecutive runs it is new (an alarm
now, not before), resolved (an alarm before, not now) or persisting (both). Suppressed findings are
not alarms: a waiver that starts applying resolves the alarm, one that expires makes it new again.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from compliance.triage_store import connect, read, utc_now

__all__ = [
    "RunChange",
    "alarms_over_time",
    "changes_between_runs",
    "changes_table",
    "first_last_seen",
    "record_run",
    "recorded_runs",
    "time_to_resolve",
]

_KEEP = ("alarm", "suppressed", "info", "skip", "error")  # `ok` rows are counted, not kept
_RUN_SCHEMA = {
    "run_id": pl.Int64,
    "recorded_at": pl.String,
    "as_of": pl.Date,
    "source": pl.String,
    "database": pl.String,
    "policy_digest": pl.String,
    "controls_digest": pl.String,
    "findings_digest": pl.String,
    "findings": pl.Int64,
    "alarms": pl.Int64,
    "suppressed": pl.Int64,
    "errors": pl.Int64,
}
_ALARM_SCHEMA = {
    "run_id": pl.Int64,
    "as_of": pl.Date,
    "control_id": pl.String,
    "resource": pl.String,
    "status": pl.String,
    "severity": pl.String,
    "reason": pl.String,
}
_KEY = ["control_id", "resource"]
_KEPT_COLUMNS = ("control_id", "resource", "status", "severity", "reason")  # then observed_at, as text
# The findings file is hashed a slice at a time: its bytes are those of `check --format jsonl` (one line per row,
# so slices concatenate to the whole file), without holding the whole file at once (460 MB at 100M events).
_DIGEST_SLICE_ROWS = 50_000


def _controls_digest(control_ids: Iterable[str] | None = None) -> str:
    from compliance.queries import controls

    wanted = set(control_ids) if control_ids is not None else None
    h = hashlib.sha256()
    for q in controls():
        if wanted is None or q.control_id in wanted:
            h.update(f"{q.control_id}={q.digest}\n".encode())
    return h.hexdigest()


def _findings_digest(findings: pl.DataFrame) -> str:
    """SHA-256 of the findings as `check --format jsonl` writes them."""
    from compliance.check import render_findings

    digest = hashlib.sha256()
    for offset in range(0, findings.height, _DIGEST_SLICE_ROWS):
        digest.update(render_findings(findings.slice(offset, _DIGEST_SLICE_ROWS), "jsonl"))
    return digest.hexdigest()


def record_run(
    db: Path | str,
    findings: pl.DataFrame,
    as_of: date,
    source: str,
    policy_digest: str,
    *,
    recorded_at: str | None = None,
) -> int:
    """Keep this run's findings in the history beside `db`; returns the run id."""
    counts = dict(findings.group_by("status").len().iter_rows())
    kept = findings.filter(pl.col("status").is_in(_KEEP)).select(
        *_KEPT_COLUMNS, pl.col("observed_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")
    )
    run = (
        recorded_at or utc_now(),
        as_of.isoformat(),
        source,
        str(Path(db).resolve()),
        policy_digest,
        _controls_digest(findings["control_id"].unique().to_list()),
        _findings_digest(findings),  # before the store is opened: the slow part holds no write lock
        findings.height,
        int(counts.get("alarm", 0)),
        int(counts.get("suppressed", 0)),
        int(counts.get("error", 0)),
    )
    with connect(db) as con:
        cur = con.execute(
            "insert into runs (recorded_at, as_of, source, database, policy_digest, controls_digest,"
            " findings_digest, findings, alarms, suppressed, errors) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run,
        )
        run_id = int(cur.lastrowid or 0)
        con.executemany(
            "insert into run_findings values (?, ?, ?, ?, ?, ?, ?)", ((run_id, *r) for r in kept.iter_rows())
        )
    return run_id


def recorded_runs(db: Path | str, start: date | None = None, end: date | None = None) -> pl.DataFrame:
    """The latest recorded run of each as-of date in [start, end], oldest date first."""
    with read(db) as con:
        if con is None:
            return pl.DataFrame(schema=_RUN_SCHEMA)
        rows = con.execute(f"select {', '.join(_RUN_SCHEMA)} from runs order by run_id").fetchall()
    runs = pl.DataFrame(
        [(r[0], r[1], date.fromisoformat(r[2]), *r[3:]) for r in rows], schema=_RUN_SCHEMA, orient="row"
    )
    runs = runs.group_by("as_of").agg(pl.all().sort_by("run_id").last()).select(list(_RUN_SCHEMA)).sort("as_of")
    if start is not None:
        runs = runs.filter(pl.col("as_of") >= start)
    if end is not None:
        runs = runs.filter(pl.col("as_of") <= end)
    return runs


def _run_rows(db: Path | str, runs: pl.DataFrame, statuses: tuple[str, ...]) -> pl.DataFrame:
    """The kept findings of `runs` with one of `statuses`, one row per (run, control_id, resource)."""
    if runs.is_empty():
        return pl.DataFrame(schema=_ALARM_SCHEMA)
    ids = runs["run_id"].to_list()
    marks = ", ".join("?" * len(ids))
    smarks = ", ".join("?" * len(statuses))
    with read(db) as con:
        if con is None:
            return pl.DataFrame(schema=_ALARM_SCHEMA)
        rows = con.execute(
            "select run_id, control_id, resource, status, severity, reason from run_findings"
            f" where run_id in ({marks}) and status in ({smarks})",
            (*ids, *statuses),
        ).fetchall()
    frame = pl.DataFrame(rows, schema={k: v for k, v in _ALARM_SCHEMA.items() if k != "as_of"}, orient="row")
    frame = frame.join(runs.select("run_id", "as_of"), on="run_id")
    return frame.unique(["run_id", *_KEY], keep="first", maintain_order=True).select(list(_ALARM_SCHEMA))


@dataclass(frozen=True)
class RunChange:
    """What changed from run `before` to run `after`."""

    before: date
    after: date
    new: pl.DataFrame  # alarms in `after`, not in `before`
    resolved: pl.DataFrame  # alarms in `before`, not in `after`
    persisting: pl.DataFrame  # alarms in both (rows of `after`)


def changes_between_runs(db: Path | str, start: date | None = None, end: date | None = None) -> list[RunChange]:
    """For each pair of consecutive recorded as-of dates in [start, end]: new, resolved, persisting alarms."""
    runs = recorded_runs(db, start, end)
    alarms = _run_rows(db, runs, ("alarm",))
    dates = runs["as_of"].to_list()
    out = []
    for before, after in itertools.pairwise(dates):
        b = alarms.filter(pl.col("as_of") == before)
        a = alarms.filter(pl.col("as_of") == after)
        out.append(
            RunChange(
                before=before,
                after=after,
                new=a.join(b, on=_KEY, how="anti").sort(_KEY),
                resolved=b.join(a, on=_KEY, how="anti").sort(_KEY),
                persisting=a.join(b, on=_KEY, how="semi").sort(_KEY),
            )
        )
    return out


def changes_table(changes: list[RunChange]) -> pl.DataFrame:
    """The changes as one table (for a CSV an auditor keeps): one row per alarm per pair of runs."""
    schema = {"from_as_of": pl.Date, "to_as_of": pl.Date, "change": pl.String, "control_id": pl.String,
              "resource": pl.String, "severity": pl.String, "reason": pl.String}  # fmt: skip
    parts = [
        frame.select(
            pl.lit(c.before).alias("from_as_of"),
            pl.lit(c.after).alias("to_as_of"),
            pl.lit(kind).alias("change"),
            "control_id",
            "resource",
            "severity",
            "reason",
        )
        for c in changes
        for kind, frame in (("new", c.new), ("resolved", c.resolved), ("persisting", c.persisting))
    ]
    return pl.concat(parts).cast(schema) if parts else pl.DataFrame(schema=schema)


def alarms_over_time(db: Path | str) -> pl.DataFrame:
    """Per recorded as-of date: alarms, suppressed findings and errors (for the Overview chart)."""
    runs = recorded_runs(db)
    return runs.select("as_of", "alarms", "suppressed", "errors", "source")


def first_last_seen(db: Path | str) -> pl.DataFrame:
    """Per (control_id, resource): the first and last recorded as-of date it was an alarm or suppressed,
    and when the latest run in which it was an alarm was recorded (`alarm_recorded_at`, RFC 3339 UTC;
    null when never an alarm), which tells a resolved finding that came back."""
    runs = recorded_runs(db)
    rows = _run_rows(db, runs, ("alarm", "suppressed")).join(runs.select("run_id", "recorded_at"), on="run_id")
    return rows.group_by(_KEY).agg(
        pl.col("as_of").min().alias("first_seen"),
        pl.col("as_of").max().alias("last_seen"),
        pl.col("recorded_at").filter(pl.col("status") == "alarm").max().alias("alarm_recorded_at"),
    )


def time_to_resolve(db: Path | str) -> pl.DataFrame:
    """Per control: alarms resolved across the recorded runs and the days from first seen to the first
    run without them (median and longest), and alarms still open at the latest run.

    An alarm that disappears and comes back counts as two episodes."""
    runs = recorded_runs(db)
    schema = {
        "control_id": pl.String,
        "resolved": pl.Int64,
        "median_days": pl.Float64,
        "max_days": pl.Int64,
        "still_open": pl.Int64,
    }
    if runs.height == 0:
        return pl.DataFrame(schema=schema)
    alarms = _run_rows(db, runs, ("alarm",))
    order = runs.select("as_of").with_row_index("run_no")
    dates = runs["as_of"].to_list()
    episodes = (
        alarms.join(order, on="as_of")
        .sort([*_KEY, "run_no"])
        # A new episode starts where the previous run of the same alarm is not the run just before.
        .with_columns((pl.col("run_no").diff().over(_KEY).fill_null(0) != 1).cum_sum().over(_KEY).alias("episode"))
        .group_by([*_KEY, "episode"])
        .agg(pl.col("as_of").min().alias("first_seen"), pl.col("run_no").max().alias("last_run"))
    )
    last_run = len(dates) - 1
    closed = episodes.filter(pl.col("last_run") < last_run).with_columns(
        pl.col("last_run").map_elements(lambda i: dates[i + 1], return_dtype=pl.Date).alias("resolved_as_of")
    )
    closed = closed.with_columns((pl.col("resolved_as_of") - pl.col("first_seen")).dt.total_days().alias("days"))
    resolved = closed.group_by("control_id").agg(
        pl.len().cast(pl.Int64).alias("resolved"),
        pl.col("days").median().cast(pl.Float64).alias("median_days"),
        pl.col("days").max().cast(pl.Int64).alias("max_days"),
    )
    still = (
        episodes.filter(pl.col("last_run") == last_run)
        .group_by("control_id")
        .agg(pl.len().cast(pl.Int64).alias("still_open"))
    )
    return (
        resolved.join(still, on="control_id", how="full", coalesce=True)
        .with_columns(pl.col("resolved").fill_null(0), pl.col("still_open").fill_null(0))
        .select(list(schema))
        .cast(schema)
        .sort("control_id")
    )
