"""Triage: each finding's (control id + resource) state, assignee and note, with its full history.

States: `open` (the default of an alarm nobody has looked at), `acknowledged`, `resolved`,
`false_positive` and `risk_accepted`. Any state may follow any other (a resolved alarm can be
reopened), every change needs a note saying why, and every change is appended to the store with who
made it and when; the current state is the latest change. An assignee carries over until changed.

Public helpers for notebooks and evidence packages: `findings_with_state` (findings beside their
waiver, triage state and first/last seen) and `triage_records` (every change ever made).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from compliance.posture_counts import is_waived_alarm, open_alarms
from compliance.triage_store import connect, read, store_path, utc_now

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = [
    "STATES",
    "STATE_COLUMNS",
    "TriageChange",
    "TriageError",
    "current_states",
    "findings_with_state",
    "set_state",
    "state_text",
    "triage_evidence",
    "triage_history",
    "triage_records",
    "triage_summary",
]

STATES = ("open", "acknowledged", "resolved", "false_positive", "risk_accepted")
# States in which nobody needs to act on the alarm any more.
CLOSED_STATES = ("resolved", "false_positive", "risk_accepted")
# What a reader needs beside each finding a notebook or report discusses (from `findings_with_state`).
STATE_COLUMNS = ("waived", "triage_state", "assignee", "triage_note")

_EVENT_SCHEMA = {
    "event_id": pl.Int64,
    "control_id": pl.String,
    "resource": pl.String,
    "state": pl.String,
    "assignee": pl.String,
    "note": pl.String,
    "changed_by": pl.String,
    "changed_at": pl.String,
}
_STATE_SCHEMA = {k: v for k, v in _EVENT_SCHEMA.items() if k != "event_id"} | {"changes": pl.Int64}


class TriageError(ValueError):
    """A triage change was refused (unknown state or control, empty note or resource)."""


@dataclass(frozen=True)
class TriageChange:
    control_id: str
    resource: str
    previous: str  # the state before ("open" for a finding never triaged)
    state: str
    assignee: str | None
    note: str
    changed_by: str
    changed_at: str


def _known_controls() -> set[str]:
    from compliance.queries import controls

    return {str(q.control_id) for q in controls()}


def set_state(
    db: Path | str,
    control_id: str,
    resource: str,
    state: str,
    note: str,
    changed_by: str,
    assignee: str | None = None,
    *,
    changed_at: str | None = None,
) -> TriageChange:
    """Append a state change for the finding (control_id, resource) to the store beside `db`."""
    if state not in STATES:
        raise TriageError(f"unknown state {state!r}; expected one of {', '.join(STATES)}")
    if control_id not in _known_controls():
        raise TriageError(f"unknown control id {control_id!r}")
    resource, note, changed_by = resource.strip(), note.strip(), changed_by.strip()
    if not resource:
        raise TriageError("the resource is empty")
    if not note:
        raise TriageError("a note saying why is required for every change")
    if not changed_by:
        raise TriageError("who made the change is required")
    when = changed_at or utc_now()
    with connect(db) as con:
        last = con.execute(
            "select state, assignee from triage_events where control_id = ? and resource = ?"
            " order by event_id desc limit 1",
            (control_id, resource),
        ).fetchone()
        previous, previous_assignee = last if last else ("open", None)
        if assignee is None:
            assignee = previous_assignee
        elif not assignee.strip():
            assignee = None  # an empty --assignee clears it
        con.execute(
            "insert into triage_events (control_id, resource, state, assignee, note, changed_by, changed_at)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            (control_id, resource, state, assignee, note, changed_by, when),
        )
    return TriageChange(control_id, resource, previous, state, assignee, note, changed_by, when)


def _events(db: Path | str, where: str = "", params: tuple = ()) -> pl.DataFrame:
    with read(db) as con:
        if con is None:
            return pl.DataFrame(schema=_EVENT_SCHEMA)
        rows = con.execute(
            f"select {', '.join(_EVENT_SCHEMA)} from triage_events {where} order by event_id", params
        ).fetchall()
    return pl.DataFrame(rows, schema=_EVENT_SCHEMA, orient="row")


def triage_records(db: Path | str) -> pl.DataFrame:
    """Every triage change ever made, oldest first (for evidence packages)."""
    return _events(db)


def triage_evidence(db: Path | str, policy: Policy, as_of: date | None = None) -> dict[str, pl.DataFrame]:
    """What an evidence package holds of the alarm work, one small table each: the waivers (with
    whether each is in force on `as_of`), the current triage states, every triage change, and the
    recorded runs with their digests."""
    from compliance.history import recorded_runs
    from compliance.waivers import waiver_table

    return {
        "waivers": waiver_table(policy.exceptions, as_of),
        "triage_states": current_states(db),
        "triage_changes": triage_records(db),
        "runs": recorded_runs(db),
    }


def triage_history(db: Path | str, control_id: str, resource: str) -> pl.DataFrame:
    """The changes of one finding, oldest first."""
    return _events(db, "where control_id = ? and resource = ?", (control_id, resource))


def current_states(db: Path | str, states: list[str] | None = None) -> pl.DataFrame:
    """The latest state of every finding ever triaged, with how many changes it has had."""
    events = _events(db)
    if events.is_empty():
        return pl.DataFrame(schema=_STATE_SCHEMA)
    latest = (
        events.group_by("control_id", "resource")
        .agg(pl.all().sort_by("event_id").last(), pl.len().cast(pl.Int64).alias("changes"))
        .select(list(_STATE_SCHEMA))
        .sort("control_id", "resource")
    )
    return latest.filter(pl.col("state").is_in(states)) if states else latest


def findings_with_state(
    db: Path | str,
    findings: pl.DataFrame | None = None,
    *,
    policy: Policy | None = None,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Findings beside their waiver and triage state, for notebooks, reports and the dashboard.

    `findings` defaults to every control's findings of the database at `db` as of `as_of` (default:
    the data's newest date), stored rows where fresh. Adds `waived` (suppressed by exceptions.yaml),
    `triage_state` (`open` for an alarm never triaged, null for rows that need no triage),
    `assignee`, `triage_note`, `triaged_by`, `triaged_at`, `reopened` (triaged resolved, yet an alarm in
    a run recorded after that: its state shows `open` again), and `first_seen` / `last_seen` (as-of
    dates of the recorded runs in which it was an alarm or suppressed; null when never recorded).
    """
    from compliance.history import first_last_seen

    if findings is None:
        findings = _findings_of(db, policy, as_of)
    states = current_states(db).select(
        "control_id",
        "resource",
        pl.col("state").alias("triage_state"),
        "assignee",
        pl.col("note").alias("triage_note"),
        pl.col("changed_by").alias("triaged_by"),
        pl.col("changed_at").alias("triaged_at"),
    )
    seen = first_last_seen(db)
    needs_triage = pl.col("status").is_in(["alarm", "suppressed"])
    # Resolved, yet an alarm again in a run recorded after that: the fix did not hold.
    reopened = (
        (pl.col("triage_state") == "resolved")
        & (pl.col("status") == "alarm")
        & (pl.col("alarm_recorded_at") > pl.col("triaged_at")).fill_null(False)
    )
    return (
        findings.join(states, on=["control_id", "resource"], how="left", maintain_order="left")
        .join(seen, on=["control_id", "resource"], how="left", maintain_order="left")
        .with_columns(
            (pl.col("status") == "suppressed").alias("waived"),
            reopened.alias("reopened"),
            pl.when(reopened | (pl.col("triage_state").is_null() & needs_triage))
            .then(pl.lit("open"))
            .otherwise(pl.col("triage_state"))
            .alias("triage_state"),
        )
        .drop("alarm_recorded_at")
    )


