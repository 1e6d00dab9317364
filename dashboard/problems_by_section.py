"""The Overview's "Top open problems": the open alarms grouped by policy section, every count taken from
compliance.posture_counts. A section row (click it, or pick it below the table) drills into its controls, with
each control's share of the section's alarms so one noisy control stands out, and into the alarms themselves."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl
import streamlit as st

from compliance.posture_counts import alarms_by_control, alarms_by_section
from dashboard.data import ControlResults
from dashboard.format import (
    FINDING_COLUMNS,
    PAGE_TITLES,
    SEVERITY_RANK,
    Identities,
    control_title,
    grid,
    md_escape,
    page_for,
    plural,
    show_findings,
    wide_text,
)

SECTION_KEY = "overview_section"  # the section picker (a row click sets it)
TABLE_KEY = "overview_problem_sections"
CONTROL_KEY = "overview_section_control"
ALL_CONTROLS = "All controls of the section"


def worst_first(sections: pl.DataFrame) -> pl.DataFrame:
    """Sections with open alarms, the most severe first, then the most alarms, then document order."""
    return (
        sections.filter(pl.col("open_alarms") > 0)
        .with_row_index("_doc")
        .sort(
            [pl.col("highest_severity").replace_strict(SEVERITY_RANK, default=9), pl.col("open_alarms"), "_doc"],
            descending=[False, True, False],
        )
        .drop("_doc")
    )


def _select_row(order: list[str]) -> Callable[[], None]:
    def on_select() -> None:
        rows = st.session_state[TABLE_KEY]["selection"]["rows"]
        if rows:
            st.session_state[SECTION_KEY] = order[rows[0]]
            st.session_state.pop(CONTROL_KEY, None)

    return on_select


def show_problems_by_section(
    alarms: pl.DataFrame, results: ControlResults, titles: Mapping[str, str], ids: Identities
) -> None:
    """The sections table, the section picker and the drill-down into the picked section."""
    if alarms.height == 0:
        st.success("Nothing to follow up: no open alarm matches the filters.")
        return
    sections = worst_first(alarms_by_section(alarms)).with_columns(
        pl.col("policy_section").replace_strict(dict(titles), default=None).alias("title"),
        (
            pl.col("top_control").map_elements(control_title, return_dtype=pl.String)
            + " ("
            + pl.col("top_control_alarms").cast(pl.String)
            + ")"
        ).alias("noisiest"),
    )
    order = sections["policy_section"].to_list()
    st.caption(
        f"{plural(alarms.height, 'open alarm')} under the filters, in {plural(len(order), 'policy section')}. "
        "Click a row, or pick a section below, to see its controls and alarms."
    )
    grid(
        sections,
        {
            "policy_section": "Section",
            "title": "Title",
            "open_alarms": "Open alarms",
            "controls_in_alarm": "Controls in alarm",
            "highest_severity": "Highest severity",
            "noisiest": "Noisiest control (alarms)",
        },
        key=TABLE_KEY,
        on_select=_select_row(order),
        selection_mode="single-row",
        column_config={"Title": st.column_config.TextColumn(width="medium")},
    )
    if st.session_state.get(SECTION_KEY) not in order:
        st.session_state.pop(SECTION_KEY, None)  # filters changed: the old pick has no alarm left
    counts = dict(sections.select("policy_section", "open_alarms").iter_rows())
    section = st.selectbox(
        "Section to drill into",
        order,
        key=SECTION_KEY,
        format_func=lambda s: f"{s} · {titles.get(s) or 'untitled'} ({plural(counts[s], 'open alarm')})",
    )
    with st.container(border=True):
        _drill_into(section, alarms.filter(pl.col("policy_section") == section), results, ids)


def _drill_into(section: str, alarms: pl.DataFrame, results: ControlResults, ids: Identities) -> None:
    per_control = alarms_by_control(alarms).join(
        results.summary.select("control_id", "description"), on="control_id", how="left"
    )
    top = per_control.row(0, named=True)
    st.markdown(f"**Section {section}: the controls in alarm**")
    st.caption(
        f"{md_escape(control_title(top['control_id']))} raises {top['open_alarms']:,} of the section's {alarms.height:,} open alarms "
        f"({top['share_of_section']:.0%}); {plural(per_control.height, 'control')} in alarm."
    )
    grid(
        per_control.with_columns(pl.col("share_of_section") * 100),
        {
            "control_id": "Control",
            "open_alarms": "Open alarms",
            "share_of_section": "Share of the section",
            "highest_severity": "Highest severity",
            "description": "What it checks",
        },
        column_config=wide_text("What it checks")
        | {"Share of the section": st.column_config.ProgressColumn(format="%.0f%%", min_value=0, max_value=100)},
    )
    for page in dict.fromkeys(page_for(c) for c in per_control["control_id"]):
        mine = [c for c in per_control["control_id"] if page_for(c) == page]
        label = (
            f"Open {PAGE_TITLES[page]}, which explains {plural(len(mine), 'of these controls', 'of these controls')}"
        )
        st.page_link(page, label=md_escape(label), icon=":material/arrow_forward:")
    picked = st.selectbox(
        "Alarms of",
        [ALL_CONTROLS, *per_control["control_id"].to_list()],
        key=CONTROL_KEY,
        format_func=lambda c: c if c == ALL_CONTROLS else control_title(c),
    )
    rows = alarms if picked == ALL_CONTROLS else alarms.filter(pl.col("control_id") == picked)
    st.caption(f"{plural(rows.height, 'open alarm')}, most severe first. People are pseudonymised.")
    show_findings(rows, ids, {k: v for k, v in FINDING_COLUMNS.items() if k not in ("status", "policy_section")})
