"""Evidence: the findings as files (the contract's formats), the GDPR Art. 30 record of processing built
from the data map, and the CCPA §7102 request metrics."""

from __future__ import annotations

import json

import streamlit as st

from compliance.check import FORMATS, render_findings
from compliance.evidence.package import package_bytes
from compliance.posture_counts import is_problem_row
from compliance.reports import (
    dsr_metrics,
    posture_by_section,
    processor_record,
    record_of_processing,
    record_of_processing_frame,
)
from dashboard import auth, data
from dashboard.format import Identities, current_filters, grid, md_escape, plural

MIME = {"jsonl": "application/x-ndjson", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
FORMAT_LABELS = {"csv": "CSV", "parquet": "Parquet", "jsonl": "JSON Lines"}

f = current_filters()
st.title("Evidence")
st.caption(
    f"As of **{f.as_of}**. Files hold the whole evaluation as of that date; the sidebar's other filters do not "
    "narrow them, so what an auditor downloads is what the controls found."
)
db = data.database()
results = data.controls(f.as_of)
ids = data.identities()
stem = f"findings-{f.as_of}"

st.subheader("Evidence package for an auditor")
st.markdown(
    "One zip an auditor can file and re-check: the findings (JSON Lines, Parquet, OCSF), the posture, the "
    "Art. 30 records, the CCPA §7102 metrics and the DSR register as XLSX and PDF, the policy and queries used, "
    "and a manifest of every input file's SHA-256. `compliance evidence verify FILE.zip --db DB` re-derives it."
)
# The package names real subject and actor ids: the auditor role only, and the download is logged.
if not auth.can("download_real_ids"):
    st.caption("The package holds real identifiers: an account with the auditor role downloads it.")
else:
    auth.download_button(
        "Download the evidence package (ZIP)",
        lambda path=db.path, day=f.as_of: package_bytes(path, day),  # built on click, not on every rerun
        file_name=f"evidence-{f.as_of}.zip",
        mime="application/zip",
        key="download_evidence_package",
        real_ids=True,
        icon=":material/inventory_2:",
    )
st.caption(
    "Built when you click (it evaluates every control; about as long as a `compliance check`). It names real "
    "subject and actor ids: handle it as personal data. The notebooks as HTML are added by "
    "`compliance evidence --notebooks`."
)

st.subheader("Findings")
st.markdown(
    "One row per resource examined or problem found, with the columns of data contract section 4 "
    "(`control_id, policy_section, resource, status, severity, reason, observed_at, evidence`)."
)
scope_col, id_col = st.columns(2)
scope = scope_col.radio(
    "Rows",
    ["Problems and exceptions (alarm, error, skip, info)", "Everything, ok rows included"],
    key="evidence_scope",
    help="Everything re-runs every control when you click download, which takes longer on big data.",
)
identifiers = id_col.radio(
    "Identifiers of people",
    ["Pseudonymised", "Real (for the auditor)"],
    key="evidence_ids",
    help="Pseudonymised files can be shared; real ids are needed to follow a finding back to the source.",
)
# Real ids need the auditor role: anyone else is refused (and logged) and gets pseudonymised files.
reveal = identifiers.startswith("Real") and auth.require_role("download_real_ids", "a findings file with real ids")
# The one definition of a problem row (compliance.posture_counts), as every page and notebook counts it.
problems = results.findings.filter(is_problem_row())
problems = problems if reveal else ids.findings(problems)
full = scope.startswith("Everything")
cols = st.columns(len(FORMATS))
for col, fmt in zip(cols, ("csv", "parquet", "jsonl"), strict=True):
    if full:
        load = data.full_findings_loader(f.as_of)

        def payload(load=load, fmt=fmt) -> bytes:
            frame = load()
            return render_findings(frame if reveal else Identities(ids.kinds).findings(frame), fmt)

    else:
        payload = render_findings(problems, fmt)
    with col:
        auth.download_button(
            f"Download {FORMAT_LABELS[fmt]}",
            payload,
            file_name=f"{stem}{'-all' if full else ''}{'' if reveal else '-pseudonymised'}.{fmt}",
            mime=MIME[fmt],
            key=f"download_{fmt}",
            real_ids=reveal,
            rows=None if full else problems.height,
            icon=":material/download:",
            width="stretch",
        )
total = int(results.summary["rows"].sum())
st.caption(
    f"{plural(problems.height, 'problem or exception row')} now; {total:,} rows in all (ok rows included), "
    f"from {plural(results.summary.height, 'control')} on `{db.name}`."
)
sections = data.query("policy_sections")
posture = posture_by_section(results.summary, dict(sections.select("section_id", "title").iter_rows()))
auth.csv_download(
    "Download the posture by policy section (CSV)", posture, file_name=f"posture-{f.as_of}.csv", key="download_posture"
)

st.subheader("Record of processing activities (GDPR Art. 30)")
record = record_of_processing(data.policy())
ropa = record_of_processing_frame(record)
st.markdown(
    f"Controller **{record['controller']}**, contact {record['contact'] or '(none stated)'}, policy "
    f"{record['policy_version']}. One processing activity per system of the data map."
)
st.text(f"Data protection officer (Art. 30(1)(a)): {record['dpo']}")
ART30_FIELDS = {
    "purposes": "Purposes and legal basis (Art. 30(1)(b))",
    "data_subjects": "Categories of data subjects (c)",
    "data_categories": "Categories of personal data (c)",
    "recipients": "Recipients (d)",
    "transfers": "Transfers to third countries and safeguards (e)",
    "retention": "Time limits for erasure (f)",
}
for i, activity in enumerate(record["activities"]):
    title = md_escape(f"{activity['activity']} ({activity['system']}), owner {activity['owner'] or 'not named'}")
    # Built when opened (a rerun): nine closed records of markdown cost the browser more than the open one.
    box = st.expander(title, expanded=i == 0, key=f"ropa_{i}", on_change="rerun")
    if not box.open:
        continue
    with box:
        st.caption(activity["description"] + f" Policy sections {', '.join(activity['policy_sections'])}.")
        left, right = st.columns(2)
        for j, (key, label) in enumerate(ART30_FIELDS.items()):
            col = left if j % 2 == 0 else right
            items = activity[key] or ["none"]
            col.markdown(f"**{label}**\n" + "\n".join(f"- {md_escape(item)}" for item in items))
box = st.expander(
    "Security measures (Art. 30(1)(g), Art. 32), as the policy and its configuration state them",
    key="ropa_security",
    on_change="rerun",
)
if box.open:
    with box:
        for measure in record["activities"][0]["security_measures"] if record["activities"] else []:
            st.markdown(f"- {measure}")
left, right = st.columns(2)
with left:
    auth.csv_download("Download the record (CSV)", ropa, file_name="record-of-processing.csv", key="download_ropa_csv")
with right:
    auth.download_button(
        "Download the record (JSON)",
        json.dumps(record, indent=2, ensure_ascii=False),
        file_name="record-of-processing.json",
        mime="application/json",
        key="download_ropa_json",
    )

st.subheader("Processor record (GDPR Art. 30(2))")
customers = data.query("processor_customers", as_of=f.as_of)
processor = processor_record(data.policy(), customers)
st.caption(
    f"Capantra processes its customers' data on their behalf in the data-map systems marked "
    f"processed_for_customers: one entry per customer account active on {f.as_of} ({processor.height})."
)
grid(
    processor.drop("processor", "processor_contact", "dpo", "security_measures"),
    {
        "customer_id": "Customer id",
        "customer": "Controller (customer)",
        "customer_country": "Country",
        "home_region": "Home region",
        "categories_of_processing": "Categories of processing (Art. 30(2)(b))",
        "sub_processors": "Sub-processors",
        "transfers": "Transfers to third countries and safeguards (c)",
    },
    key="processor_record_table",
)
auth.csv_download(
    "Download the processor record (CSV)", processor, file_name="processor-record.csv", key="download_processor_record"
)

st.subheader("Data subject request metrics (CCPA regulations §7102)")
register = data.query("dsr_register", as_of=f.as_of).filter(f.values_expr("jurisdiction", f.jurisdictions))
years = sorted(register["received_date"].dt.year().unique().to_list(), reverse=True)
if not years:
    st.info("No request was received by the as-of date (or the DSR export was not loaded).")
else:
    year = st.selectbox("Calendar year of receipt", years, key="evidence_year", bind="query-params")
    # CCPA regs §7102 covers California consumers: US-CA unless the sidebar narrows to one other jurisdiction.
    scope = f.jurisdictions[0] if len(f.jurisdictions or []) == 1 else "US-CA"
    metrics = dsr_metrics(register, year, scope)
    st.caption(
        f"{scope} requests received in {year}: complied with in whole or in part (completed), denied "
        "(rejected), and the days to a substantive response (completions and denials)"
        + ("; portability requests count as requests to know." if scope == "US-CA" else ".")
    )
    grid(
        metrics,
        {
            "year": "Year",
            "jurisdiction": "Jurisdiction",
            "label": "Request type",
            "received": "Received",
            "complied_in_whole_or_part": "Complied with in whole or in part",
            "denied": "Denied",
            "withdrawn": "Withdrawn",
            "pending": "Still open",
            "median_days": "Median days",
            "mean_days": "Mean days",
        },
        key="dsr_metrics_table",
    )
    auth.csv_download(
        "Download the metrics (CSV)", metrics, file_name=f"dsr-metrics-{year}.csv", key="download_dsr_metrics"
    )
