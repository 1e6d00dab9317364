"""Data subject requests (policy section 8): open requests against their deadlines, turnaround, late
completions, extensions and acknowledgements, and every request's deadline explained."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import auth, caveats, charts, data
from dashboard.dsr_table import EXPLAIN_KEY, TABLE_KEY, explain_row_click, with_margin
from dashboard.format import (
    STATE_LABELS,
    Identities,
    blank_grid,
    control_all_clear,
    current_filters,
    grid,
    md_escape,
    plural,
    show_findings,
    show_table,
    sort_findings,
)

OPEN_STATES = ["Overdue", "Due soon", "On track", "Awaiting verification", "No deadline rule"]
TREND_COLUMNS = {
    "completed_on_time": "Completed on time",
    "completed_late": "Completed late",
    "completed_untracked": "Completed (no deadline rule)",
    "rejected_or_withdrawn": "Rejected or withdrawn",
    "open": "Still open",
}
# The controls this page presents, in the order of its tabs (the catalog gives each control one page).
DSR_CONTROLS = data.page_controls("dsr")
BY_STATE = {"color": "state_label:N", "color_title": "State", "color_scale": charts.DSR_STATE_SCALE}  # both charts
TREND_SCALE = charts.state_scale(
    dict(zip(TREND_COLUMNS.values(), ["good", "bad", "neutral", "info", "warn"], strict=True))
)

f = current_filters()
st.title("Data subject requests")
st.caption(f.describe(applies=("period", "jurisdiction", "severity")) + " Requests are dated by receipt.")


def _scope(frame: pl.DataFrame, date_column: str | None = "received_date") -> pl.DataFrame:
    out = frame.filter(f.values_expr("jurisdiction", f.jurisdictions))
    return out.filter(f.period_expr(date_column)) if date_column else out


open_requests = _scope(data.query("dsr_open_by_deadline", as_of=f.as_of)).with_columns(
    pl.col("state").replace_strict(STATE_LABELS, default=pl.col("state")).alias("state_label")
)
register = _scope(data.query("dsr_register", as_of=f.as_of))
results = data.controls(f.as_of, DSR_CONTROLS)
ids = data.identities()
# Control rows carry the request in their resource (dsr:<id>): scope them like the register.
in_scope = set(register["request_id"].to_list())
alarms = f.alarms(results.findings, ("dsr.",)).filter(pl.col("resource").str.strip_prefix("dsr:").is_in(in_scope))


# dsr.due_soon warns (status info) rather than alarms: its rows are listed in their own tab.
due_soon = sort_findings(
    results.findings.filter(
        (pl.col("control_id") == "dsr.due_soon")
        & (pl.col("status") == "info")
        & pl.col("resource").str.strip_prefix("dsr:").is_in(in_scope)
    )
)


def _alarms(control_id: str) -> pl.DataFrame:
    if control_id == "dsr.due_soon":
        return due_soon
    return alarms.filter(pl.col("control_id") == control_id)


state_counts = dict(open_requests.group_by("state").len().iter_rows())
closed = register.filter(pl.col("status") != "open")
due_days = data.policy().settings.dsr.due_soon_days
# Said where the numbers are: a DSR export that stops weeks before the as-of date hides every request since.
stale = caveats.warn_if_stale(f.as_of, "dsr")
c = st.columns(7)
c[0].metric("Received", register.height)
c[1].metric("Open", open_requests.height)
c[2].metric("Overdue", state_counts.get("overdue", 0), help="Open past the effective deadline (dsr.overdue).")
c[3].metric(
    f"Due within {due_days} days",
    state_counts.get("due_soon", 0),
    help=f"Open and due within {due_days} days of the as-of date, not yet overdue (dsr.due_soon).",
)
c[4].metric(
    "Completed late",
    _alarms("dsr.completed_late").height,
    help="Completed or refused after the deadline (dsr.completed_late).",
)
c[5].metric("Late extensions", _alarms("dsr.extension_late").height)
c[6].metric(
    "Median days to close",
    f"{closed['turnaround_days'].median():.0f}" if closed["turnaround_days"].drop_nulls().len() else "-",
)

st.subheader("Open requests by days to deadline")
if open_requests.height == 0:
    caveats.outcome(stale, "No request is open as of this date under the current filters.")
else:
    dots = open_requests.filter(pl.col("days_to_deadline").is_not_null()).with_columns(
        pl.col("request_id").alias("request")
    )
    left, right = st.columns([3, 2])
    if dots.height:
        charts.show(
            charts.dots(
                dots,
                x="days_to_deadline:Q",
                y="jurisdiction:N",
                **BY_STATE,
                shape_scale=charts.DSR_STATE_SHAPES,
                rule_at=0,
                title="Each open request: days left (negative: overdue)",
                x_title="Days to the effective deadline",
                y_title="Jurisdiction",
                tooltip=[
                    alt.Tooltip("request:N", title="Request"),
                    alt.Tooltip("request_type:N", title="Type"),
                    alt.Tooltip("received_date:T", title="Received"),
                    alt.Tooltip("effective_due_date:T", title="Due"),
                    alt.Tooltip("days_to_deadline:Q", title="Days left"),
                ],
            ),
            f"{dots.height:,} open requests with a deadline: "
            + charts.breakdown(dots.with_columns(pl.lit(1).alias("n")), by="state_label", value="n", order=OPEN_STATES)
            + f". Days left range from {dots['days_to_deadline'].min():,} to {dots['days_to_deadline'].max():,}.",
            left,
        )
    by_type = open_requests.group_by("request_type", "state_label").len("requests")
    charts.show_split_bars(
        by_type,
        noun="open requests",
        by_noun="types",
        container=right,
        x="requests:Q",
        y="request_type:N",
        **BY_STATE,
        color_sort=OPEN_STATES,
        legend_columns=2,
        horizontal=True,
        title="Open requests per type",
        x_title="Open requests",
        y_title="Request type",
        tooltip=[
            alt.Tooltip("request_type:N", title="Type"),
            alt.Tooltip("state_label:N", title="State"),
            alt.Tooltip("requests:Q", title="Requests"),
        ],
    )
    pivot = (
        open_requests.group_by("jurisdiction", "state_label")
        .len("requests")
        .pivot(on="state_label", index="jurisdiction", values="requests")
    )
    grid(
        pivot.select(["jurisdiction"] + [s for s in OPEN_STATES if s in pivot.columns])
        .fill_null(0)
        .rename({"jurisdiction": "Jurisdiction"})
        .sort("Jurisdiction"),
    )

st.subheader("Turnaround")
st.caption(
    "Every request received up to the as-of date, by type (the jurisdiction filter applies; the period does not)."
)
dist = _scope(data.query("dsr_turnaround_distribution", as_of=f.as_of), None)
by_type = _scope(data.query("dsr_turnaround_by_type", as_of=f.as_of), None)
if dist.height:
    hist = dist.group_by("bin_start", "bin_label", "request_type").agg(pl.col("requests").sum())
    sorted_bins = hist.sort("bin_start")["bin_label"].unique(maintain_order=True).to_list()
    charts.show(
        charts.bar(
            hist,
            x="bin_label:O",
            y="requests:Q",
            color="request_type:N",
            color_title="Request type",
            sort=sorted_bins,
            title="Days from receipt to closure (closed requests)",
            x_title="Turnaround (days, 5-day bins)",
            y_title="Requests",
            tooltip=[
                alt.Tooltip("bin_label:O", title="Days"),
                alt.Tooltip("request_type:N", title="Type"),
                alt.Tooltip("requests:Q", title="Requests"),
            ],
        ),
        charts.count_summary(hist, by="request_type", value="requests", noun="closed requests", by_noun="types")
        + " Turnaround bins (days): "
        + charts.breakdown(hist, by="bin_label", value="requests", order=sorted_bins)
        + ".",
    )
else:
    st.info("No closed request with a known turnaround under the current filters.")
summary = by_type.group_by("request_type").agg(
    pl.col("requests").sum(),
    pl.col("closed").sum(),
    pl.col("median_turnaround_days").median().round(1).cast(pl.String).str.replace(r"\.0$", "").alias("median"),
    pl.col("p90_turnaround_days").max().alias("p90"),
    (pl.col("on_time_share") * pl.col("closed")).sum().truediv(pl.col("closed").sum()).alias("on_time"),
)
# Full width and static: every column readable, none cut off at the page's edge.
show_table(
    summary.sort("requests", descending=True).with_columns(
        (pl.col("on_time") * 100).round(0).cast(pl.Int64, strict=False).cast(pl.String).fill_null("-") + "%"
    ),
    {
        "request_type": "Type",
        "requests": "Received",
        "closed": "Closed",
        "median": "Median days",
        "p90": "p90 days (max over jurisdictions)",
        "on_time": "Closed on time",
    },
)

trend = _scope(data.query("dsr_monthly_trend", as_of=f.as_of), "month")
if trend.height:
    monthly = (
        trend.group_by("month")
        .agg(pl.col(list(TREND_COLUMNS)).sum())
        .unpivot(index="month", variable_name="outcome", value_name="requests")
        .with_columns(pl.col("outcome").replace_strict(TREND_COLUMNS))
        .filter(pl.col("requests") > 0)
    )
    charts.show_split_bars(
        monthly,
        noun="requests received",
        order=list(TREND_COLUMNS.values()),
        x="month:T",
        y="requests:Q",
        time_unit="yearmonth",
        color="outcome:N",
        color_title="Outcome",
        color_scale=TREND_SCALE,
        title="Requests received per month, by outcome",
        x_title="Month received",
        y_title="Requests",
        tooltip=[
            alt.Tooltip("month:T", title="Month", format=charts.MONTH_FORMAT),
            alt.Tooltip("outcome:N", title="Outcome"),
            alt.Tooltip("requests:Q", title="Requests"),
        ],
    )

st.subheader("Deadlines, extensions, acknowledgements and processing after erasure")
tabs = st.tabs(
    [
        "Overdue",
        f"Due within {due_days} days",
        "Completed late",
        "Extensions",
        "Acknowledgements",
        "Processing after erasure",
    ],
    key="dsr_tab",
    bind="query-params",  # the open tab is in the link
)
for tab, control_id in zip(tabs, DSR_CONTROLS, strict=True):
    if not tab.open:  # only the open tab is built (the link names it): less for the browser to draw
        continue
    with tab:
        rows = _alarms(control_id)
        if control_id == "dsr.extension_late":
            ext = register.group_by("extension_status").len("requests").sort("extension_status")
            st.caption(
                "Extension status of the requests in scope: "
                + ", ".join(f"{s}: {n}" for s, n in ext.iter_rows() if s is not None)
            )
        if control_id == "dsr.ack_late":
            due = register.filter(pl.col("ack_due_date").is_not_null())
            st.caption(
                f"{plural(due.height, 'request')} with an acknowledgement clock; "
                f"{due.filter(pl.col('ack_late').fill_null(False)).height} acknowledged late or not yet as of the date."
            )
        if rows.height:
            show_findings(rows, ids)
        else:
            caveats.outcome(stale, control_all_clear(control_id))

st.subheader("Every request, with its deadline explained")
search_col, state_col = st.columns([2, 3])
search = search_col.text_input(
    "Search", key="dsr_search", placeholder="Request id, type, jurisdiction or channel", bind="query-params"
)
labels = STATE_LABELS | {"due_soon": f"Due within {due_days} days"}
states = state_col.multiselect(
    "State", list(labels), key="dsr_states", format_func=labels.get, placeholder="All states", bind="query-params"
)
shown = register
if search:
    needle = search.strip().lower()
    shown = shown.filter(
        pl.any_horizontal(
            [pl.col(c).str.to_lowercase().str.contains(needle, literal=True) for c in
             ("request_id", "request_type", "jurisdiction", "channel", "status")]
        )
    )  # fmt: skip
if states:
    shown = shown.filter(pl.col("state").is_in(states))
shown = with_margin(ids.column(shown, "subject_id", "subject")).with_columns(
    pl.col("state").replace_strict(labels, default=pl.col("state"))
)
st.caption(
    f"{plural(shown.height, 'request')} match. Subject ids are pseudonymised. Days left: open requests only; "
    "a closed request shows when it closed and how far before or after its deadline. Click a row to explain it."
)
blank_grid(
    shown,
    {
        # the deadline facts first, so they are on screen without scrolling sideways
        "request_id": "Request",
        "state": "State as of",
        "received_date": "Received",
        "effective_due_date": "Due",
        "days_left": "Days left",
        "closed_date": "Closed",
        "margin": "Closed vs deadline",
        "request_type": "Type",
        "jurisdiction": "Jurisdiction",
        "subject_id": "Subject",
        "channel": "Channel",
        "status": "Status",
        "extension_status": "Extension",
        "acknowledged_date": "Acknowledged",
        "turnaround_days": "Turnaround (days)",
    },
    key=TABLE_KEY,
    on_select=explain_row_click(shown["request_id"].to_list()),
    selection_mode="single-row",
    # The grid sizes columns by their first rows, which for open requests are empty here: room for a date.
    column_config={
        "Closed": st.column_config.TextColumn(width=95),
        "Closed vs deadline": st.column_config.TextColumn(width=135),
    },
)
if shown.height:
    if st.session_state.get(EXPLAIN_KEY) not in shown["request_id"].to_list():
        st.session_state.pop(EXPLAIN_KEY, None)  # the search or state filter hid the request explained
    request_id = st.selectbox("Explain the deadline of request", shown["request_id"].to_list(), key=EXPLAIN_KEY)
    row = register.filter(pl.col("request_id") == request_id).row(0, named=True)
    with st.container(border=True):
        pseudonym = Identities().subject(row["subject_id"])
        reveal = auth.reveal_toggle(
            "Reveal the subject's real id",
            key="dsr_reveal",
            what=f"subject {pseudonym} of request {request_id}",
            help="Shown only here, for the investigator who asks; each reveal is logged.",
        )
        subject = row["subject_id"] if reveal else pseudonym
        st.markdown(
            f"**{md_escape(request_id)}** · {md_escape(row['request_type'])} · {md_escape(row['jurisdiction'])} · "
            f"subject {md_escape(subject)} · {md_escape(STATE_LABELS.get(row['state'], row['state']))}"
        )
        st.text(row["explanation"] or "The deadline engine gave no explanation for this request.")
