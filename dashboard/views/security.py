"""Security & transfers (policy sections 5, 7 and PS): transport and storage encryption, audit-log
coverage, MFA, cross-border processing, disclosures to recipients, and incidents against their clocks."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.format import (
    blank_grid,
    control_all_clear,
    control_title,
    current_filters,
    grid,
    md_escape,
    plain,
    plural,
    show_findings,
)

CONTROLS = data.page_controls("security")
TLS_ORDER = ["TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "none", "encrypted", "unencrypted"]
TLS_SCALE = charts.state_scale(
    dict(zip(TLS_ORDER, ["good", "good_light", "warn", "bad", "critical", "good", "bad"], strict=True))
)


f = current_filters()
st.title("Security & transfers")
st.caption(f.describe(applies=("period", "jurisdiction", "system", "severity")))

results = data.controls(f.as_of, CONTROLS)
ids = data.identities()
alarms = f.alarms(results.findings, control_ids=CONTROLS)


def _alarms(control_id: str) -> pl.DataFrame:
    return alarms.filter(pl.col("control_id") == control_id)


def _problems(control_id: str) -> None:
    """The control's alarms under the filters, else its all-clear sentence; its informational rows on demand."""
    rows = _alarms(control_id)
    note = results.summary.filter(pl.col("control_id") == control_id)["note"].to_list()
    if note and note[0]:
        st.info(md_escape(plain(note[0])))
    elif rows.height:
        show_findings(rows, ids)
    else:
        st.success(control_all_clear(control_id))
    info = results.findings.filter((pl.col("control_id") == control_id) & (pl.col("status") == "info"))
    if info.height:
        box = st.expander(
            f"{plural(info.height, 'informational finding')} ({control_title(control_id)})",
            key=f"security_info_{control_id}",
            on_change="rerun",
        )
        if box.open:  # built when opened
            with box:
                show_findings(info, ids, {"resource": "Resource", "reason": "Finding"})


c = st.columns(6)
c[0].metric(
    "Weak encryption",
    _alarms("security.unencrypted_transport").height,
    help="Services that served personal data below the minimum TLS version or stored it unencrypted.",
)
c[1].metric("Audit-log gaps", _alarms("security.audit_gap").height, help="Silences longer than allowed.")
c[2].metric("MFA missing", _alarms("security.mfa_missing").height, help="Accounts whose role requires MFA.")
c[3].metric("Unlawful transfers", _alarms("transfer.no_safeguard").height, help="Subjects processed in a region "
            "with no lawful mechanism for their jurisdiction.")  # fmt: skip
c[4].metric("Unapproved recipients", _alarms("disclosure.unapproved_recipient").height)
c[5].metric("Late incident notices", _alarms("incident.notification_late").height)

st.subheader("Encryption in transit and at rest")
tls = data.query("security_tls_by_service", as_of=f.as_of, start_date=f.start, end_date=f.end)
if tls.height:
    # Shares per service, so one weak line among thousands still shows; counts are in the tooltip.
    charts.show(
        charts.bar(
            tls.with_columns(pl.concat_str(["service", "line_kind"], separator=" · ").alias("what")),
            x="lines:Q",
            y="what:N",
            normalize=True,
            **charts.colour_by("setting:N", "TLS version / storage", TLS_SCALE),
            horizontal=True,
            title="Share of diagnostic lines per service: network TLS version, storage encryption",
            x_title="Share of the service's lines",
            y_title="Service · kind of line",
            tooltip=[
                alt.Tooltip("service:N", title="Service"),
                alt.Tooltip("line_kind:N", title="Kind"),
                alt.Tooltip("setting:N", title="Setting"),
                alt.Tooltip("lines:Q", title="Lines", format=","),
                alt.Tooltip("personal_data_lines:Q", title="Carrying personal data", format=","),
                alt.Tooltip("last_at:T", title="Last seen"),
            ],
        ),
        f"{tls['lines'].sum():,} diagnostic lines from {tls['service'].n_unique()} services, by setting: "
        + charts.breakdown(tls, by="setting", value="lines", order=TLS_ORDER)
        + ".",
    )
else:
    st.info("No diagnostic export in the period, so transport and storage encryption cannot be shown.")
