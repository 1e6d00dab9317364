"""The recorded history of alarms (compliance.history), as the Overview and Triage pages show it.

History and triage live in the writable store beside the audit database (`<db>.triage.sqlite`), not
in the read-only database, and change without a re-ingest (a triage click, a `check --record`), so
they are read on every rerun: a few small SQLite queries, never cached.
"""

from __future__ import annotations

from pathlib import Path

import altair as alt
import polars as pl
import streamlit as st

from compliance.history import alarms_over_time, time_to_resolve
from dashboard import charts
from dashboard.format import grid


def alarms_chart(over_time: pl.DataFrame) -> alt.Chart:
    """Open alarms (and suppressed findings) per recorded as-of date."""
    long = over_time.unpivot(index="as_of", on=["alarms", "suppressed"], variable_name="kind", value_name="findings")
    return (
        alt.Chart(long, title="Open alarms per recorded run (as-of date)")
        .mark_line(point=True)
        .encode(
            x=alt.X("as_of:T", title="As of", axis=alt.Axis(format=charts.DAY_FORMAT)),
            y=alt.Y("findings:Q", title="Findings"),
            color=alt.Color(
                "kind:N",
                title="",
                scale=charts.state_scale({"alarms": "bad", "suppressed": "neutral"}),
            ),
            strokeDash=alt.StrokeDash(
                "kind:N", title="", scale=alt.Scale(domain=["alarms", "suppressed"], range=[[1, 0], [4, 3]])
            ),
            tooltip=[
                alt.Tooltip("as_of:T", title="As of"),
                alt.Tooltip("kind:N", title="What"),
                alt.Tooltip("findings:Q", title="Count"),
            ],
        )
    )


def show_history(db: Path | str) -> None:
    """Open alarms over time and time to resolve per control, or how to start recording runs."""
    over_time = alarms_over_time(db)
    if over_time.height == 0:
        st.info(
            "No run recorded for this database yet: the `compliance ingest` and `compliance check --record` "
            "commands record each run's findings (a database built otherwise, like the bundled demo, starts "
            "with none), so alarms can be followed over time from the next recorded run on."
        )
        return
    if over_time.height == 1:
        st.info(f"One run recorded (as of {over_time['as_of'][0]}): the trend starts with the next one.")
    left, right = st.columns(2)
    with left:
        latest = over_time.sort("as_of").row(-1, named=True)
        charts.show(
            alarms_chart(over_time),
            f"{over_time.height} recorded runs from {over_time['as_of'].min():%d %b %Y} to "
            f"{latest['as_of']:%d %b %Y}; the latest has {latest['alarms']:,} open alarms and "
            f"{latest['suppressed']:,} suppressed findings (most alarms: {over_time['alarms'].max():,}).",
        )
    with right:
        ttr = time_to_resolve(db)
        st.markdown("**Time to resolve, per control** (from first seen to the first run without the alarm)")
        if ttr.height == 0:
            st.info("No alarm in the recorded runs.")
        else:
            grid(
                ttr,
                {
                    "control_id": "Control",
                    "resolved": "Resolved",
                    "median_days": "Median days",
                    "max_days": "Longest (days)",
                    "still_open": "Still open",
                },
                key="time_to_resolve",
            )
