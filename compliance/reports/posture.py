"""The policy posture: status counts per control and per policy section, and one word per section.

A section's alarms, controls in alarm and highest severity are `compliance.posture_counts`'s (the one
definition the dashboard and notebooks count with), taken from the per-control counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from compliance.controls import STATUSES
from compliance.posture_counts import alarms_by_section_of_summary
from compliance.schema import SEVERITIES

SECTION_ORDER = ("PS", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def _highest(severities: Iterable[str | None]) -> str | None:
    present = [s for s in severities if s in SEVERITIES]
    return max(present, key=SEVERITIES.index) if present else None


def control_summary(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per control: its section, rows per status, the highest alarm severity, and the reason of
    a skip or error row (why the control evidenced nothing)."""
    rows = []
    for (control_id,), part in findings.group_by("control_id", maintain_order=True):
        counts = dict(part.group_by("status").len().iter_rows())
        note = part.filter(pl.col("status").is_in(["skip", "error"]))["reason"].head(1).to_list()
        rows.append(
            {
                "control_id": control_id,
                "policy_section": part["policy_section"][0],
                "rows": part.height,
                **{s: int(counts.get(s, 0)) for s in STATUSES},
                "highest_severity": _highest(part.filter(pl.col("status") == "alarm")["severity"].to_list()),
                "note": note[0] if note else None,
            }
        )
    schema: dict[str, Any] = {"control_id": pl.String, "policy_section": pl.String, "rows": pl.Int64}
    schema |= {s: pl.Int64 for s in STATUSES} | {"highest_severity": pl.String, "note": pl.String}
    return pl.DataFrame(rows, schema=schema).sort("control_id")


def _posture(part: pl.DataFrame, totals: Mapping[str, int]) -> str:
    """The section's word from its controls' rows (`part`) and status totals."""
    if part.height == 0:
        return "no control"
    if totals["alarm"]:
        return "alarm"
    if totals["error"]:
        return "error"
    return "skip" if part.filter(pl.col("skip") > 0).height == part.height else "ok"


def posture_by_section(
    summary: pl.DataFrame, titles: Mapping[str, str] | None = None, selected: Mapping[str, int] | None = None
) -> pl.DataFrame:
    """Per policy section (PS, 1..9, every one even without controls): controls, controls in alarm,
    status counts, the highest alarm severity and a posture word.

    Posture: `alarm` (some control alarms), `error` (a control failed, none alarms), `skip` (every
    control skipped: no data), `ok`, or `no control` (nothing in the catalog evidences the section).
    `summary` is `control_summary`'s frame (or any frame with its columns). `selected` (a run of some
    controls, as `compliance check --section` makes) counts the controls run per section: then only
    those sections and the ones in `summary` are listed, with every selected control counted, even one
    that returned no rows.
    """
    titles = titles or {}
    rows = []
    present = set(summary["policy_section"].drop_nulls().to_list())
    listed = SECTION_ORDER if selected is None else [s for s in SECTION_ORDER if s in present | set(selected)]
    sections = [*listed, *sorted((present | set(selected or {})) - set(SECTION_ORDER))]
    alarms = {r["policy_section"]: r for r in alarms_by_section_of_summary(summary, sections).iter_rows(named=True)}
    for section in sections:
        part = summary.filter(pl.col("policy_section") == section)
        totals = {s: int(part[s].sum()) for s in STATUSES} | {"alarm": alarms[section]["open_alarms"]}
        rows.append(
            {
                "policy_section": section,
                "title": titles.get(section),
                "posture": _posture(part, totals),
                "controls": (selected or {}).get(section, part.height),
                "controls_in_alarm": alarms[section]["controls_in_alarm"],
                **totals,
                "highest_severity": alarms[section]["highest_severity"],
            }
        )
    schema: dict[str, Any] = {"policy_section": pl.String, "title": pl.String, "posture": pl.String}
    schema |= {"controls": pl.Int64, "controls_in_alarm": pl.Int64}
    schema |= {s: pl.Int64 for s in STATUSES} | {"highest_severity": pl.String}
    return pl.DataFrame(rows, schema=schema)
