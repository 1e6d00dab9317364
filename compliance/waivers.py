"""Applying exceptions.yaml waivers to findings: an accepted alarm becomes `suppressed`.

Only `alarm` rows are waived: a waiver accepts a known problem, so it must never hide a control that
failed (`error`) or could not run (`skip`). A suppressed row keeps its severity, time and evidence,
and its reason starts by naming the waiver, so an auditor sees both the problem and who accepted
it. The first waiver in the file that matches wins. Waivers are compared with the as-of date of the
run, never the wall clock, so re-running an old date gives the findings of that date.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from compliance.config.exceptions import Exceptions, Waiver

__all__ = ["SUPPRESSED", "UnusedWaiver", "apply_waivers", "unused_waivers", "waiver_table"]

SUPPRESSED = "suppressed"


def _waiver_note(name: str, waiver: Waiver) -> str:
    return (
        f"Waived by {name} (approved by {waiver.approved_by} on {waiver.approved_at}, "
        f"expires {waiver.expires}: {waiver.reason})."
    )


def _in_force(exceptions: Exceptions, control_id: str | None, as_of: date | None) -> list[tuple[str, Waiver]]:
    return [
        (n, w) for n, w in exceptions.named() if w.in_force(as_of) and (control_id is None or w.control == control_id)
    ]


def apply_waivers(findings: pl.DataFrame, exceptions: Exceptions, as_of: date | None) -> pl.DataFrame:
    """`findings` with every alarm matched by a waiver in force on `as_of` turned `suppressed`."""
    if not exceptions.waivers or findings.is_empty():
        return findings
    waived: dict[tuple[str, str], str] = {}  # (control_id, resource) -> the note naming its waiver
    alarms = findings.filter(pl.col("status") == "alarm").select("control_id", "resource").unique()
    for control_id, resource in alarms.iter_rows():
        for name, waiver in _in_force(exceptions, control_id, as_of):
            if waiver.matches(control_id, resource):
                waived[(control_id, resource)] = _waiver_note(name, waiver)
                break
    if not waived:
        return findings
    notes = pl.DataFrame(
        [{"control_id": c, "resource": r, "_waiver": note} for (c, r), note in waived.items()],
        schema={"control_id": pl.String, "resource": pl.String, "_waiver": pl.String},
    )
    hit = (pl.col("status") == "alarm") & pl.col("_waiver").is_not_null()
    return (
        findings.join(notes, on=["control_id", "resource"], how="left", maintain_order="left")
        .with_columns(
            pl.when(hit).then(pl.lit(SUPPRESSED)).otherwise(pl.col("status")).alias("status"),
            pl.when(hit).then(pl.col("_waiver") + " " + pl.col("reason")).otherwise(pl.col("reason")).alias("reason"),
        )
        .drop("_waiver")
    )


@dataclass(frozen=True)
class UnusedWaiver:
    name: str
    waiver: Waiver
    why: str  # "matched no alarm", "expired", "not yet approved"

    def sentence(self) -> str:
        w = self.waiver
        return f"Waiver {self.name} ({w.control} {w.resource}, approved by {w.approved_by}) {self.why}."


def unused_waivers(
    findings: pl.DataFrame, exceptions: Exceptions, as_of: date | None, control_ids: Iterable[str] | None = None
) -> list[UnusedWaiver]:
    """The waivers that suppressed nothing in `findings`, with why: expired or not yet in force on
    `as_of`, or in force but matching no alarm (the problem is gone, or the resource is misspelt).
    Only waivers of the controls that ran (`control_ids`, default: those in `findings`) are judged."""
    ran = set(control_ids) if control_ids is not None else set(findings["control_id"].unique().to_list())
    suppressed = findings.filter(pl.col("status") == SUPPRESSED).select("control_id", "reason")
    out = []
    for name, waiver in exceptions.named():
        if waiver.control not in ran:
            continue
        if as_of is not None and as_of >= waiver.expires:
            out.append(UnusedWaiver(name, waiver, f"expired on {waiver.expires}"))
        elif not waiver.in_force(as_of):
            out.append(UnusedWaiver(name, waiver, f"is not in force on {as_of or 'an unknown date'}"))
        else:
            note = _waiver_note(name, waiver)
            used = suppressed.filter((pl.col("control_id") == waiver.control) & pl.col("reason").str.starts_with(note))
            if used.is_empty():
                out.append(UnusedWaiver(name, waiver, "matched no alarm"))
    return out


def waiver_table(exceptions: Exceptions, as_of: date | None = None) -> pl.DataFrame:
    """Every waiver as a row (for evidence packages and notebooks), with whether it is in force on `as_of`."""
    rows = [
        {
            "waiver": name,
            "control_id": w.control,
            "resource": w.resource,
            "reason": w.reason,
            "approved_by": w.approved_by,
            "approved_at": w.approved_at,
            "expires": w.expires,
            "in_force": w.in_force(as_of) if as_of is not None else None,
        }
        for name, w in exceptions.named()
    ]
    schema = {
        "waiver": pl.String, "control_id": pl.String, "resource": pl.String, "reason": pl.String,
        "approved_by": pl.String, "approved_at": pl.Date, "expires": pl.Date, "in_force": pl.Boolean,
    }  # fmt: skip
    return pl.DataFrame(rows, schema=schema)