_problems("security.unencrypted_transport")

st.subheader("Audit-log coverage")
daily = data.query("audit_daily_by_system", as_of=f.as_of, start_date=f.start, end_date=f.end).filter(
    f.values_expr("system", f.systems)
)
span_days = 1
if daily.height > charts.MAX_ROWS:  # a multi-year period: weekly cells keep the chart drawable
    daily = daily.group_by("system", pl.col("event_date").dt.truncate("1w")).agg(pl.col("events").sum())
    span_days = 7
if daily.height:
    charts.show(
        charts.day_heatmap(
            daily,
            day="event_date",
            y="system",
            value="events",
            title="Audit events per system and day (blank: no events that day)",
            y_title="System",
            value_title="Events",
            span_days=span_days,
            tooltip=[
                alt.Tooltip("system:N", title="System"),
                alt.Tooltip("event_date:T", title="Day"),
                alt.Tooltip("events:Q", title="Events", format=","),
            ],
        ),
        f"{daily['events'].sum():,} audit events from {daily['system'].n_unique()} systems between "
        f"{daily['event_date'].min():%d %b %Y} and {daily['event_date'].max():%d %b %Y}; "
        f"{charts.breakdown(daily, by='system', value='events')}.",
    )
else:
    st.info("No audit events in the period for the selected systems.")
_problems("security.audit_gap")

st.subheader("MFA")
mfa = data.query("mfa_coverage")
left, right = st.columns([2, 3])
with left:
    grid(
        mfa,
        {
            "role": "Role",
            "requires_mfa": "MFA required",
            "privileged": "Privileged",
            "active_accounts": "Active",
            "active_without_mfa": "Active without MFA",
        },
    )
with right:
    _problems("security.mfa_missing")

st.subheader("Cross-border processing")
transfers = data.query("transfer_by_jurisdiction_region", as_of=f.as_of, start_date=f.start, end_date=f.end)
transfers = transfers.filter(f.values_expr("jurisdiction", f.jurisdictions)).with_columns(
    pl.when(pl.col("lawful").is_null())
    .then(pl.lit("jurisdiction unknown"))
    .when(pl.col("lawful"))
    .then(pl.col("mechanism"))
    .otherwise(pl.lit("NO SAFEGUARD"))
    .alias("basis")
)
if transfers.height:
    charts.show(
        charts.heatmap(
            transfers.with_columns(
                pl.col("basis")
                .replace_strict({k: v[1] for k, v in charts.MECHANISMS.items()}, default="?")
                .alias("word")
            ),
            x="region:N",
            y="jurisdiction:N",
            color="basis:N",
            color_scale=charts.MECHANISM_SCALE,
            text="word:N",
            dark_cells=charts.MECHANISM_DARK,
            title="Where each jurisdiction's subjects were processed, and under which mechanism",
            x_title="Processing region",
            y_title="Subject jurisdiction",
            color_title="Transfer mechanism",
            tooltip=[
                alt.Tooltip("jurisdiction:N", title="Jurisdiction"),
                alt.Tooltip("region:N", title="Region"),
                alt.Tooltip("region_country:N", title="Region country"),
                alt.Tooltip("basis:N", title="Mechanism"),
                alt.Tooltip("events:Q", title="Events", format=","),
                alt.Tooltip("subjects:Q", title="Subjects", format=","),
            ],
        ),
        f"{transfers['events'].sum():,} events about {transfers['jurisdiction'].n_unique()} jurisdictions' "
        f"subjects in {transfers['region'].n_unique()} regions, by mechanism: "
        + charts.breakdown(transfers, by="basis", value="events", order=list(charts.MECHANISMS))
        + ".",
    )
else:
    st.info("No audit event in the period names both a subject and a processing region.")
_problems("transfer.no_safeguard")

