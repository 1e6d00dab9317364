"""Retention (policy section 6): records held against their limits, what is past retention and where,
how late deletions run, erasure requests not fully carried out, and export logs kept too long."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from compliance.posture_counts import retention_records_at_issue
from dashboard import caveats, charts, data
from dashboard.format import (
    PROBLEM_COLUMNS,
    blank_grid,
    current_filters,
    show_findings,
    static_table,
)

AGE_ORDER = ["0-30", "31-90", "91-365", "1-2y", "2y+"]
STATE_ORDER = ["Within retention", "Past retention", "On legal hold", "Deleted", "De-identified"]
STATE_SCALE = charts.state_scale(dict(zip(STATE_ORDER, ["good_light", "bad", "warn", "good", "neutral"], strict=True)))
LAG_BUCKETS = {
    "lag_early": "before due",
    "lag_0_7": "0-7 days",
    "lag_8_30": "8-30 days",
    "lag_31_90": "31-90 days",
    "lag_over_90": "over 90 days",
}

f = current_filters()
st.title("Retention")
st.caption(f.describe(applies=("category", "system", "severity")))

ages = data.query("retention_by_category_age", as_of=f.as_of)
ages = ages.filter(f.category_expr("data_category") & f.values_expr("system", f.systems))
results = data.controls(f.as_of, data.page_controls("retention"))
ids = data.identities()
records_past = f.alarms(results.findings, ("retention.record_past_retention",))
parts = records_past["resource"].str.strip_prefix("record:").str.split("/")
records_past = records_past.with_columns(
    parts.list.get(0, null_on_oob=True).alias("system"), parts.list.get(1, null_on_oob=True).alias("store")
).filter(f.values_expr("system", f.systems))
erasures = f.alarms(results.findings, ("retention.erasure_incomplete",))
logs = results.findings.filter(pl.col("control_id") == "retention.log_past_retention")
# The records that need action (compliance.posture_counts): past retention, and left behind by an erasure.
at_issue = retention_records_at_issue(
    f.alarms(results.findings, ("retention.record_past_retention", "retention.erasure_incomplete")), f.as_of
).filter(f.values_expr("system", f.systems))
left_behind = at_issue.filter(pl.col("request_id").is_not_null())

stale = caveats.warn_if_stale(f.as_of, "inventory", "dsr")
c = st.columns(6)
c[0].metric(
    "Need action",
    f"{at_issue['record'].n_unique():,}",
    help="Records past retention plus records an incomplete erasure left behind (each counted once).",
)
c[1].metric("Past retention", f"{ages['past_retention'].sum():,}", help="Past the clock plus grace, not erased.")
c[2].metric(
    "Left by erasures",
    f"{left_behind['record'].n_unique():,}",
    help="Records still there when a delete request was reported complete (retention.erasure_incomplete).",
)
c[3].metric("Erasures incomplete", erasures.height, help="Completed delete requests that left records behind.")
c[4].metric("Exempt by legal hold", f"{ages['legal_hold_exempt'].sum():,}")
c[5].metric("Log sources kept too long", logs.filter(pl.col("status") == "alarm").height)
st.caption(f"{ages['records'].sum() - ages['deleted'].sum():,} records held (not deleted) as of the date.")

st.subheader("Records that need action")
if at_issue.height == 0:
    caveats.outcome(stale, "No record is past retention and no erasure left a record behind, under the filters.")
else:
    st.caption(
        "Most overdue first. Days overdue: since the retention due date (clock plus grace), or since the delete "
        "request was reported complete while the record was still there. Subject ids are pseudonymised."
    )
    blank_grid(
        ids.column(at_issue, "reason", "text"),
        {
            "severity": "Severity",
            "days_overdue": "Days overdue",
            "record": "Record",
            "why": "Why",
            "due_date": "Due (or erasure claimed)",
            "reason": "Finding",
        },
        key="retention_at_issue",
        wide="reason",
    )

st.subheader("Records by category and age against the limit")
if ages.height == 0:
    st.info("No inventory records match: the inventory export is missing, or the filters exclude every category.")
else:
    by_state = (
        ages.group_by("data_category")
        .agg(
            (pl.col("records") - pl.col("past_retention") - pl.col("legal_hold_exempt") - pl.col("deleted")
             - pl.col("deidentified")).sum().alias(STATE_ORDER[0]),
            pl.col("past_retention").sum().alias(STATE_ORDER[1]),
            pl.col("legal_hold_exempt").sum().alias(STATE_ORDER[2]),
            pl.col("deleted").sum().alias(STATE_ORDER[3]),
            pl.col("deidentified").sum().alias(STATE_ORDER[4]),
        )
        .unpivot(index="data_category", variable_name="state", value_name="records")
        .filter(pl.col("records") > 0)
    )  # fmt: skip
    left, right = st.columns(2)
    charts.show_split_bars(
        by_state,
        noun="records",
        by_noun="categories",
        container=left,
        grouped=True,
        x="records:Q",
        y="data_category:N",
        **charts.colour_by("state:N", "State", STATE_SCALE),
        legend_columns=2,
        horizontal=True,
        title="Records per category by retention state",
        x_title="Records",
        y_title="Data category",
        tooltip=[
            alt.Tooltip("data_category:N", title="Category"),
            alt.Tooltip("state:N", title="State"),
            alt.Tooltip("records:Q", title="Records", format=","),
        ],
    )
    age_cells = ages.group_by("data_category", "age_bucket").agg(
        pl.col("records").sum(), pl.col("past_retention").sum()
    )
    past_cells = age_cells.filter(pl.col("past_retention") > 0)
    charts.show(
        charts.heatmap(
            age_cells.with_columns(
                pl.when(pl.col("past_retention") > 0)
                .then(pl.col("past_retention").cast(pl.String))
                .otherwise(pl.lit(""))
                .alias("word")
            ),
            text="word:N",
            x="age_bucket:O",
            y="data_category:N",
            color="past_retention:Q",
            # none past retention: near white; one or more: light orange to vermillion (and the count written)
            color_scale=alt.Scale(
                domain=[0, 0.5, max(1, int(age_cells["past_retention"].max() or 1))],
                range=["#f8fafc", "#fdd0a2", charts.ROLE_COLOURS["bad"]],
            ),
            x_sort=AGE_ORDER,
            title="Past retention by age since creation",
            x_title="Age since created",
            y_title="Data category",
            color_title="Past retention",
            tooltip=[
                alt.Tooltip("data_category:N", title="Category"),
                alt.Tooltip("age_bucket:O", title="Age"),
                alt.Tooltip("records:Q", title="Records", format=","),
                alt.Tooltip("past_retention:Q", title="Past retention", format=","),
            ],
        ),
        f"{int(age_cells['past_retention'].sum()):,} records past retention, in {past_cells.height} category and "
        f"age cells"
        + (
            f": {charts.breakdown(past_cells, by='data_category', value='past_retention')}."
            if past_cells.height
            else "."
        ),
        right,
    )

st.subheader("Records past retention by system and store")
if records_past.height == 0:
    caveats.outcome(stale, "No record is past its retention clock plus grace under the current filters.")
else:
    by_store = records_past.group_by("system", "store", "severity").agg(pl.len().alias("records"))
    charts.show(
        charts.bar(
            by_store.with_columns(pl.concat_str(["system", "store"], separator="/").alias("where")),
            x="records:Q",
            y="where:N",
            **charts.BY_SEVERITY,
            horizontal=True,
            title="Records past retention, per system/store",
            x_title="Records past retention",
            y_title="System / store",
            tooltip=[
                alt.Tooltip("where:N", title="System/store"),
                alt.Tooltip("severity:N", title="Severity"),
                alt.Tooltip("records:Q", title="Records", format=","),
            ],
        ),
        f"{records_past.height:,} records past retention in {by_store.select('system', 'store').n_unique()} "
        "stores. By severity: "
        + charts.breakdown(by_store, by="severity", value="records", order=charts.SEVERITY_DOMAIN)
        + ".",
    )

st.subheader("Deletion lag")
lag = data.query("retention_deletion_lag", as_of=f.as_of).filter(f.values_expr("system", f.systems))
if lag.height == 0:
    st.info("No record was deleted or de-identified by the as-of date, so there is no lag to show.")
else:
    st.caption(
        "Days from a record's retention due date to its deletion or de-identification. Negative: erased before it "
        "was due (e.g. on a deletion request)."
    )
    buckets = lag.unpivot(index="system", on=list(LAG_BUCKETS), variable_name="bucket", value_name="records")
    buckets = buckets.with_columns(pl.col("bucket").replace_strict(LAG_BUCKETS)).filter(pl.col("records") > 0)
    left, right = st.columns([3, 2])
    charts.show(
        charts.bar(
            buckets,
            x="records:Q",
            y="system:N",
            color="bucket:N",
            color_title="Erased after the due date",
            color_sort=list(LAG_BUCKETS.values()),
            # Sequential from blue (erased early) to vermillion (over 90 days late): ordered, colour-blind safe.
            color_scale=alt.Scale(
                domain=list(LAG_BUCKETS.values()), range=["#0072B2", "#56B4E9", "#F0E442", "#E69F00", "#D55E00"]
            ),
            horizontal=True,
            title="Deletion lag distribution per system",
            x_title="Records erased",
            y_title="System",
            tooltip=[
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("bucket:N", title="Lag"),
                alt.Tooltip("records:Q", title="Records", format=","),
            ],
        ),
        f"{int(buckets['records'].sum()):,} records erased. Days after the due date: "
        + charts.breakdown(buckets, by="bucket", value="records", order=list(LAG_BUCKETS.values()))
        + ".",
        left,
    )
    blank_grid(
        lag,
        {
            "system": "System",
            "erased": "Erased",
            "median_lag_days": "Median lag (days)",
            "p90_lag_days": "p90 lag",
            "max_lag_days": "Max lag",
            "beyond_grace": "Beyond grace",
        },
        container=right,
    )

st.subheader("Erasure requests not fully carried out")
if erasures.height == 0:
    caveats.outcome(stale, "Every completed delete request left no record behind beyond the grace period.")
else:
    show_findings(erasures, ids, PROBLEM_COLUMNS | {"evidence": "Records left"})

st.subheader("Export logs kept too long")
if logs.height == 0:
    st.info("No audit, usage or diagnostic export was loaded, so log retention could not be checked.")
else:
    schedule = pl.DataFrame(
        [r.model_dump() for r in data.policy().retention.logs],
        schema={"source": pl.String, "period_days": pl.Int64, "grace_days": pl.Int64, "basis": pl.String},
    )
    shown = logs.with_columns(pl.col("resource").str.strip_prefix("source:").alias("source")).join(
        schedule, on="source", how="left"
    )
    static_table(
        shown.with_columns(pl.col("period_days", "grace_days").cast(pl.String).fill_null("")),
        {
            "source": "Source",
            "status": "Status",
            "severity": "Severity",
            "period_days": "Limit (days)",
            "grace_days": "Grace (days)",
            "reason": "Finding",
        },
    )

schedule_box = st.expander("The retention schedule (retention.yaml)", key="retention_schedule", on_change="rerun")
if schedule_box.open:  # built when opened: a grid nobody opened is not sent
    with schedule_box:
        blank_grid(
            pl.DataFrame([r.model_dump() for r in data.policy().retention.records]).rename(
                {
                    "data_category": "Data category",
                    "system": "System",
                    "store": "Store",
                    "period_days": "Period (days)",
                    "clock": "Clock",
                    "grace_days": "Grace (days)",
                    "action": "Then",
                    "basis": "Why",
                }
            ),
        )
