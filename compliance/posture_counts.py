"""The one definition of every count of open problems shown by the dashboard and the notebooks.

Every page, notebook and report that states "N open alarms", "N problem rows", "N flagged actors" or a
per-section / per-control count computes it here, from a findings frame (data contract section 4 columns),
so two screens showing the same data can never disagree:

- **open alarm**: a findings row whose `status` is `alarm`. A waived alarm has status `suppressed` and is not
  open; an acknowledged one (triage) is still open until the control stops finding it. Rows that are `info`
  (a warning such as a request due soon), `skip`, `error` or `ok` are not alarms.
- **problem row**: a row that is not `ok` (alarms, infos, skips, errors and waived alarms): what the findings
  export lists as "problems or exceptions". Always at least the open alarms.
- **flagged actor**: an actor named by the resource (`actor:<id>` or `actor:<id>@<day>`) of at least one open
  alarm of an access detector (controls `access.*`, policy section 5). Alarms about other resources (an IP
  address, a system, an account's MFA setting) flag no one.
- **per-section counts** (`alarms_by_section`): open alarms and controls in alarm per policy section (a
  control belongs to the section its catalog entry names), every section given listed even at zero.
- **per-control counts** (`alarms_by_control`): open alarms per control with its share of the section's
  alarms, so one noisy control (130 of a section's 145 alarms) stands out. A caller that keeps counts per
  control rather than every row (the dashboard's control summary, the posture CSV) takes both tables from
  those counts (`alarms_by_control_of_summary`, `alarms_by_section_of_summary`): the same definitions.
- **waived alarm**: status `suppressed` (`is_waived_alarm`); with the open ones, the alarms a conclusion
  accounts for (`triage.triage_summary`).
- **retention records at issue** (`retention_records_at_issue`): the inventory records that need action: each
  record past retention (open alarm of `retention.record_past_retention`) and each record an incomplete erasure
  left behind (the records named in the evidence of an open `retention.erasure_incomplete` alarm), with the days
  since it should have been gone. A record counts once however many reasons name it.

The caller decides which findings are in scope (as-of date, filters); every count of one screen must then be
taken from the same frame. Nothing here reads a database or Streamlit state.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

import polars as pl

from compliance.schema import SEVERITIES

__all__ = [
    "ACCESS_DETECTOR_PREFIX",
    "FLAGGED_ACTOR_PATTERN",
    "actor_in_resource",
    "alarms_by_control",
    "alarms_by_control_of_summary",
    "alarms_by_section",
    "alarms_by_section_of_summary",
    "flagged_actor_count",
    "flagged_actors",
    "is_actor_alarm",
    "is_open_alarm",
    "is_problem_row",
    "is_waived_alarm",
    "open_alarm_count",
    "open_alarms",
    "problem_row_count",
    "retention_records_at_issue",
    "section_sort_key",
]

ACCESS_DETECTOR_PREFIX = "access."
# actor:<id> or actor:<id>@<YYYY-MM-DD>; the id itself never contains '@'.
FLAGGED_ACTOR_PATTERN = r"^actor:([^@]+)(?:@\d{4}-\d{2}-\d{2})?$"
_SEVERITY_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}  # most severe first


def is_open_alarm() -> pl.Expr:
    """True for an open alarm (status `alarm`)."""
    return pl.col("status") == "alarm"


def is_waived_alarm() -> pl.Expr:
    """True for an alarm an exceptions.yaml waiver accepted (status `suppressed`): not open, still accounted for."""
    return pl.col("status") == "suppressed"


def is_problem_row() -> pl.Expr:
    """True for a problem row (any status but `ok`)."""
    return pl.col("status") != "ok"


def open_alarms(findings: pl.DataFrame) -> pl.DataFrame:
    """The open alarms among `findings`."""
    return findings.filter(is_open_alarm())


def open_alarm_count(findings: pl.DataFrame) -> int:
    return open_alarms(findings).height


def problem_row_count(findings: pl.DataFrame) -> int:
    return findings.filter(is_problem_row()).height


def section_sort_key(section: str | None) -> tuple[int, int, str]:
    """Policy sections in document order: PS (the summary) first, then 1, 2, ... 10, then any other id."""
    if section == "PS":
        return (0, 0, "")
    if section is not None and section.isdigit():
        return (1, int(section), "")
    return (2, 0, section or "")


def _rank(column: str = "severity") -> pl.Expr:
    return pl.col(column).replace_strict(_SEVERITY_RANK, default=9, return_dtype=pl.Int64)


def _highest_severity(column: str = "severity") -> pl.Expr:
    """The most severe value of a severity column in a group (None when the group holds none)."""
    return pl.col(column).sort_by(_rank(column)).first()


def alarms_by_control(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per control with at least one open alarm: policy_section, control_id, open_alarms,
    highest_severity, share_of_section (0..1 of its section's open alarms); by section, then most alarms."""
    per_control = (
        open_alarms(findings)
        .group_by("policy_section", "control_id")
        .agg(pl.len().cast(pl.Int64).alias("open_alarms"), _highest_severity().alias("highest_severity"))
    )
    return _ranked_controls(per_control)


