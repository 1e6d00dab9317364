"""What a server does before its first visitor: the imports and the cached results every page starts with."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


def warm_up() -> None:
    """Import the pages' libraries and fill the caches of the default view (never raises: a failure
    here only means the first visitor computes it, and sees the error where it belongs)."""
    started = time.perf_counter()
    try:
        import altair  # noqa: F401  the slowest import of all (jsonschema)
        import pandas  # noqa: F401  tables and styled frames

        # The Overview's modules too (its management summary imports fpdf).
        from dashboard import alarm_history, charts, data, format, problems_by_section, summary_download  # noqa: F401

        as_of = data.as_of_default()
        data.query("freshness_by_source")
        data.query("filter_options")
        if as_of is not None:
            data.controls(as_of)  # the Overview's set: every control, as of the default date
        # The other pages' libraries, so no first visit to a page imports them (the evidence package's writers).
        import compliance.access_log
        import compliance.check
        import compliance.evidence.package  # noqa: F401
        from dashboard import dsr_table  # noqa: F401
    except Exception:  # the first page run reports it to the person
        log.warning("dashboard warm-up failed", exc_info=True)
        return
    log.info("dashboard warmed up in %.1f s", time.perf_counter() - started)
