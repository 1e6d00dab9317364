"""Which export sources end well before the as-of date, and the sentence that says so.

A page that finds nothing wrong in a source whose data stops weeks before the as-of date must not show that as
good news ("No request is open"): the requests received since are simply not in the data. One rule decides,
for every page and notebook: a source is **stale** when its newest record (`freshness_by_source.newest_at`)
lies more than `settings.freshness.stale_after_days` days (default 14) before the as-of date, and **empty**
when the export holds no row of it at all. A source whose data reaches the as-of date or beyond is current.
A source's newest record is its newest timestamp of any kind: a DSR export of requests received in March but
acknowledged, extended or completed last week reaches last week (likewise an incident contained or notified after
its detection); an inventory is as new as its snapshot; event logs as their newest event.

Only event sources are judged; reference lists (directory, tenants, subjects) carry start dates, old by nature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

__all__ = ["EVENT_SOURCES", "SOURCE_LABELS", "SourceCoverage", "source_coverage", "stale_sources"]

EVENT_SOURCES = ("audit", "usage", "diagnostic", "dsr", "inventory", "incidents")
SOURCE_LABELS = {
    "audit": "audit log export",
    "usage": "product analytics export",
    "diagnostic": "diagnostic log export",
    "dsr": "data subject request export",
    "inventory": "records inventory export",
    "incidents": "incident register export",
}


@dataclass(frozen=True)
class SourceCoverage:
    """How far one source's data reaches against the as-of date."""

    source: str
    rows: int
    newest: date | None
    as_of: date
    stale_after_days: int

    @property
    def days_behind(self) -> int | None:
        """Days from the newest record to the as-of date (negative: the data reaches past it)."""
        return None if self.newest is None else (self.as_of - self.newest).days

    @property
    def empty(self) -> bool:
        return self.rows == 0 or self.newest is None

    @property
    def stale(self) -> bool:
        """Empty, or ending more than `stale_after_days` before the as-of date."""
        behind = self.days_behind
        return self.empty or (behind is not None and behind > self.stale_after_days)

    def short(self) -> str:
        """A few words for a list of stale sources: 'dsr: no rows' or 'dsr: ends 2025-03-31, 63 days before'."""
        if self.empty:
            return f"{self.source}: no rows"
        return f"{self.source}: ends {self.newest}, {self.days_behind} days before"

    def sentence(self) -> str:
        """What a reader must know before trusting figures from this source (empty when it is current)."""
        label = SOURCE_LABELS.get(self.source, f"{self.source} export")
        if self.empty:
            return (
                f"The {label} holds no rows: nothing it would show can be judged, so an empty list here is not "
                "evidence that all is well."
            )
        if not self.stale:
            return ""
        return (
            f"The {label} ends on {self.newest}, {self.days_behind} days before the as-of date {self.as_of} "
            f"(stale after {self.stale_after_days} days): anything since then is not in the data, so the figures "
            "below may be out of date and an empty list is not evidence that all is well."
        )


def source_coverage(freshness: pl.DataFrame, as_of: date, stale_after_days: int, source: str) -> SourceCoverage:
    """The coverage of `source` from a `freshness_by_source` frame (a source absent from it is empty)."""
    row = freshness.filter(pl.col("source") == source)
    if row.height == 0:
        return SourceCoverage(source, 0, None, as_of, stale_after_days)
    rows, newest = row.select("row_count", "newest_at").row(0)
    return SourceCoverage(
        source, int(rows or 0), newest.date() if newest is not None else None, as_of, stale_after_days
    )


def stale_sources(
    freshness: pl.DataFrame, as_of: date, stale_after_days: int, sources: tuple[str, ...] = EVENT_SOURCES
) -> list[SourceCoverage]:
    """The stale (or empty) sources among `sources`, in the order given."""
    covered = [source_coverage(freshness, as_of, stale_after_days, s) for s in sources]
    return [c for c in covered if c.stale]
