"""Access anomalies (policy section 5): detector alarms over time, the flagged actors and why, and a
drill-down into one actor (timeline, hours, volumes against baseline and peers, the raw events)."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import polars as pl
import streamlit as st

from compliance.posture_counts import flagged_actor_count
from compliance.reports import pseudonymise
from dashboard import charts, data
from dashboard.format import (
    ACTOR_PREFIX,
    FINDING_COLUMNS,
    SEVERITY_RANK,
    actor_of,
    control_title,
    current_filters,
    grid,
    md_escape,
    plain,
    plural,
    show_findings,
    show_table,
    sort_findings,
)

ACTION_GROUPS = ["read/search", "export/share", "change", "admin", "sign-in", "failed sign-in"]
# Vermillion is kept for the alarm rules drawn over the timeline; failed sign-ins are orange.
ACTION_SCALE = alt.Scale(domain=ACTION_GROUPS, range=["#0072B2", "#CC79A7", "#009E73", "#000000", "#56B4E9", "#E69F00"])
EVENT_COLUMNS = {
    "source": "Source",
    "event_id": "Event",
    "occurred_at": "When (UTC)",
    "actor_id": "Actor",
    "subject_id": "Subject",
    "action": "Action",
    "system": "System",
    "outcome": "Outcome",
    "resource": "Resource",
    "categories": "Categories",
    "record_count": "Records",
    "purpose": "Purpose",
    "location": "Location",
    "recipient": "Recipient",
    "detail": "Detail",
}

CONTROLS = data.page_controls("access")

f = current_filters()
st.title("Access anomalies")
st.caption(f.describe(applies=("period", "severity")))

results = data.controls(f.as_of, CONTROLS)
ids = data.identities()
alarms = f.alarms(results.findings, control_ids=CONTROLS).with_columns(
    pl.col("resource").map_elements(actor_of, return_dtype=pl.String).alias("actor_id"),
    pl.col("control_id").map_elements(control_title, return_dtype=pl.String).alias("detector"),
)

c1, c2, c3, c4 = st.columns(4)
c1.metric("Access alarms", alarms.height)
c2.metric("Actors flagged", flagged_actor_count(alarms))  # the one definition (compliance.posture_counts)
c3.metric("Detectors in alarm", f"{alarms['detector'].n_unique()} of {results.summary.height}")
c4.metric("Critical", alarms.filter(pl.col("severity") == "critical").height)

skipped = results.summary.filter((pl.col("skip") > 0) | (pl.col("error") > 0))
if skipped.height:
    st.warning(
        "Some detectors proved nothing: " + "; ".join(md_escape(plain(n)) for n in skipped["note"].to_list() if n)
    )

st.subheader("Alarms by detector over time")
if alarms.height == 0:
    st.success("No access detector alarms under the current filters.")
else:
    weekly = (
        alarms.with_columns(pl.col("observed_at").dt.truncate("1w").cast(pl.Date).alias("week"))
        .group_by("week", "detector")
        .agg(pl.len().alias("alarms"))
    )
    charts.show_split_bars(
        weekly,
        noun="access alarms",
        x="week:T",
        y="alarms:Q",
        time_unit=charts.WEEK,
        color_scale=charts.categorical(sorted(weekly["detector"].unique().to_list())),
        color="detector:N",
        color_title="Detector",
        title="Access alarms per week, by detector",
        x_title="Week observed",
        y_title="Alarms",
        tooltip=[
            alt.Tooltip("week:T", title="Week of", format=charts.DAY_FORMAT),
            alt.Tooltip("detector:N", title="Detector"),
            alt.Tooltip("alarms:Q", title="Alarms"),
        ],
    )

st.subheader("Flagged actors")
flagged = (
    alarms.filter(pl.col("actor_id").is_not_null())
    .with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, default=9).alias("rank"))
    .sort("rank")
    .group_by("actor_id", maintain_order=True)
    .agg(
        pl.len().alias("alarms"),
        pl.col("detector").unique().sort().str.join(", ").alias("detectors"),
        pl.col("severity").first().alias("highest_severity"),
        pl.col("observed_at").max().alias("last_observed"),
        pl.col("reason").first().alias("reason"),
    )
)
if flagged.height == 0:
    st.info("No actor is flagged under the current filters.")
else:
    shown = ids.column(ids.column(flagged, "reason", "text"), "actor_id", "actor")
    show_table(
        shown,
        {
            "actor_id": "Actor",
            "highest_severity": "Highest severity",
            "alarms": "Alarms",
            "detectors": "Detectors",
            "last_observed": "Last observed (UTC)",
            "reason": "Most severe reason",
        },
        wide="reason",
    )
other = alarms.filter(pl.col("actor_id").is_null())
if other.height:
    st.caption("Alarms not tied to one account (e.g. failed logins from one IP address):")
    show_findings(other, ids, {k: v for k, v in FINDING_COLUMNS.items() if k != "status"})

st.subheader("Drill-down: one actor")
if flagged.height == 0:
    st.info("Pick an actor once one is flagged: the drill-down shows the alarms of a flagged actor.")
    st.stop()

actors = flagged["actor_id"].to_list()
by_pseudonym = {pseudonymise(a, prefix=ACTOR_PREFIX): a for a in actors}
wanted = st.query_params.get("actor")
if "access_actor" not in st.session_state and wanted in by_pseudonym:
    st.session_state["access_actor"] = wanted  # a shared link opens on its actor
choice = st.selectbox(
    "Actor",
    list(by_pseudonym),
    key="access_actor",
    format_func=lambda p: f"{p} ({flagged.filter(pl.col('actor_id') == by_pseudonym[p])['detectors'][0]})",
)
st.query_params["actor"] = choice  # the pseudonym, never the real id, goes in the URL
actor_id = by_pseudonym[choice]
who = data.revealable_identities(
    "Show real identifiers in this drill-down",
    key="access_reveal",
    what=f"actor {choice}",
    help="Identifiers stay pseudonymised unless an investigator asks to see them here; each reveal is logged.",
    known=ids,
)
directory = data.query("actor_directory", actor_id=actor_id)
profile = directory.row(0, named=True) if directory.height else {}
st.markdown(
    f"**{md_escape(who.actor(actor_id))}** · {md_escape(profile.get('actor_type') or 'unknown type')} · role "
    f"{md_escape(profile.get('role') or '-')} · {md_escape(profile.get('department') or '-')} · "
    f"status {md_escape(profile.get('status') or '-')} · time zone {md_escape(profile.get('timezone') or 'UTC')} · "
    f"MFA {'on' if profile.get('mfa_enabled') else 'off'}"
)
actor_alarms = sort_findings(alarms.filter(pl.col("actor_id") == actor_id))

# Both charts from one read of the actor's events (its "day" and "hour" views).
drilldown = data.query("access_actor_drilldown", as_of=f.as_of, actor_id=actor_id, start_date=f.start, end_date=f.end)
activity = drilldown.filter(pl.col("view") == "day").select(
    "activity_date", "action_group", "events", "records", "failed"
)
if activity.height:
    alarm_days = actor_alarms.select(pl.col("observed_at").cast(pl.Date).alias("day"), "detector").unique()
    timeline = charts.bar(
        activity,
        x="activity_date:T",
        y="events:Q",
        **charts.colour_by("action_group:N", "Action", ACTION_SCALE),
        title="Daily activity (bars) and alarm days (vermillion rules)",
        time_unit="yearmonthdate",
        labels=False,
        x_title="Day (UTC)",
        y_title="Events",
        tooltip=[
            alt.Tooltip("activity_date:T", title="Day"),
            alt.Tooltip("action_group:N", title="Action"),
            alt.Tooltip("events:Q", title="Events"),
            alt.Tooltip("records:Q", title="Records", format=","),
            alt.Tooltip("failed:Q", title="Failed or denied"),
        ],
    )
    charts.show(
        charts.with_day_rules(timeline, alarm_days, day="day", label="detector", label_title="Alarm"),
        charts.series_summary(activity, when="activity_date", value="events", noun="events", unit="day")
        + f" By action: {charts.breakdown(activity, by='action_group', value='events', order=ACTION_GROUPS)}."
        + f" {alarm_days['day'].n_unique()} alarm days marked.",
    )
else:
    st.info("This actor has no audit events in the period.")

left, right = st.columns(2)
hours = drilldown.filter(pl.col("view") == "hour").select(
    "iso_weekday", "local_hour", "events", "records", "data_events"
)
if hours.height:
    night = hours.filter((pl.col("local_hour") < 7) | (pl.col("local_hour") >= 20))["events"].sum()
    busiest = hours.group_by("local_hour").agg(pl.col("events").sum()).sort("events", descending=True).row(0)
    charts.show(
        charts.hours_heatmap(
            hours,
            title=f"When they work (their local time, {profile.get('timezone') or 'UTC'})",
            value="events",
            value_title="Events",
            hour="local_hour",
        ),
        f"{hours['events'].sum():,} successful events; busiest hour {busiest[0]}:00 ({busiest[1]:,} events); "
        f"{night:,} between 20:00 and 07:00 local time.",
        left,
    )
else:
    left.info("No successful events in the period to place on the clock.")

# Volumes around the most severe alarm: its baseline window, plus two weeks after it.
focus_day = actor_alarms["observed_at"][0].date() if actor_alarms.height else f.as_of
window_end = min(f.as_of, focus_day + timedelta(days=14))
daily = data.query("access_actor_daily", as_of=window_end, actor_id=actor_id)
peers = data.query("access_peer_daily", as_of=window_end, actor_id=actor_id)
quantile = data.policy().settings.anomalies.volume_spike.peer_quantile
if daily.height:
    joined = daily.join(peers, on="activity_date", how="left")
    top = joined.sort("records", descending=True, nulls_last=True).row(0, named=True)
    charts.show(
        charts.volume_vs_baseline(
            joined.select(
                "activity_date",
                "records",
                "baseline_median_records",
                "peer_median_records",
                "peer_quantile_records",
            ),
            title=f"Records per day up to {window_end}, against baseline and role peers",
            peer_label=f"Peers' p{quantile * 100:g}",
        ),
        f"Most records in one day: {top['records'] or 0:,} on {top['activity_date']:%d %b %Y}, against an own "
        f"baseline median of {top['baseline_median_records'] or 0:,.1f} and a peers' median of "
        f"{top['peer_median_records'] or 0:,.1f} that day.",
        right,
    )
else:
    right.info("No personal-data activity in the baseline window before the alarm.")

st.markdown(f"**{plural(actor_alarms.height, 'alarm')} and the raw events behind each**")
for i, alarm in enumerate(actor_alarms.iter_rows(named=True)):
    label = f"{alarm['severity']} · {control_title(alarm['control_id'])} · {alarm['observed_at']:%Y-%m-%d %H:%M} UTC"
    # Built when opened (a rerun): each closed alarm would query and draw its raw events unseen.
    key = f"access_alarm_{i}_{alarm['control_id']}_{alarm['observed_at']:%Y%m%d%H%M}"
    box = st.expander(md_escape(label), expanded=i == 0, key=key, on_change="rerun")
    if not box.open:
        continue
    with box:
        st.text(plain(who.text(alarm["reason"])))
        events = data.query("evidence_events", evidence_ids=list(alarm["evidence"] or []))
        if events.height == 0:
            st.caption("The evidence names no raw event that is still loaded.")
            continue
        events = who.column(who.column(events, "actor_id", "actor"), "subject_id", "subject")
        events = who.column(who.column(events, "detail", "text"), "location", "text")
        grid(events, EVENT_COLUMNS)
