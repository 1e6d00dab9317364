"""Data health: what was loaded, from which files, what was a duplicate, and what was rejected and why.

The controls are only as good as the data under them: a rejected file or a silent source weakens
every finding built on it, so this page shows the load manifest as the ingest recorded it.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from dashboard import charts, data
from dashboard.format import current_filters, grid, plural, show_table

OUTCOMES = {"rows_loaded": "Loaded", "rows_duplicate": "Duplicate", "rows_rejected": "Rejected"}
# The same counts as table columns (per source, per run, per file).
OUTCOME_COLUMNS = {"rows_loaded": "Loaded", "rows_duplicate": "Duplicates", "rows_rejected": "Rejected"}
# Row counts with thousands separators (4,239), as in the figures above the tables.
COUNTS = {
    c: st.column_config.NumberColumn(format="localized") for c in ("Read", "Loaded", "Duplicates", "Rejected", "Bytes")
}
OUTCOME_SCALE = charts.state_scale(dict(zip(OUTCOMES.values(), ["good", "neutral", "bad"], strict=True)))
MAX_REJECTS_SHOWN = 500
MAX_UNMATCHED_SHOWN = 200


def as_exported(path_column: str) -> pl.Expr:
    """A path as the export names it (source folder and file), not the machine's absolute path."""
    return pl.col(path_column).str.extract(r"([^/]+/[^/]+)$")


f = current_filters()
st.title("Data health")
st.caption(f.describe(applies=()) + " This page shows everything the database was loaded with.")

files = data.query("load_files").with_columns(as_exported("path").alias("file"))
runs = data.query("load_runs_summary")
reasons = data.query("rejects_by_reason")

c = st.columns(6)
c[0].metric("Load runs", runs.height)
c[1].metric("Files", f"{files.height:,}")
c[2].metric("Rows read", f"{files['rows_read'].sum():,}")
c[3].metric("Loaded", f"{files['rows_loaded'].sum():,}")
c[4].metric("Duplicates", f"{files['rows_duplicate'].sum():,}", help="Rows whose key an export already held.")
c[5].metric("Rejected", f"{files['rows_rejected'].sum():,}", help="Rows that broke the data contract.")

if files.height == 0:
    st.info("The load manifest is empty: nothing has been ingested into this database yet.")
    st.stop()

st.subheader("Rows per source")
per_source = files.group_by("source").agg(pl.col(list(OUTCOMES)).sum(), pl.len().alias("files"))
left, right = st.columns([3, 2])
rows_by_outcome = (
    per_source.unpivot(index=["source", "files"], variable_name="outcome", value_name="rows")
    .with_columns(pl.col("outcome").replace_strict(OUTCOMES))
    .filter(pl.col("rows") > 0)
)
charts.show_split_bars(
    rows_by_outcome,
    noun="rows read",
    by_noun="sources",
    top=9,
    container=left,
    grouped=True,
    x="rows:Q",
    y="source:N",
    **charts.colour_by("outcome:N", "Outcome", OUTCOME_SCALE),
    horizontal=True,
    title="Rows read per source, by outcome",
    x_title="Rows",
    y_title="Source",
    tooltip=[
        alt.Tooltip("source:N", title="Source"),
        alt.Tooltip("outcome:N", title="Outcome"),
        alt.Tooltip("rows:Q", title="Rows", format=","),
        alt.Tooltip("files:Q", title="Files"),
    ],
)
grid(
    per_source.sort("source"),
    {"source": "Source", "files": "Files", **OUTCOME_COLUMNS},
    container=right,
    column_config=COUNTS,
)

vendors = data.query("vendor_principals")
if vendors.height:
    st.subheader("Vendor logs: who the principals are")
    unmatched = int(vendors["unmatched_principals"].sum())
    st.caption(
        "Vendor logs name people by email, ARN or object id; identities/ maps those names to directory accounts. "
        f"{plural(unmatched, 'principal')} matched no directory account: their events keep the vendor's name, "
        "so role, status and home-country checks cannot judge them."
    )
    grid(
        vendors,
        {
            "log_source": "Vendor log",
            "events": "Events",
            "principals": "Principals",
            "unmatched_principals": "Unmatched principals",
            "unmatched_events": "Their events",
        },
    )
    if unmatched:
        who = data.revealable_identities(
            "Show vendor names (add them to identities/)",
            key="health_reveal_principals",
            what=f"{unmatched} unmatched vendor principals",
            help="Vendor names stay pseudonymised unless an investigator reveals them; each reveal is logged.",
        )
        listed = data.query("vendor_unmatched_principals", max_rows=MAX_UNMATCHED_SHOWN)
        show_table(
            who.column(listed, "principal", "actor"),
            {
                "log_source": "Vendor log",
                "principal": "Principal",
                "actor_type": "Type",
                "events": "Events",
                "first_at": "First (UTC)",
                "last_at": "Last (UTC)",
            },
        )

st.subheader("Load runs")
grid(
    runs,
    {
        "run_id": "Run",
        "started_at": "Started (UTC)",
        "finished_at": "Finished (UTC)",
        "policy_version": "Policy",
        "policy_digest": "Policy digest",
        "exports": "Exports",
        "files": "Files",
        **OUTCOME_COLUMNS,
    },
    column_config=COUNTS,
)

st.subheader("The load manifest, file by file")
source_col, toggle_col = st.columns([2, 3])
source = source_col.selectbox(
    "Source", ["all", *sorted(files["source"].unique())], key="health_source", bind="query-params"
)
only_issues = toggle_col.toggle("Only files with duplicates or rejects", key="health_issues", bind="query-params")
shown = files if source == "all" else files.filter(pl.col("source") == source)
if only_issues:
    shown = shown.filter((pl.col("rows_duplicate") > 0) | (pl.col("rows_rejected") > 0))
st.caption(f"{plural(shown.height, 'file')} shown.")
grid(
    shown,
    {
        "source": "Source",
        "file": "File",
        "size_bytes": "Bytes",
        "run_id": "Run",
        "rows_read": "Read",
        **OUTCOME_COLUMNS,
        "newest_event_at": "Newest event (UTC)",
        "file_id": "SHA-256",
    },
    column_config=COUNTS,
)

st.subheader("Rejected rows and why")
if reasons.height == 0:
    st.success("No row was rejected: every row read met the data contract.")
else:
    show_table(
        reasons.with_columns(as_exported("first_path")),
        {
            "source": "Source",
            "field": "Field",
            "reason": "Reason",
            "rows_rejected": "Rows",
            "files": "Files",
            "first_path": "First file",
            "first_line": "First line",
        },
    )
    sample = data.query("rejects_sample", max_rows=MAX_REJECTS_SHOWN)
    # A rejected row may name people the database does not know: its raw text is masked unless revealed.
    raw_ids = data.revealable_identities(
        "Show the rejected rows' raw text unmasked",
        key="rejects_reveal",
        what=f"raw text of {sample.height} rejected rows",
        help="Ids, IP and e-mail addresses in the raw text are masked unless an investigator reveals them.",
    )
    sample = raw_ids.column(sample, "raw", "raw")
    total = int(reasons["rows_rejected"].sum())
    st.caption(f"The raw text of {plural(sample.height, 'rejected row')} (of {total:,}), as the export had it.")
    show_table(
        sample.with_columns(as_exported("path")),
        {"source": "Source", "path": "File", "line": "Line", "field": "Field", "reason": "Reason", "raw": "Raw"},
        max_static=20,
    )
