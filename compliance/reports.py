"""Reports built from findings, the policy and the DSR register, for the dashboard and notebooks alike.

- `pseudonymise` / `redact_text`: keyed pseudonyms for subject and actor ids (re-exported from
  compliance.pseudonyms, where they live), so screens and shared notebooks show who without naming them;
- `control_summary` / `posture_by_section`: the policy posture (status counts per control and section);
- `record_of_processing`: the GDPR Art. 30(1) record, built from the data map;
- `processor_record`: the GDPR Art. 30(2) record Capantra keeps as its customers' processor;
- `dsr_metrics`: the CCPA regs §7102(a) annual request metrics.

No Streamlit here: everything takes and returns plain Polars frames or dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from compliance.config.retention import governing_rule
from compliance.controls import SEVERITIES, STATUSES
from compliance.pseudonyms import pseudonymise, redact_text

if TYPE_CHECKING:
    from compliance.config.bundle import Policy
    from compliance.config.models import System

__all__ = [
    "CCPA_REQUEST_LABELS",
    "SECTION_ORDER",
    "control_summary",
    "dsr_metrics",
    "posture_by_section",
    "processor_record",
    "pseudonymise",
    "record_of_processing",
    "record_of_processing_frame",
    "redact_text",
]

SECTION_ORDER = ("PS", "1", "2", "3", "4", "5", "6", "7", "8", "9")
# --- posture ----------------------------------------------------------------------------------


def _highest(severities: Iterable[str | None]) -> str | None:
    present = [s for s in severities if s in SEVERITIES]
    return max(present, key=SEVERITIES.index) if present else None


def control_summary(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per control: its section, rows per status, the highest alarm severity, and the reason of
    a skip or error row (why the control evidenced nothing)."""
    rows = []
    for (control_id,), part in findings.group_by("control_id", maintain_order=True):
        counts = dict(part.group_by("status").len().iter_rows())
        note = part.filter(pl.col("status").is_in(["skip", "error"]))["reason"].head(1).to_list()
        rows.append(
            {
                "control_id": control_id,
                "policy_section": part["policy_section"][0],
                "rows": part.height,
                **{s: int(counts.get(s, 0)) for s in STATUSES},
                "highest_severity": _highest(part.filter(pl.col("status") == "alarm")["severity"].to_list()),
                "note": note[0] if note else None,
            }
        )
    schema: dict[str, Any] = {"control_id": pl.String, "policy_section": pl.String, "rows": pl.Int64}
    schema |= {s: pl.Int64 for s in STATUSES} | {"highest_severity": pl.String, "note": pl.String}
    return pl.DataFrame(rows, schema=schema).sort("control_id")


def posture_by_section(summary: pl.DataFrame, titles: Mapping[str, str] | None = None) -> pl.DataFrame:
    """Per policy section (PS, 1..9, every one even without controls): controls, controls in alarm,
    status counts, the highest alarm severity and a posture word.

    Posture: `alarm` (some control alarms), `error` (a control failed, none alarms), `skip` (every
    control skipped: no data), `ok`, or `no control` (nothing in the catalog evidences the section).
    `summary` is `control_summary`'s frame (or any frame with its columns).
    """
    titles = titles or {}
    rows = []
    sections = list(SECTION_ORDER) + sorted(set(summary["policy_section"].drop_nulls().to_list()) - set(SECTION_ORDER))
    for section in sections:
        part = summary.filter(pl.col("policy_section") == section)
        totals = {s: int(part[s].sum()) for s in STATUSES}
        controls = part.height
        if controls == 0:
            posture = "no control"
        elif totals["alarm"]:
            posture = "alarm"
        elif totals["error"]:
            posture = "error"
        elif part.filter(pl.col("skip") > 0).height == controls:
            posture = "skip"
        else:
            posture = "ok"
        rows.append(
            {
                "policy_section": section,
                "title": titles.get(section),
                "posture": posture,
                "controls": controls,
                "controls_in_alarm": part.filter(pl.col("alarm") > 0).height,
                **totals,
                "highest_severity": _highest(part["highest_severity"].to_list()),
            }
        )
    schema: dict[str, Any] = {"policy_section": pl.String, "title": pl.String, "posture": pl.String}
    schema |= {"controls": pl.Int64, "controls_in_alarm": pl.Int64}
    schema |= {s: pl.Int64 for s in STATUSES} | {"highest_severity": pl.String}
    return pl.DataFrame(rows, schema=schema)


# --- record of processing (GDPR Art. 30(1)) ---------------------------------------------------


