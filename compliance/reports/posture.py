"""The policy posture: status counts per control and per policy section, and one word per section."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from compliance.controls import STATUSES
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
    for section in sections:
        part = summary.filter(pl.col("policy_section") == section)
        totals = {s: int(part[s].sum()) for s in STATUSES}
        controls = (selected or {}).get(section, part.height)
        if part.height == 0:
            posture = "no control"
        elif totals["alarm"]:
            posture = "alarm"
        elif totals["error"]:
            posture = "error"
        elif part.filter(pl.col("skip") > 0).height == part.height:
            posture = "skip"
        else:
            posture = "ok"
        rows.append(
            {
                "policy_section": section,
                "title": titles.get(section),
                "posture": posture,
                "controls": controls,
                "controls_in_alarm": part.filter(pl.col("alarm") > 0).height,
                **totals,
                "highest_severity": _highest(part["highest_severity"].to_list()),
            }
        )
    schema: dict[str, Any] = {"policy_section": pl.String, "title": pl.String, "posture": pl.String}
    schema |= {"controls": pl.Int64, "controls_in_alarm": pl.Int64}
    schema |= {s: pl.Int64 for s in STATUSES} | {"highest_severity": pl.String}
    return pl.DataFrame(rows, schema=schema)