def triage_summary(db: Path | str, findings: pl.DataFrame) -> str:
    """One sentence for a conclusion: of the alarms in `findings` (from `findings_with_state`, waived
    ones included), how many exceptions.yaml waives and triage has acknowledged, closed or left open."""
    # Open and waived alarms as compliance.posture_counts defines them (`waived` is the suppressed status).
    live = open_alarms(findings)
    waived = findings.filter(is_waived_alarm()).height
    acknowledged = live.filter(pl.col("triage_state") == "acknowledged").height
    closed = live.filter(pl.col("triage_state").is_in(CLOSED_STATES)).height
    head = f"{live.height + waived} alarm(s), {waived} of them waived by exceptions.yaml"
    if not store_path(db).exists():
        return f"{head}; none triaged yet (no triage store beside the database), so {live.height} remain open."
    return (
        f"{head}, {acknowledged} acknowledged, {closed} closed by triage (resolved, false positive or risk "
        f"accepted), {live.height - acknowledged - closed} open."
    )


def state_text(finding: dict) -> str:
    """A finding's waiver and triage state as printed beside it (a row of `findings_with_state`)."""
    if finding["waived"]:
        return "waived"
    if finding["triage_state"] is None:
        return "no triage needed"
    who = f", {finding['assignee']}" if finding["assignee"] else ""
    note = f" ({finding['triage_note']})" if finding["triage_note"] else ""
    return f"triage: {finding['triage_state']}{who}{note}"


def _findings_of(db: Path | str, policy: Policy | None, as_of: date | None) -> pl.DataFrame:
    from compliance.audit_database import connect_current
    from compliance.config.bundle import load_policy
    from compliance.controls import default_as_of
    from compliance.stored_findings import findings_as_of

    policy = policy or load_policy()
    with connect_current(db) as con:
        return findings_as_of(con, policy, as_of or default_as_of(con))