def _controller_contact(policy: Policy) -> str | None:
    for section in policy.text.sections:
        if m := re.search(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", section.text):
            return m.group(0)
    return None


def _retention_text(policy: Policy, system: System, category: str, store: str) -> str:
    """The governing rule of a (system, store, category), by the resolver the retention controls use."""
    rule = governing_rule(policy.retention.records, system.id, store, category)
    if rule is None:
        return f"{category}: no rule"
    return f"{category}: {rule.action} {rule.period_days} days after {rule.clock.removesuffix('_at').replace('_', ' ')}"


def _name(policy: Policy, key: str) -> str:
    name = policy.taxonomy.names.get(key)
    return f"{name} ({key})" if name and name != key else key


def record_of_processing(policy: Policy) -> dict[str, Any]:
    """The Art. 30(1) record as a dict: the controller, and one processing activity per data-map system
    with purposes, legal bases, categories of subjects and data, recipients, third-country transfers
    with their safeguards, retention, and the security measures (Art. 32) the policy states."""
    regions = {r.id: r for r in policy.transfers.regions}
    recipients = {r.id: r for r in policy.recipients.recipients}
    measures = _security_measures(policy)
    activities = []
    for system in policy.data_map.systems:
        transfers = []
        for region_id in system.processing_regions:
            region = regions[region_id]
            by_jurisdiction = [
                f"{jur} subjects under {mechanisms[region_id]}"
                for jur, mechanisms in policy.transfers.rules.items()
                if region_id in mechanisms and mechanisms[region_id] != "none_needed"
            ]
            if by_jurisdiction:
                transfers.append(f"processing in {region_id} ({region.country}): {', '.join(by_jurisdiction)}")
        for rid in system.recipients:
            r = recipients[rid]
            transfers.append(f"to {r.name} ({r.country}) under {r.mechanism}")
        retention = [
            _retention_text(policy, system, category, store.id)
            for store in system.stores
            for category in store.data_categories
        ]
        activities.append(
            {
                "activity": system.name,
                "system": system.id,
                "description": system.description,
                "owner": system.owner,
                "policy_sections": list(system.policy_sections),
                "purposes": [f"{_name(policy, u.use)}: {u.legal_basis}" for u in system.uses],
                "legal_bases": sorted({u.legal_basis for u in system.uses}),
                "data_subjects": list(system.data_subjects),
                "data_categories": [_name(policy, c) for c in system.data_categories],
                "recipients": [f"{recipients[rid].name} ({recipients[rid].purpose})" for rid in system.recipients],
                "transfers": transfers,
                "retention": list(dict.fromkeys(retention)),
                "security_measures": measures,
            }
        )
    return {
        "controller": policy.settings.controller.name,
        "contact": policy.settings.controller.contact or _controller_contact(policy),
        "dpo": _dpo_text(policy),
        "policy_version": policy.version,
        "activities": activities,
    }


def _dpo_text(policy: Policy) -> str:
    c = policy.settings.controller
    if not c.dpo_name and not c.dpo_contact:
        return "none recorded (settings.yaml controller.dpo_name, dpo_contact)"
    return ", ".join(v for v in (c.dpo_name, c.dpo_contact) if v)


def _security_measures(policy: Policy) -> list[str]:
    mfa_roles = sorted(r.id for r in policy.roles.roles if r.requires_mfa)
    security = policy.text.section("5").text if "5" in policy.text.section_ids else ""
    return [
        security.strip(),
        f"Role-based access: {len(policy.roles.roles)} roles with data-category permissions.",
        f"MFA required for roles: {', '.join(mfa_roles) or 'none'}.",
        f"Transport encryption: {policy.settings.security.min_tls_version} or newer.",
        f"Audit logging; a system may not fall silent more than {policy.settings.security.audit_gap_hours:g} hours.",
    ]


def processor_record(policy: Policy, customers: pl.DataFrame) -> pl.DataFrame:
    """The GDPR Art. 30(2) record Capantra keeps as a processor: one row per customer (controller) with
    the processor and its DPO (a), the categories of processing carried out for that customer (b): the
    data-map systems marked `processed_for_customers` and their data categories, the sub-processors,
    the transfers to third countries with their safeguards (c), and the security measures (d).

    `customers` is the tenants export (`tenant_id`, `name`, `country`, `home_region`); a customer whose
    home region is in another country than a processing region or sub-processor has that transfer named.
    """
    regions = {r.id: r for r in policy.transfers.regions}
    recipients = {r.id: r for r in policy.recipients.recipients}
    systems = [s for s in policy.data_map.systems if s.processed_for_customers]
    measures = " ".join(m for m in _security_measures(policy) if m)
    contact = policy.settings.controller.contact or _controller_contact(policy)
    processing = (
        "; ".join(f"{s.name}: {', '.join(_name(policy, c) for c in s.data_categories)}" for s in systems)
        or "none: no data-map system is marked processed_for_customers"
    )
    used = list(dict.fromkeys(rid for s in systems for rid in s.recipients))
    rows = []
    for row in customers.sort("tenant_id").iter_rows(named=True):
        home = regions.get(row.get("home_region") or "")
        country = row.get("country") or (home.country if home else None)
        transfers = [
            f"sub-processor {recipients[rid].name} ({recipients[rid].country}) under {recipients[rid].mechanism}"
            for rid in used
            if recipients[rid].country != country
        ]
        if home is not None and home.country != country:
            transfers.insert(0, f"hosted in {home.id} ({home.country}), outside the customer's country {country}")
        rows.append(
            {
                "processor": policy.settings.controller.name,
                "processor_contact": contact,
                "dpo": _dpo_text(policy),
                "customer_id": row["tenant_id"],
                "customer": row.get("name") or row["tenant_id"],
                "customer_country": country,
                "home_region": row.get("home_region"),
                "categories_of_processing": processing,
                "sub_processors": "; ".join(
                    f"{recipients[rid].name} ({recipients[rid].country}, {recipients[rid].purpose})" for rid in used
                ),
                "transfers": "; ".join(transfers) or "none outside the customer's country",
                "security_measures": measures,
            }
        )
    columns = ["processor", "processor_contact", "dpo", "customer_id", "customer", "customer_country", "home_region"]
    columns += ["categories_of_processing", "sub_processors", "transfers", "security_measures"]
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))


