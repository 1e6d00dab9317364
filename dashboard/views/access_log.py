"""Access log (admins): who signed in, viewed, revealed, downloaded or was refused what; its review
control and chain check; the local accounts."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from compliance.access_log import read_log, review, verify_chain
from compliance.accounts import AccountError, load_accounts, users_file
from dashboard import auth
from dashboard.format import Identities, blank_grid, current_filters, grid, md_escape, plural, show_findings

f = current_filters()
st.title("Access log")
if not auth.require_role("access_log", "the access log"):
    st.stop()

journal = auth.access_log()
log = read_log(journal.path)
st.caption(
    f"{plural(log.height, 'entry', 'entries')} in {md_escape(journal.path)}, appended by every session: sign-ins, "
    "page views with their filters, reveals, downloads and refusals. Rows name accounts; identifiers of data "
    "subjects appear only as pseudonyms."
)

broken = verify_chain(journal.path)
if broken:
    st.error(
        f"The log's hash chain breaks at line(s) {', '.join(map(str, broken[:20]))}: rows were edited, removed or "
        "re-ordered after they were written."
    )
elif log.height:
    st.success("The hash chain is intact: no row was edited, removed or re-ordered since it was written.")

st.subheader("Review (control access.dashboard_log_review)")
# The log records the present, not the audited period: it is reviewed as of today (UTC), not the sidebar's date.
today = datetime.now(UTC).date()
findings = review(log, today)
problems = findings.filter(pl.col("status") != "ok")
if problems.height == 0:
    st.success(
        f"As of {today}: no reveal or real-id download beyond a role, no bulk real-id download, no refusal."
        if log.height
        else "The log is empty: nothing to review yet."
    )
else:
    show_findings(problems, Identities(reveal=True))  # rows name accounts, not data subjects

st.subheader("Entries")
users = sorted(log["user"].drop_nulls().unique().to_list())
events = sorted(log["event"].drop_nulls().unique().to_list())
left, right = st.columns(2)
chosen_users = left.multiselect("User", users, key="log_users", placeholder="All users", bind="query-params")
chosen_events = right.multiselect("Event", events, key="log_events", placeholder="All events", bind="query-params")
shown = log.filter(
    (pl.col("user").is_in(chosen_users) if chosen_users else pl.lit(True))
    & (pl.col("event").is_in(chosen_events) if chosen_events else pl.lit(True))
).sort("at", descending=True)
shown = shown.with_columns(pl.col("roles").list.join(", "), pl.col("at").dt.strftime("%Y-%m-%d %H:%M:%S"))
blank_grid(  # a page view has no row count: a blank cell, not 'None'
    shown.select("at", "user", "method", "roles", "event", "page", "what", "real_ids", "rows", "detail").rename(
        {"at": "When (UTC)", "user": "User", "method": "Sign-in", "roles": "Roles", "event": "Event"}
        | {"page": "Page", "what": "What", "real_ids": "Real ids", "rows": "Rows", "detail": "Filters / detail"}
    ),
    key="access_log_table",
)
auth.csv_download(
    "Download the access log (CSV)",
    log.with_columns(pl.col("roles").list.join(";")),
    file_name="dashboard-access-log.csv",
    key="download_access_log",
)

st.subheader("Local accounts")
try:
    accounts = load_accounts()
except AccountError as exc:
    st.error(md_escape(exc))
    accounts = {}
st.caption(
    f"{plural(len(accounts), 'account')} in {md_escape(users_file())}. Manage them on the server with "
    "`compliance users add NAME --role ROLE`, `compliance users remove NAME`; identity-provider users get "
    "their roles from the provider's groups."
)
if accounts:
    grid(
        pl.DataFrame(
            [
                {"User": a.username, "Roles": ", ".join(a.roles), "Created (UTC)": a.created_at[:19]}
                for a in accounts.values()
            ]
        ),
    )