def alarms_by_control_of_summary(summary: pl.DataFrame) -> pl.DataFrame:
    """`alarms_by_control` from per-control counts (`reports.control_summary`'s `alarm` and `highest_severity`,
    the severity of its most severe open alarm) instead of the findings rows."""
    per_control = summary.filter(pl.col("alarm") > 0).select(
        "policy_section", "control_id", pl.col("alarm").cast(pl.Int64).alias("open_alarms"), "highest_severity"
    )
    return _ranked_controls(per_control)


def _ranked_controls(per_control: pl.DataFrame) -> pl.DataFrame:
    """Open alarms per control with each one's share of its section's, by section then most alarms."""
    per_control = per_control.with_columns(
        (pl.col("open_alarms") / pl.col("open_alarms").sum().over("policy_section")).alias("share_of_section")
    )
    order = sorted(per_control["policy_section"].unique().to_list(), key=section_sort_key)
    return (
        per_control.with_columns(
            pl.col("policy_section").replace_strict({s: i for i, s in enumerate(order)}, default=None).alias("_o")
        )
        .sort(["_o", "open_alarms", "control_id"], descending=[False, True, False])
        .drop("_o")
        .select("policy_section", "control_id", "open_alarms", "highest_severity", "share_of_section")
    )


def alarms_by_section(findings: pl.DataFrame, sections: Sequence[str] = ()) -> pl.DataFrame:
    """One row per policy section: open_alarms, controls_in_alarm, highest_severity, and the noisiest
    control (top_control, top_control_alarms). Every section in `sections` is listed, with zeros when it has
    no alarm; sections that have alarms but are not in `sections` follow. Document order."""
    return _sections(alarms_by_control(findings), sections)


def alarms_by_section_of_summary(summary: pl.DataFrame, sections: Sequence[str] = ()) -> pl.DataFrame:
    """`alarms_by_section` from per-control counts (see `alarms_by_control_of_summary`)."""
    return _sections(alarms_by_control_of_summary(summary), sections)


def _sections(per_control: pl.DataFrame, sections: Sequence[str]) -> pl.DataFrame:
    per_section = per_control.group_by("policy_section").agg(
        pl.col("open_alarms").sum().alias("open_alarms"),
        pl.len().cast(pl.Int64).alias("controls_in_alarm"),
        _highest_severity("highest_severity").alias("highest_severity"),
        pl.col("control_id").sort_by("open_alarms", descending=True, maintain_order=True).first().alias("top_control"),
        pl.col("open_alarms").max().alias("top_control_alarms"),
    )
    listed = list(dict.fromkeys([*sections, *per_section["policy_section"].to_list()]))
    listed.sort(key=section_sort_key)
    frame = pl.DataFrame({"policy_section": listed}, schema={"policy_section": pl.String})
    return frame.join(per_section, on="policy_section", how="left", maintain_order="left").with_columns(
        pl.col("open_alarms", "controls_in_alarm", "top_control_alarms").fill_null(0).cast(pl.Int64)
    )