st.subheader("Disclosures to recipients")
disclosures = data.query("disclosure_by_recipient", as_of=f.as_of, start_date=f.start, end_date=f.end)
if disclosures.height:
    shown = disclosures.with_columns(
        pl.when(pl.col("approved")).then(pl.lit("approved")).otherwise(pl.lit("NOT approved")).alias("approval")
    )
    left, right = st.columns([2, 3])
    charts.show(
        charts.bar(
            shown,
            x="events:Q",
            y="recipient:N",
            color="approval:N",
            color_title="Recipient",
            color_scale=charts.state_scale({"approved": "good", "NOT approved": "bad"}),
            horizontal=True,
            title="Share and export events per recipient",
            x_title="Events",
            y_title="Recipient",
            tooltip=[
                alt.Tooltip("recipient:N", title="Recipient"),
                alt.Tooltip("approval:N", title="Status"),
                alt.Tooltip("events:Q", title="Events", format=","),
                alt.Tooltip("records:Q", title="Records", format=","),
                alt.Tooltip("mechanism:N", title="Transfer mechanism"),
            ],
        ),
        f"{shown['events'].sum():,} share and export events to {shown['recipient'].n_unique()} recipients: "
        + charts.breakdown(shown, by="approval", value="events", order=["approved", "NOT approved"])
        + ".",
        left,
    )
    grid(
        shown,
        {
            "recipient": "Recipient",
            "approval": "Status",
            "recipient_name": "Processor",
            "country": "Country",
            "mechanism": "Mechanism",
            "records": "Records",
            "actors": "Actors",
            "categories": "Categories",
        },
        container=right,
    )
else:
    st.info("No share or export to a recipient in the period.")
_problems("disclosure.unapproved_recipient")

st.subheader("Incidents against the 72-hour and 30-day clocks")
gdpr_hours = data.policy().settings.incidents.gdpr_notification_hours
au_days = data.policy().settings.incidents.au_assessment_days
incidents = data.query("incident_clocks", as_of=f.as_of).filter(
    f.period_expr("detected_at") & f.mentions_expr("jurisdictions", f.jurisdictions)
)
if incidents.height == 0:
    st.info("No incident was detected in the period (or the incidents export was not loaded).")
else:
    left, right = st.columns(2)
    clock_scale = charts.state_scale({"in time": "good", "late": "bad"})
    for col, value, late, limit, what, unit in (
        (left, "gdpr_hours", "gdpr_late", gdpr_hours, "GDPR: hours to regulator notification", "Hours"),
        (right, "au_days", "au_late", au_days, "AU: days to breach assessment", "Days"),
    ):
        frame = incidents.filter(pl.col(value).is_not_null()).with_columns(  # the incidents under this clock
            pl.when(pl.col(late)).then(pl.lit("late")).otherwise(pl.lit("in time")).alias("clock")
        )
        if frame.height == 0:
            col.info(f"No incident with personal data falls under this clock ({what.split(':')[0]}).")
            continue
        charts.show(
            charts.against_limit(
                frame,
                x=f"{value}:Q",
                y="incident_id:N",
                limit=limit,
                title=f"{what} (limit {limit:g})",
                x_title=unit,
                y_title="Incident",
                color="clock:N",
                color_title="Clock",
                color_scale=clock_scale,
                tooltip=[
                    alt.Tooltip("incident_id:N", title="Incident"),
                    alt.Tooltip("jurisdictions:N", title="Jurisdictions"),
                    alt.Tooltip("detected_at:T", title="Detected"),
                    alt.Tooltip(f"{value}:Q", title=unit, format=".1f"),
                ],
            ),
            f"{plural(frame.height, 'incident')} against a limit of {limit:g} {unit.lower()}: "
            f"{frame.filter(pl.col('clock') == 'late').height} late; the longest took "
            f"{frame[value].max():,.1f}".removesuffix(".0")
            + f" {unit.lower()}.",
            col,
        )
    blank_grid(  # an incident outside a clock has no hours or days: a blank cell, not 'None'
        incidents,
        {
            "incident_id": "Incident",
            "detected_at": "Detected (UTC)",
            "severity": "Severity",
            "jurisdictions": "Jurisdictions",
            "personal_data_involved": "Personal data",
            "regulator_notified_at": "Regulator notified",
            "gdpr_hours": "Hours to notify",
            "assessment_completed_at": "Assessed",
            "au_days": "Days to assess",
            "status": "Status",
        },
    )
_problems("incident.notification_late")
st.caption(plural(alarms.height, "alarm") + " on this page under the current filters.")
