"""Caveats shown where the numbers are: a source whose data ends well before the as-of date (or holds nothing)
makes an empty list or a zero no evidence that all is well, so the page says so above those figures."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from compliance.source_staleness import SourceCoverage
from dashboard import data


def warn_if_stale(as_of: date, *sources: str, container: Any = None) -> list[SourceCoverage]:
    """A warning per stale or empty source among `sources` (compliance.source_staleness); the stale ones."""
    stale = [c for c in (data.source_coverage(as_of, s) for s in sources) if c.stale]
    for c in stale:
        # The sentence holds only fixed words, dates and numbers: no data text reaches the Markdown.
        (container or st).warning(c.sentence(), icon=":material/history:")
    return stale


def warn_if_any_stale(as_of: date, sources: tuple[str, ...], container: Any = None) -> list[SourceCoverage]:
    """One warning listing every stale or empty source among `sources` (for a page that uses them all)."""
    stale = [c for c in (data.source_coverage(as_of, s) for s in sources) if c.stale]
    if stale:
        limit = stale[0].stale_after_days
        (container or st).warning(
            f"Stale or empty sources as of {as_of} (stale: newest record more than {limit} days before): "
            + "; ".join(c.short() for c in stale)
            + ". Controls that read them judge old data or none: their quiet is not evidence that all is well.",
            icon=":material/history:",
        )
    return stale


def outcome(stale: list[SourceCoverage], good_news: str, container: Any = None) -> None:
    """`good_news` in green when the sources behind it are current; otherwise as a plain statement that
    names the stale data, since nothing found in old data is not good news."""
    target = container or st
    if stale:
        names = ", ".join(c.source for c in stale)
        target.info(f"{good_news} But the data behind it is stale or empty ({names}): see the warning above.")
    else:
        target.success(good_news)