def actor_in_resource(resource: str | None) -> str | None:
    """The actor id of a resource `actor:<id>` or `actor:<id>@<day>`; None for any other resource."""
    if resource is None:
        return None
    m = re.match(FLAGGED_ACTOR_PATTERN, resource)
    return m.group(1) if m else None


def is_actor_alarm() -> pl.Expr:
    """True for a row that can flag an actor: an access detector's row whose resource names an actor. Combined
    with `is_open_alarm()` it is what flags someone; waived ones (status `suppressed`) flag no one."""
    return pl.col("control_id").str.starts_with(ACCESS_DETECTOR_PREFIX) & pl.col("resource").str.contains(
        FLAGGED_ACTOR_PATTERN
    )


def flagged_actors(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per flagged actor: actor_id, alarms, detectors (number of access controls in alarm),
    control_ids (comma-separated), highest_severity, severe_alarms (alarms of that highest severity), first and
    last observed_at. Most severe first, then most alarms of that severity, then most alarms, then most
    detectors, then actor id (a reproducible order): one critical exfiltration outranks four low-severity
    oddities."""
    alarms = open_alarms(findings).filter(is_actor_alarm())
    alarms = alarms.with_columns(pl.col("resource").str.extract(FLAGGED_ACTOR_PATTERN, 1).alias("actor_id"))
    return (
        alarms.group_by("actor_id")
        .agg(
            pl.len().cast(pl.Int64).alias("alarms"),
            pl.col("control_id").n_unique().cast(pl.Int64).alias("detectors"),
            pl.col("control_id").unique().sort().str.join(", ").alias("control_ids"),
            _highest_severity().alias("highest_severity"),
            (_rank() == _rank().min()).sum().cast(pl.Int64).alias("severe_alarms"),
            pl.col("observed_at").min().alias("first_observed_at"),
            pl.col("observed_at").max().alias("last_observed_at"),
        )
        .sort(
            [_rank("highest_severity"), "severe_alarms", "alarms", "detectors", "actor_id"],
            descending=[False, True, True, True, False],
        )
    )


def flagged_actor_count(findings: pl.DataFrame) -> int:
    return flagged_actors(findings).height


PAST_RETENTION = "retention.record_past_retention"
ERASURE_INCOMPLETE = "retention.erasure_incomplete"


def retention_records_at_issue(findings: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per (record, why) that needs action, most overdue first: record (system/store/record_id),
    system, store, why ('past retention' or 'left by erasure <request>'), request_id, severity, due_date (the
    retention due date, or when the erasure claimed completion), days_overdue (as of `as_of`), reason.
    `.n_unique("record")` of it is the number of records at issue."""
    alarms = open_alarms(findings)
    past = alarms.filter(pl.col("control_id") == PAST_RETENTION).select(
        pl.col("resource").str.strip_prefix("record:").alias("record"),
        pl.lit("past retention").alias("why"),
        pl.lit(None, pl.String).alias("request_id"),
        "severity",
        "observed_at",
        "reason",
    )
    left = (
        alarms.filter(pl.col("control_id") == ERASURE_INCOMPLETE)
        .explode("evidence")
        .select(
            pl.col("evidence").alias("record"),
            ("left by erasure " + pl.col("resource").str.strip_prefix("dsr:")).alias("why"),
            pl.col("resource").str.strip_prefix("dsr:").alias("request_id"),
            "severity",
            "observed_at",
            "reason",
        )
        # evidence names records as system/store/record_id; a request id alone names no record
        .filter(pl.col("record").str.count_matches("/") >= 2)
    )
    parts = pl.concat([past, left]).with_columns(pl.col("record").str.splitn("/", 3).alias("_p"))
    return (
        parts.with_columns(
            pl.col("_p").struct.field("field_0").alias("system"),
            pl.col("_p").struct.field("field_1").alias("store"),
            pl.col("observed_at").cast(pl.Date).alias("due_date"),
            (pl.lit(as_of) - pl.col("observed_at").cast(pl.Date)).dt.total_days().cast(pl.Int64).alias("days_overdue"),
        )
        .sort(["days_overdue", "record"], descending=[True, False], nulls_last=True)
        .select("record", "system", "store", "why", "request_id", "severity", "due_date", "days_overdue", "reason")
    )
