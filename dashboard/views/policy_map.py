"""Policy & data map: each policy section beside the data-map entries that implement it, the category by
system matrix, and the categories, uses and consents the exports show but the policy does not allow."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from compliance.reports import record_of_processing
from dashboard import charts, data
from dashboard.format import (
    CONTROL_ID_LABEL,
    control_all_clear,
    current_filters,
    grid,
    plural,
    show_findings,
    static_table,
    table,
)

MATRIX_STATES = ["Declared and seen", "Declared, not seen", "Seen but undeclared"]
STATE_SCALE = charts.state_scale(dict(zip(MATRIX_STATES, ["good", "neutral", "bad"], strict=True)))
STATE_WORDS = {"Declared and seen": "", "Declared, not seen": "unused", "Seen but undeclared": "UNDECLARED"}


def policy_config(section_id: str) -> None:
    """What implements a section that no data-map entry names: its policy-as-code configuration."""
    pol = data.policy()
    if section_id == "PS":
        st.markdown("**Approved recipients (sub-processors)**: personal data may go to these only")
        static_table(
            pl.DataFrame(
                [
                    {"Recipient": r.name, "Country": r.country, "Mechanism": r.mechanism, "Purpose": r.purpose}
                    for r in pol.recipients.recipients
                ]
            ),
        )
    elif section_id == "8":
        st.markdown("**Deadline rules (dsr_rules.yaml)**: the clocks the requests are judged against")
        static_table(
            pl.DataFrame(
                [
                    {
                        "Law": r.law,
                        "Jurisdictions": ", ".join(r.jurisdictions),
                        "Request types": ", ".join(r.request_types),
                        "Respond within": f"{r.period} {r.unit}" + (f" (+{r.extension})" if r.extension else ""),
                    }
                    for r in pol.dsr_rules.rules
                ]
            ),
        )
    else:
        st.info("No data-map entry or policy setting implements this section (or the filters exclude them).")


f = current_filters()
st.title("Policy & data map")
st.caption(
    f.describe(applies=("category", "system", "jurisdiction", "severity"))
    + " Observed counts are audit events and inventory records up to the as-of date."
)

matrix = data.query("datamap_matrix", as_of=f.as_of)
matrix = matrix.filter(f.category_expr("data_category") & f.values_expr("system_id", f.systems))
# A data use applies to the listed jurisdictions (all when none is listed); keep rows serving any selected one.
matrix = matrix.filter(pl.col("jurisdictions").is_null() | f.mentions_expr("jurisdictions", f.jurisdictions))
sections = data.query("policy_sections")
results = data.controls(f.as_of)
ids = data.identities()
transfers = {a["system"]: "; ".join(a["transfers"]) for a in record_of_processing(data.policy())["activities"]}


def control_result() -> pl.Expr:
    """A control's result in words from its summary counts: alarms first, then errors, skips, nothing examined."""
    return (
        pl.when(pl.col("alarm") > 0)
        .then(pl.format("{} open alarm(s)", pl.col("alarm")))
        .when(pl.col("error") > 0)
        .then(pl.lit("control error: proves nothing"))
        .when((pl.col("skip") > 0) & (pl.col("ok") + pl.col("info") == 0))
        .then(pl.lit("no data: its export was not loaded"))
        .when(pl.col("ok") + pl.col("info") == 0)
        .then(pl.lit("nothing to examine"))
        .when(pl.col("skip") > 0)
        .then(pl.format("ok ({} checked); part of its data not loaded", pl.col("ok") + pl.col("info")))
        .otherwise(pl.format("ok ({} checked)", pl.col("ok") + pl.col("info")))
    )


declared = matrix.filter(pl.col("declared"))
undeclared = matrix.filter(~pl.col("declared"))

c1, c2, c3, c4 = st.columns(4)
c1.metric("Systems in the data map", declared["system_id"].n_unique())
c2.metric("Declared categories", declared["data_category"].n_unique())
c3.metric("Categories seen but undeclared", undeclared["data_category"].n_unique())
c4.metric(
    "Declared but never seen",
    declared.group_by("system_id", "data_category")
    .agg((pl.col("observed_events").max() + pl.col("inventory_records").max()).alias("seen"))
    .filter(pl.col("seen") == 0)
    .height,
    help="System and category pairs the data map declares but no audit event or inventory record shows.",
)