def record_of_processing_frame(record: Mapping[str, Any]) -> pl.DataFrame:
    """`record_of_processing`'s activities as one row each, lists joined with '; ' (for tables and CSV)."""
    rows = []
    for a in record["activities"]:
        row = {"controller": record["controller"], "contact": record["contact"], "dpo": record.get("dpo")}
        row |= {k: "; ".join(v) if isinstance(v, list) else v for k, v in a.items()}
        rows.append(row)
    return pl.DataFrame(rows, schema={k: pl.String for k in rows[0]} if rows else None)


# --- DSR metrics (CCPA regs §7102(a)) ---------------------------------------------------------

CCPA_REQUEST_LABELS = {
    "access": "Requests to know",
    "delete": "Requests to delete",
    "correct": "Requests to correct",
    "opt_out_sale_share": "Requests to opt out of sale/sharing",
    "limit_sensitive": "Requests to limit sensitive personal information",
    "restrict": "Requests to restrict (GDPR)",
    "object": "Requests to object (GDPR)",
    "portability": "Requests for portability (GDPR)",
}


def dsr_metrics(requests: pl.DataFrame, year: int | None = None, jurisdiction: str | None = "US-CA") -> pl.DataFrame:
    """Per request type and in total: received, complied with in whole or in part (completed), denied
    (rejected), withdrawn, pending (open), and the median and mean days to a substantive response
    (completions and denials with a known turnaround), for requests received in `year` (all when None)
    in `jurisdiction` (CCPA regs §7102 covers California consumers: US-CA by default; None = all).

    A California portability request is a request to know (Civ. Code §1798.130(a)(2)(B): the copy is
    delivered in a portable format), so it is counted among the requests to know. Every row names the
    year and jurisdiction the table covers (`year` null = every year, `jurisdiction` 'all').

    `requests` needs `request_type`, `status`, `received_date` and `turnaround_days` (the columns of
    `dsr_register`), and `jurisdiction` unless `jurisdiction` is None.
    """
    frame = requests
    if jurisdiction is not None:
        frame = frame.filter(pl.col("jurisdiction") == jurisdiction)
    if year is not None:
        frame = frame.filter(pl.col("received_date").dt.year() == year)
    if jurisdiction == "US-CA":
        frame = frame.with_columns(pl.col("request_type").replace({"portability": "access"}))
    responded = pl.col("status").is_in(["completed", "rejected"]) & pl.col("turnaround_days").is_not_null()
    aggs = [
        pl.len().alias("received"),
        (pl.col("status") == "completed").sum().alias("complied_in_whole_or_part"),
        (pl.col("status") == "rejected").sum().alias("denied"),
        (pl.col("status") == "withdrawn").sum().alias("withdrawn"),
        (pl.col("status") == "open").sum().alias("pending"),
        pl.col("turnaround_days").filter(responded).median().alias("median_days"),
        pl.col("turnaround_days").filter(responded).mean().round(1).alias("mean_days"),
    ]
    by_type = frame.group_by("request_type").agg(aggs)
    order = {t: i for i, t in enumerate(CCPA_REQUEST_LABELS)}
    by_type = by_type.with_columns(
        pl.col("request_type").replace_strict(CCPA_REQUEST_LABELS, default=pl.col("request_type")).alias("label"),
        pl.col("request_type").replace_strict(order, default=len(order)).alias("_order"),
    ).sort("_order", "request_type")
    total = frame.select(aggs).with_columns(
        pl.lit("all").alias("request_type"),
        pl.lit("All requests").alias("label"),
        pl.lit(len(order) + 1).alias("_order"),
    )
    columns = ["request_type", "label", "received", "complied_in_whole_or_part", "denied", "withdrawn", "pending"]
    columns += ["median_days", "mean_days"]
    out = pl.concat([by_type.select(columns), total.select(columns)], how="vertical_relaxed")
    return out.with_columns(
        pl.col(["received", "complied_in_whole_or_part", "denied", "withdrawn", "pending"]).cast(pl.Int64),
        pl.col(["median_days", "mean_days"]).cast(pl.Float64),
    ).select(
        pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.lit(jurisdiction or "all", dtype=pl.String).alias("jurisdiction"),
        *columns,
    )
