"""Planted audit problems: one small, well-defined story per access/security/data-map control.

Each story is a handful of events added to an otherwise normal day, placed so it trips its own
control and, where avoidable, no other. The ground truth is written as the story is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from compliance.demo.clock import DAY_MS, EPOCH0_MS, GEN_FIRST, day_of, dt_of, ms_of
from compliance.demo.context import Ctx
from compliance.demo.events import rows_frame
from compliance.demo.planted_access import AccessStories
from compliance.demo.planted_base import (
    AU_READ_DAY,
    BULK_DAY,
    DROPBOX_DAY,
    ERASED_READ_DAYS,
    GAP_END,
    GAP_START,
    GAP_SYSTEM,
    GRANT_DAY,
    OFF_HOURS_DAY,
    OUT_OF_ROLE_DAY,
    PURPOSE_DAY,
    SPIKE_DAY,
    TRAVEL_DAY,
    VOICEPRINT_DAY,
    WETRANSFER_DAY,
)
from compliance.demo.planted_data import DataStories

__all__ = ["SPIKE_DAY", "Plants", "dormant_truth", "gap_mask", "mfa_truth"]


@dataclass
class Plants(AccessStories, DataStories):
    by_day: dict[int, pl.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        st = self.ctx.workforce.staff
        # Planted days must be ordinary workdays for the people in them.
        for key, d in (
            ("off_hours", OFF_HOURS_DAY),
            ("volume_spike", SPIKE_DAY),
            ("out_of_role", OUT_OF_ROLE_DAY),
            ("bulk_export", BULK_DAY),
            ("impossible_travel", TRAVEL_DAY),
            ("grants_admin", GRANT_DAY),
            ("voiceprint", VOICEPRINT_DAY),
            ("undeclared_use", PURPOSE_DAY),
            ("reads_in_au", AU_READ_DAY),
            ("unapproved_export", DROPBOX_DAY),
            ("unapproved_share", WETRANSFER_DAY),
            ("reads_erased", ERASED_READ_DAYS[0]),
            ("reads_erased", ERASED_READ_DAYS[1]),
        ):
            st.works[st.cast[key], day_of(d) - GEN_FIRST] = True
        for story in (
            self.off_hours,
            self.out_of_role,
            self.bulk_export,
            self.failed_burst,
            self.terminated,
            self.impossible_travel,
            self.privilege_grant,
            self.undeclared_category,
            self.undeclared_use,
            self.transfers,
            self.disclosures,
            self.processing_after_erasure,
            self.audit_gap,
        ):
            story()
        df = rows_frame(self.rows)
        utc = (df["occurred_at"] - EPOCH0_MS) // DAY_MS
        for d in sorted(set(utc.to_list())):
            self.by_day[int(d)] = df.filter(utc == d)


def gap_mask(df: pl.DataFrame) -> pl.Series:
    """Rows to keep: everything except the planted silent window of one system."""
    lo, hi = ms_of(GAP_START), ms_of(GAP_END)
    silent = (df["system"] == GAP_SYSTEM) & (df["occurred_at"] >= lo) & (df["occurred_at"] < hi)
    return ~silent.fill_null(False)


def dormant_truth(ctx: Ctx, first_ms: int | None) -> None:
    st = ctx.workforce.staff
    actor = st.actor_id[st.cast["dormant"]]
    when = dt_of(first_ms) if first_ms is not None else None
    ctx.truth.finding(
        "access.dormant_account",
        f"actor:{actor}@{when.date() if when else None}",
        when,
        "Active sales rep with no events from 2025-03-21 for 150 days, back on 2025-08-20 "
        "(sign-in and reads); dormant_days is 90.",
    )


def mfa_truth(ctx: Ctx) -> None:
    st = ctx.workforce.staff
    for key in ("mfa_missing", "mfa_missing_billing"):
        p = st.cast[key]
        ctx.truth.finding(
            "security.mfa_missing",
            f"actor:{st.actor_id[p]}",
            None,
            f"Active employee with role {st.role[p]} (requires_mfa) has mfa_enabled=false in the directory.",
        )
