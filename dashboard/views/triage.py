"""Alarms and triage: every alarm and waived finding with its triage state, first and last seen, its
history of changes, and a form to change its state (kept beside the audit database, which stays
read-only)."""

from __future__ import annotations

import sqlite3

import polars as pl
import streamlit as st

from compliance.triage import CLOSED_STATES, STATES, TriageError, findings_with_state, set_state, triage_history
from dashboard import auth, data
from dashboard.alarm_history import show_history
from dashboard.format import control_title, current_filters, grid, plural, sort_findings

STATE_LABELS = {
    "open": "Open",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "false_positive": "False positive",
    "risk_accepted": "Risk accepted",
}

f = current_filters()
st.title("Alarms and triage")
st.caption(
    f.describe(applies=("period", "severity"))
    + " Triage states, notes and history are kept with who and when beside the database; waived findings "
    "come from the policy's exceptions.yaml."
)

db = data.database().path
results = data.controls(f.as_of)
rows = results.findings.filter(
    pl.col("status").is_in(["alarm", "suppressed"])
    & f.values_expr("severity", f.severities)
    & f.period_expr("observed_at")
)
try:
    findings = sort_findings(findings_with_state(db, rows))
except sqlite3.Error as exc:  # a damaged or unreadable store: say so, never a traceback
    st.error(f"The triage store beside the database cannot be read: {exc}")
    st.stop()
ids = data.identities()

c1, c2, c3, c4 = st.columns(4)
alarms = findings.filter(pl.col("status") == "alarm")
c1.metric("Open, untriaged or reopened", alarms.filter(pl.col("triage_state") == "open").height)
c2.metric("Acknowledged", alarms.filter(pl.col("triage_state") == "acknowledged").height)
c3.metric(
    "Closed by triage",
    alarms.filter(pl.col("triage_state").is_in(CLOSED_STATES)).height,
    help="Still alarms in the data, but triaged resolved, false positive or risk accepted.",
)
c4.metric("Waived", findings.filter(pl.col("waived")).height, help="Suppressed by a waiver in exceptions.yaml.")

if findings.is_empty():
    st.success("No alarm and no waived finding as of this date under the current filters.")
else:
    wanted = st.multiselect(
        "Triage state", list(STATES), format_func=STATE_LABELS.get, key="triage_filter", placeholder="All states"
    )
    shown = findings.filter(pl.col("triage_state").is_in(wanted)) if wanted else findings
    grid(
        ids.findings(shown).with_columns(pl.col("triage_state").replace_strict(STATE_LABELS, default=None)),
        {
            "severity": "Severity",
            "control_id": "Control",
            "resource": "Resource",
            "status": "Status",
            "triage_state": "Triage state",
            "reopened": "Reopened",
            "assignee": "Assignee",
            "first_seen": "First seen",
            "last_seen": "Last seen",
            "reason": "Reason",
        },
        key="triage_table",
        wide="reason",
    )
    st.caption(
        "First and last seen: the as-of dates of the recorded runs (ingests and `check --record`) in which the "
        "finding was an alarm or waived; empty until a run is recorded. Reopened: triaged resolved, yet an alarm "
        "again in a run recorded after that."
    )

    st.subheader("Change a finding's state")
    keys = [(r["control_id"], r["resource"]) for r in shown.iter_rows(named=True)]
    labels = {
        (c, r): f"{control_title(c)} · {ids.resource(r)}" for c, r in keys
    }  # pseudonymised: the label is on screen, the key is stored
    if not keys:
        st.info("No finding in the selected triage states.")
    else:
        choice = st.selectbox("Finding", keys, format_func=labels.get, key="triage_finding")
        control_id, resource = choice
        current = shown.filter((pl.col("control_id") == control_id) & (pl.col("resource") == resource)).row(
            0, named=True
        )
        # Another finding picked, or a change just saved: the form starts from the finding's current state.
        if st.session_state.get("_triage_for") != choice or st.session_state.pop("_triage_saved", None):
            st.session_state["_triage_for"] = choice
            st.session_state["triage_state"] = current["triage_state"]
            st.session_state["triage_assignee"] = current["assignee"] or ""
            st.session_state["triage_note"] = ""
        flash = st.session_state.pop("_triage_flash", None)
        if flash:
            st.success(flash)
        left, right = st.columns(2)
        with left:
            state = st.selectbox("New state", list(STATES), format_func=STATE_LABELS.get, key="triage_state")
            assignee = st.text_input("Assignee", key="triage_assignee")
            note = st.text_area("Note (why; required)", key="triage_note")
            save = st.button("Save state", key="triage_save", type="primary", disabled=not auth.can("triage"))
            if save and auth.require_role("triage", "changing a finding's triage state"):
                user = auth.current_user()
                try:
                    # Who changed it is the signed-in account (the local OS user when the demo runs open).
                    change = set_state(db, control_id, resource, state, note, user.name if user else "", assignee)
                except (TriageError, OSError, sqlite3.Error) as exc:
                    st.error(f"Not saved: {exc}")
                else:
                    auth.log(
                        "triage", what=f"{control_id} {ids.resource(resource)}: {change.previous} -> {change.state}"
                    )
                    st.session_state["_triage_flash"] = (
                        f"Saved: {STATE_LABELS[change.previous]} -> {STATE_LABELS[change.state]} "
                        f"by {change.changed_by} at {change.changed_at}."
                    )
                    st.session_state["_triage_saved"] = True
                    st.rerun()
        with right:
            history = triage_history(db, control_id, resource)
            st.markdown(f"**History** ({plural(history.height, 'change')})")
            if history.is_empty():
                st.text("Never triaged: open since it was first found.")
            else:
                grid(
                    history.with_columns(pl.col("state").replace_strict(STATE_LABELS, default=None)),
                    {
                        "changed_at": "When (UTC)",
                        "changed_by": "Who",
                        "state": "State",
                        "assignee": "Assignee",
                        "note": "Note",
                    },
                    key="triage_history",
                )

st.subheader("Alarms over time")
show_history(db)
