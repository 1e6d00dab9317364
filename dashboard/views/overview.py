"""Overview: the policy posture section by section, its trend, data freshness and the top open problems."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from compliance.posture_counts import alarms_by_section, open_alarm_count
from compliance.reports import posture_by_section
from compliance.source_staleness import EVENT_SOURCES
from dashboard import caveats, charts, data
from dashboard.alarm_history import show_history
from dashboard.format import (
    blank_grid,
    current_filters,
    grid,
    posture_style,
    table,
)
from dashboard.problems_by_section import show_problems_by_section
from dashboard.summary_download import summary_button

# Plain words: headless browsers and PDF exports often lack an emoji font.
POSTURE_LABELS = {
    "alarm": "ALARM",
    "error": "control error",
    "skip": "no data",
    "ok": "ok",
    "no control": "no control",
}
NOTHING_EXAMINED = "nothing to examine"

f = current_filters()
st.title("Privacy posture")
st.caption(
    f.describe(applies=("period", "severity"))
    + " The section table counts every open alarm as of the date; the filters narrow the problem lists."
)

results = data.controls(f.as_of)
sections = data.query("policy_sections")
titles = dict(sections.select("section_id", "title").iter_rows())
alarms = f.alarms(results.findings)
# Every alarm count on this page comes from compliance.posture_counts, over the kept rows: the posture words
# from the per-control summary, the numbers from the same definition the other pages and notebooks use.
every = alarms_by_section(results.findings, list(titles)).select(
    "policy_section", pl.col("open_alarms").alias("alarm"), "controls_in_alarm"
)
matching = alarms_by_section(alarms, list(titles)).select("policy_section", pl.col("open_alarms").alias("matching"))
posture = (
    posture_by_section(results.summary, titles)
    .drop("alarm", "controls_in_alarm")
    .join(every, on="policy_section", how="left", maintain_order="left")
    .join(matching, on="policy_section", how="left", maintain_order="left")
    .with_columns(pl.col("alarm", "controls_in_alarm", "matching").fill_null(0))
)
filtered = open_alarm_count(alarms) != open_alarm_count(results.findings)
ids = data.identities()

evidenced = posture.filter(pl.col("controls") > 0)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Controls evaluated", results.summary.height)
c2.metric("Sections in alarm", f"{evidenced.filter(pl.col('posture') == 'alarm').height} of {evidenced.height}")
c3.metric(
    "Open alarms",
    open_alarm_count(alarms),
    help="Alarms as of the date, after the severity and period filters (waived alarms are not open).",
)
c4.metric("Critical or high", alarms.filter(pl.col("severity").is_in(["critical", "high"])).height)
c5.metric(
    "Controls without evidence",
    results.summary.filter((pl.col("skip") > 0) | (pl.col("error") > 0)).height,
    help="Controls that skipped (their export was not loaded) or failed: they prove nothing either way.",
)
summary_button(results.findings, f.as_of, titles, ids)  # one-page PDF for management

kept = results.summary.join(
    results.findings.filter(pl.col("status") == "alarm").group_by("control_id").len("kept"), on="control_id", how="left"
).filter(pl.col("alarm") > pl.col("kept").fill_null(0))
if kept.height:
    st.caption(
        "Counts cover the alarms kept per control: "
        + "; ".join(f"{c} has {n:,} in all" for c, n in kept.select("control_id", "alarm").iter_rows())
        + " (its full list is in the Evidence export)."
    )
stale = caveats.warn_if_any_stale(f.as_of, EVENT_SOURCES)

st.subheader("Posture by policy section")
# A section whose controls ran but found nothing to examine (no transfer, no request) is not shown as a
# green "ok": nothing was checked, which a reader must not take for a clean result.
nothing_examined = (pl.col("posture") == "ok") & (pl.col("ok") + pl.col("info") == 0)
shown = posture.with_columns(
    pl.when(nothing_examined)
    .then(pl.lit(NOTHING_EXAMINED))
    .otherwise(pl.col("posture").replace_strict(POSTURE_LABELS, default=pl.col("posture")))
    .alias("posture"),
    pl.col("highest_severity").fill_null("-"),
    pl.col("title").fill_null(""),
)
grid(
    posture_style(
        table(
            shown,
            {
                "policy_section": "Section",
                "title": "Title",
                "posture": "Posture",
                "controls": "Controls",
                "controls_in_alarm": "Controls in alarm",
                "alarm": "Alarms",
                **({"matching": "Alarms matching the filters"} if filtered else {}),
                "ok": "OK",
                "info": "Info",
                "skip": "Skipped",
                "error": "Errors",
                "highest_severity": "Highest severity",
            },
        )
    ),
    key="posture_table",
    column_config={"Title": st.column_config.TextColumn(width="medium")}
    # 52,202 OK rows, not 52202: counts with thousands separators, as in the other tables.
    | {c: st.column_config.NumberColumn(format="localized") for c in ("Alarms", "OK", "Info", "Skipped", "Errors")},
)
st.caption(
    "ALARM: a control found a broken promise. no data: the control's export was not loaded, so it proves "
    f"nothing. {NOTHING_EXAMINED}: its controls ran but the data held nothing they check (no row OK, none in "
    "alarm). no control: the section is a statement (scope, contact) that no control measures."
)

left, right = st.columns(2)
with left:
    by_section = alarms.group_by("policy_section", "severity").agg(pl.len().alias("alarms"))
    if by_section.height:
        charts.show_split_bars(
            by_section,
            noun="open alarms",
            by_noun="sections",
            x="policy_section:N",
            y="alarms:Q",
            **charts.BY_SEVERITY,
            sort=list(titles),
            title="Open alarms by policy section",
            x_title="Policy section",
            y_title="Alarms",
            tooltip=[
                alt.Tooltip("policy_section:N", title="Section"),
                alt.Tooltip("severity:N", title="Severity"),
                alt.Tooltip("alarms:Q", title="Alarms", format=charts.COUNT_FORMAT),
            ],
        )
    else:
        st.info("No alarms as of this date under the current filters: every control that ran found nothing wrong.")
with right:
    trend = (
        alarms.filter(pl.col("observed_at").is_not_null())
        .with_columns(pl.col("observed_at").dt.date().dt.truncate("1mo").alias("month"))
        .group_by("month", "policy_section")
        .agg(pl.len().alias("alarms"))
    )
    if trend.height:
        charts.show(
            charts.bar(
                trend,
                x="month:T",
                y="alarms:Q",
                time_unit="yearmonth",
                color="policy_section:N",
                color_title="Policy section",
                color_scale=charts.categorical(sorted(trend["policy_section"].unique().to_list())),
                title="When the open problems arose (month observed)",
                x_title="Month observed",
                y_title="Alarms",
                tooltip=[
                    alt.Tooltip("month:T", title="Month", format=charts.MONTH_FORMAT),
                    alt.Tooltip("policy_section:N", title="Section"),
                    alt.Tooltip("alarms:Q", title="Alarms", format=charts.COUNT_FORMAT),
                ],
            ),
            charts.series_summary(trend, when="month", value="alarms", noun="open alarms observed"),
        )
    else:
        st.info("No dated alarms to plot over time.")

st.subheader("Top open problems, by policy section")
if alarms.height == 0:
    caveats.outcome(stale, "Nothing to follow up: no open alarm matches the filters.")
else:
    show_problems_by_section(alarms, results, titles, ids)

st.subheader("Alarms over time")
st.caption("From the recorded runs (each ingest and `compliance check --record`); triage them on Alarms & triage.")
show_history(data.database().path)

st.subheader("Data freshness")
# Staleness means something only for sources that log events; reference lists (directory, tenants,
# subjects) carry start dates, which are old by nature.
stale_names = {c.source for c in stale}
fresh = data.query("freshness_by_source").with_columns(
    pl.when(pl.col("source").is_in(EVENT_SOURCES))
    .then((pl.lit(f.as_of) - pl.col("newest_at").cast(pl.Date)).dt.total_days().cast(pl.String))
    .otherwise(pl.lit("n/a (reference list)"))
    .alias("days_behind"),
    pl.when(pl.col("source").is_in(list(stale_names))).then(pl.lit("stale")).otherwise(pl.lit("")).alias("stale"),
)
st.caption(
    "Newest record per export source against the as-of date, and when it was last loaded. A source far behind "
    "the as-of date means its controls judge stale data."
)
blank_grid(
    fresh,
    {
        "source": "Source",
        "time_column": "Dated by",
        "row_count": "Rows",
        "oldest_at": "Oldest (UTC)",
        "newest_at": "Newest (UTC)",
        "days_behind": "Days behind as-of",
        "stale": "Stale",
        "files": "Files",
        "rows_rejected": "Rows rejected",
        "last_loaded_at": "Last loaded (UTC)",
    },
    column_config={"Rows": st.column_config.NumberColumn(format="localized")},
)

every_control = st.expander("Every control's result", key="overview_every_control", on_change="rerun")
if every_control.open:  # built when opened: a grid nobody opened is not sent
    with every_control:
        blank_grid(
            results.summary,
            {
                "control_id": "Control",
                "policy_section": "Section",
                "alarm": "Alarms",
                "ok": "OK",
                "info": "Info",
                "skip": "Skipped",
                "error": "Errors",
                "suppressed": "Waived",
                "highest_severity": "Highest severity",
                "description": "What it checks",
                "note": "Why it proves nothing (skip or error)",
            },
        )
