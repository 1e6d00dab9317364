"""Overview: the policy posture section by section, its trend, data freshness and the top open problems."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from compliance.reports import posture_by_section
from dashboard import charts, data
from dashboard.alarm_history import show_history
from dashboard.format import (
    PAGE_TITLES,
    SEVERITY_RANK,
    Identities,
    control_title,
    current_filters,
    grid,
    md_escape,
    page_for,
    plural,
    posture_style,
    table,
)
from dashboard.summary_download import summary_button

# Plain words: headless browsers and PDF exports often lack an emoji font.
POSTURE_LABELS = {
    "alarm": "ALARM",
    "error": "control error",
    "skip": "no data",
    "ok": "ok",
    "no control": "no control",
}

f = current_filters()
st.title("Privacy posture")
st.caption(f.describe(applies=("period", "severity")) + " The section table counts every finding as of the date.")

results = data.controls(f.as_of)
sections = data.query("policy_sections")
titles = dict(sections.select("section_id", "title").iter_rows())
posture = posture_by_section(results.summary, titles)
alarms = f.alarms(results.findings)
ids = Identities.from_frame(data.query("known_identifiers"))

evidenced = posture.filter(pl.col("controls") > 0)
c1, c2, c3, c4, c5 = st.columns(5)
c1.metric("Controls evaluated", results.summary.height)
c2.metric("Sections in alarm", f"{evidenced.filter(pl.col('posture') == 'alarm').height} of {evidenced.height}")
c3.metric("Open alarms", alarms.height, help="Alarms as of the date, after the severity and period filters.")
c4.metric("Critical or high", alarms.filter(pl.col("severity").is_in(["critical", "high"])).height)
c5.metric(
    "Controls without evidence",
    results.summary.filter((pl.col("skip") > 0) | (pl.col("error") > 0)).height,
    help="Controls that skipped (their export was not loaded) or failed: they prove nothing either way.",
)
summary_button(results.findings, f.as_of, titles, ids)  # one-page PDF for management

st.subheader("Posture by policy section")
shown = posture.with_columns(
    pl.col("posture").replace_strict(POSTURE_LABELS, default=pl.col("posture")),
    pl.col("highest_severity").fill_null("-"),
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
                "ok": "OK",
                "info": "Info",
                "skip": "Skipped",
                "error": "Errors",
                "highest_severity": "Highest severity",
            },
        )
    ),
    hide_index=True,
    key="posture_table",
    column_config={"Title": st.column_config.TextColumn(width="medium")},
)
st.caption(
    "ALARM: a control found a broken promise. no data: the control's export was not loaded, so it proves "
    "nothing. no control: the section is a statement (scope, contact) that no control measures."
)

left, right = st.columns(2)
with left:
    by_section = alarms.group_by("policy_section", "severity").agg(pl.len().alias("alarms"))
    if by_section.height:
        charts.show(
            charts.bar(
                by_section,
                x="policy_section:N",
                y="alarms:Q",
                color="severity:N",
                color_title="Severity",
                color_scale=charts.SEVERITY_SCALE,
                color_sort=charts.SEVERITY_DOMAIN,
                sort=list(titles),
                title="Open alarms by policy section",
                x_title="Policy section",
                y_title="Alarms",
                tooltip=[
                    alt.Tooltip("policy_section:N", title="Section"),
                    alt.Tooltip("severity:N", title="Severity"),
                    alt.Tooltip("alarms:Q", title="Alarms", format=charts.COUNT_FORMAT),
                ],
            ),
            charts.count_summary(
                by_section, by="policy_section", value="alarms", noun="open alarms", by_noun="sections"
            )
            + " By severity: "
            + charts.breakdown(by_section, by="severity", value="alarms", order=charts.SEVERITY_DOMAIN)
            + ".",
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

st.subheader("Top open problems")
if alarms.height == 0:
    st.success("Nothing to follow up: no open alarm matches the filters.")
else:
    worst = (
        alarms.with_columns(
            pl.col("control_id").map_elements(page_for, return_dtype=pl.String).alias("page"),
            pl.col("severity").replace_strict(SEVERITY_RANK, default=9).alias("rank"),
        )
        .group_by("page")
        .agg(pl.len().alias("alarms"), pl.col("rank").min().alias("rank"))
        .sort("rank", "alarms", descending=[False, True])
    )
    for page_path, count, _rank in worst.iter_rows():
        top = alarms.filter(pl.col("control_id").map_elements(page_for, return_dtype=pl.String) == page_path).head(3)
        with st.container(border=True):
            st.page_link(
                page_path,
                label=f"{PAGE_TITLES[page_path]}: {plural(count, 'open alarm')}",
                icon=":material/arrow_forward:",
            )
            for row in ids.findings(top).iter_rows(named=True):
                st.markdown(f"**{md_escape(row['severity'])}** · {md_escape(control_title(row['control_id']))}")
                st.text(row["reason"])

st.subheader("Alarms over time")
st.caption("From the recorded runs (each ingest and `compliance check --record`); triage them on Alarms & triage.")
show_history(data.database().path)

st.subheader("Data freshness")
# Staleness means something only for sources that log events; reference lists (directory, tenants,
# subjects) carry start dates, which are old by nature.
EVENT_SOURCES = ["audit", "usage", "diagnostic", "dsr", "inventory", "incidents"]
fresh = data.query("freshness_by_source").with_columns(
    pl.when(pl.col("source").is_in(EVENT_SOURCES))
    .then((pl.lit(f.as_of) - pl.col("newest_at").cast(pl.Date)).dt.total_days().cast(pl.String))
    .otherwise(pl.lit("n/a (reference list)"))
    .alias("days_behind")
)
st.caption(
    "Newest record per export source against the as-of date, and when it was last loaded. A source far behind "
    "the as-of date means its controls judge stale data."
)
grid(
    table(
        fresh,
        {
            "source": "Source",
            "time_column": "Dated by",
            "row_count": "Rows",
            "oldest_at": "Oldest (UTC)",
            "newest_at": "Newest (UTC)",
            "days_behind": "Days behind as-of",
            "files": "Files",
            "rows_rejected": "Rows rejected",
            "last_loaded_at": "Last loaded (UTC)",
        },
    ),
    hide_index=True,
    column_config={"Rows": st.column_config.NumberColumn(format="localized")},
)

with st.expander("Every control's result"):
    grid(
        table(
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
        ),
        hide_index=True,
    )
