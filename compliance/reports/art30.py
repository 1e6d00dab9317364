"""The GDPR Art. 30 records: the controller's record of processing (30(1)), built from the data map, and
the record Capantra keeps as its customers' processor (30(2))."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from compliance.config.retention import governing_rule

if TYPE_CHECKING:
    from compliance.config.bundle import Policy
    from compliance.config.models import System


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