st.subheader("The policy, section by section")
tab_labels = [f"{sid} · {title}" for sid, title in sections.select("section_id", "title").iter_rows()]
policy_tabs = st.tabs(tab_labels, key="policy_tab", bind="query-params")  # the open section is in the link
for tab, row in zip(policy_tabs, sections.iter_rows(named=True), strict=True):
    if not tab.open:  # only the open section is built: ten sections of grids cost the browser seconds
        continue
    with tab:
        text_col, map_col = st.columns([2, 3])
        with text_col:
            st.markdown(f"#### {row['title']}")
            st.markdown(row["text"])
            section_controls = results.summary.filter(pl.col("policy_section") == row["section_id"])
            if section_controls.height:
                st.markdown("**Controls that evidence it**")
                # One result in words per control: four count columns did not fit this narrow column.
                grid(
                    table(
                        section_controls.with_columns(control_result().alias("result")),
                        {"control_id": "Control", "result": "Result as of the date"},
                    ).drop(CONTROL_ID_LABEL, strict=False),  # the id would be cut off here; it is on the Overview
                )
            else:
                st.caption("No control evidences this section: it is a statement, not a measurable promise.")
        with map_col:
            rows = declared.filter(pl.col("policy_section") == row["section_id"])
            if rows.height == 0:
                policy_config(row["section_id"])
                continue
            implemented = (
                rows.group_by("system_id", "store_id", "data_category")
                .agg(
                    pl.col("category_policy_item").first().alias("policy_words"),
                    pl.concat_str([pl.col("data_use"), pl.lit(" ("), pl.col("legal_basis"), pl.lit(")")])
                    .unique()
                    .sort()
                    .str.join("; ")
                    .alias("uses"),
                    pl.concat_str(
                        [
                            pl.col("retention_action"),
                            pl.lit(" after "),
                            pl.col("retention_period_days").cast(pl.String),
                            pl.lit(" days from "),
                            pl.col("retention_clock"),
                        ]
                    )
                    .first()
                    .alias("retention"),
                    pl.col("recipients").first().alias("recipients"),
                    pl.col("observed_events").max().alias("observed_events"),
                    pl.col("inventory_records").max().alias("inventory_records"),
                )
                .with_columns(
                    pl.col("system_id")
                    .replace_strict(transfers, default=None, return_dtype=pl.String)
                    .alias("transfers")
                )
                .sort("system_id", "store_id", "data_category")
            )
            st.markdown(f"**{plural(implemented.height, 'data-map entry', 'data-map entries')} implement it**")
            grid(
                implemented,
                {
                    "system_id": "System",
                    "store_id": "Store",
                    "data_category": "Data category",
                    "policy_words": "Policy's words",
                    "uses": "Uses (legal basis)",
                    "retention": "Retention rule",
                    "recipients": "Recipients (mechanism)",
                    "transfers": "Regions and transfer mechanisms",
                    "observed_events": "Audit events",
                    "inventory_records": "Records held",
                },
                height=min(400, 38 + 35 * implemented.height),
            )

st.subheader("Data categories by system")
cells = pl.concat(
    [
        declared.group_by("system_id", "store_id", "data_category")
        .agg(
            pl.col("observed_events").max(),
            pl.col("inventory_records").max(),
            pl.col("data_use").n_unique().alias("uses"),
        )
        .group_by("system_id", "data_category")
        .agg(
            pl.col("observed_events").max().alias("events"),
            pl.col("inventory_records").sum().alias("records"),
            pl.col("uses").max(),
        )
        .with_columns(
            pl.when(pl.col("events") + pl.col("records") > 0)
            .then(pl.lit(MATRIX_STATES[0]))
            .otherwise(pl.lit(MATRIX_STATES[1]))
            .alias("state")
        ),
        undeclared.select(
            "system_id",
            "data_category",
            pl.col("observed_events").alias("events"),
            pl.col("inventory_records").alias("records"),
            pl.lit(0, pl.UInt32).alias("uses"),
            pl.lit(MATRIX_STATES[2]).alias("state"),
        ),
    ],
    how="vertical_relaxed",
).with_columns(pl.col("system_id").fill_null("(unknown system)"))
if cells.height:
    charts.show(
        charts.heatmap(
            cells.with_columns(pl.col("state").replace_strict(STATE_WORDS, default="").alias("word")),
            text="word:N",
            x="system_id:N",
            y="data_category:N",
            color="state:N",
            color_scale=STATE_SCALE,
            title="Which system holds which data category",
            x_title="System",
            y_title="Data category",
            color_title="Status",
            tooltip=[
                alt.Tooltip("system_id:N", title="System"),
                alt.Tooltip("data_category:N", title="Category"),
                alt.Tooltip("state:N", title="Status"),
                alt.Tooltip("events:Q", title="Audit events", format=","),
                alt.Tooltip("records:Q", title="Records held", format=","),
                alt.Tooltip("uses:Q", title="Declared uses"),
            ],
        ),
        f"{cells.height:,} system and data-category pairs: "
        + charts.breakdown(cells.with_columns(pl.lit(1).alias("n")), by="state", value="n", order=MATRIX_STATES)
        + ".",
    )
else:
    st.info("The filters leave no data-map entry to draw.")

st.subheader("Seen in the exports but not allowed by the policy")
if undeclared.height:
    n = undeclared["data_category"].n_unique()
    st.warning(
        f"{plural(n, 'data category', 'data categories')} {'appears' if n == 1 else 'appear'} in the exports "
        "that no system of the data map declares (policy section 2 does not disclose them).",
        icon=":material/report:",
    )
    grid(
        undeclared.with_columns(pl.col("system_id").fill_null("(unknown)")),
        {
            "data_category": "Data category",
            "system_id": "System",
            "observed_events": "Audit events",
            "inventory_records": "Records held",
        },
    )
else:
    st.success(control_all_clear("datamap.undeclared_category"))  # the matrix judges as that control does

problems = f.alarms(results.findings, control_ids=data.page_controls("policy_map"))
if problems.height:
    st.markdown(f"**{plural(problems.height, 'alarm')} on sections 2-4** (categories, uses, consent)")
    show_findings(problems, ids)
else:
    st.success("No alarm on declared categories, data uses or consent under the current filters.")
