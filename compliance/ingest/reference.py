"""The policy as code written into the database as `ref_*` tables, so SQL controls can join it."""

from __future__ import annotations

import duckdb
import polars as pl

from compliance.config.bundle import Policy
from compliance.schema import JURISDICTIONS

LIST = pl.List(pl.String)


def _frame(rows: list[dict], schema: dict[str, pl.DataType | type]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def reference_frames(policy: Policy) -> dict[str, pl.DataFrame]:
    p = policy
    s = pl.String
    frames: dict[str, pl.DataFrame] = {}
    frames["ref_policy_sections"] = _frame(
        [
            {"section_id": x.section_id, "title": x.title, "text": x.text, "policy_version": p.version}
            for x in p.text.sections
        ],
        {"section_id": s, "title": s, "text": s, "policy_version": s},
    )
    frames["ref_policy_map"] = _frame(
        [
            {"section_id": sec, "item": item, "kind": kind, "fides_key": key}
            for sec, kind, mapping in (
                ("2", "data_category", p.policy_map.categories),
                ("3", "data_use", p.policy_map.uses),
            )
            for item, keys in mapping.items()
            for key in keys
        ],
        {"section_id": s, "item": s, "kind": s, "fides_key": s},
    )
    frames["ref_taxonomy"] = _frame(
        [
            {
                "fides_key": k,
                "kind": kind,
                "name": p.taxonomy.names.get(k, k),
                "parent_key": k.rsplit(".", 1)[0] if "." in k else None,
                "is_capantra_leaf": k in p.taxonomy.extensions,
            }
            for kind, keys in (("data_category", p.taxonomy.categories), ("data_use", p.taxonomy.uses))
            for k in sorted(keys)
        ],
        {"fides_key": s, "kind": s, "name": s, "parent_key": s, "is_capantra_leaf": pl.Boolean},
    )
    frames["ref_data_map"] = _frame(
        [
            {
                "system_id": sy.id,
                "system_name": sy.name,
                "store_id": st.id,
                "store_kind": st.kind,
                "is_backup": st.backup,
                "data_category": c,
                "policy_sections": sy.policy_sections,
                "processing_regions": sy.processing_regions,
                "recipients": sy.recipients,
                "data_subjects": sy.data_subjects,
                "owner": sy.owner,
            }
            for sy in p.data_map.systems
            for st in sy.stores
            for c in st.data_categories
        ],
        {
            "system_id": s,
            "system_name": s,
            "store_id": s,
            "store_kind": s,
            "is_backup": pl.Boolean,
            "data_category": s,
            "policy_sections": LIST,
            "processing_regions": LIST,
            "recipients": LIST,
            "data_subjects": LIST,
            "owner": s,
        },
    )
    frames["ref_data_uses"] = _frame(
        [
            {"system_id": sy.id, "data_use": u.use, "legal_basis": u.legal_basis, "jurisdiction": j}
            for sy in p.data_map.systems
            for u in sy.uses
            for j in (u.jurisdictions or JURISDICTIONS)
        ],
        {"system_id": s, "data_use": s, "legal_basis": s, "jurisdiction": s},
    )
    frames["ref_resource_types"] = _frame(
        [
            {"resource_type": rt, "system_id": sy.id, "store_id": st.id, "data_category": c}
            for sy in p.data_map.systems
            for st in sy.stores
            for rt in st.resource_types
            for c in st.data_categories
        ],
        {"resource_type": s, "system_id": s, "store_id": s, "data_category": s},
    )
    frames["ref_retention"] = _frame(
        [
            {
                "data_category": r.data_category,
                "system_id": r.system,
                "store_id": r.store,
                "period_days": r.period_days,
                "clock": r.clock,
                "grace_days": r.grace_days,
                "action": r.action,
                "basis": r.basis,
                "specificity": 3 if r.store else 2 if r.system else 1,
            }
            for r in p.retention.records
        ],
        {
            "data_category": s,
            "system_id": s,
            "store_id": s,
            "period_days": pl.Int64,
            "clock": s,
            "grace_days": pl.Int64,
            "action": s,
            "basis": s,
            "specificity": pl.Int64,
        },
    )
    frames["ref_log_retention"] = _frame(
        [
            {"source": r.source, "period_days": r.period_days, "grace_days": r.grace_days, "basis": r.basis}
            for r in p.retention.logs
        ],
        {"source": s, "period_days": pl.Int64, "grace_days": pl.Int64, "basis": s},
    )
    may_grant = set(p.roles.may_grant_roles)
    frames["ref_roles"] = _frame(
        [
            {
                "role": r.id,
                "description": r.description,
                "privileged": r.privileged,
                "requires_mfa": r.requires_mfa,
                "may_grant": r.id in may_grant,
            }
            for r in p.roles.roles
        ],
        {"role": s, "description": s, "privileged": pl.Boolean, "requires_mfa": pl.Boolean, "may_grant": pl.Boolean},
    )
    frames["ref_role_permissions"] = _frame(
        [
            {"role": r.id, "data_category": c, "action": a}
            for r in p.roles.roles
            for c in r.data_categories
            for a in r.actions
        ],
        {"role": s, "data_category": s, "action": s},
    )
    recips = p.recipients.recipients
    frames["ref_recipients"] = _frame(
        [
            {"recipient_id": r.id, "name": r.name, "country": r.country, "mechanism": r.mechanism, "purpose": r.purpose}
            for r in recips
        ],
        {"recipient_id": s, "name": s, "country": s, "mechanism": s, "purpose": s},
    )
    frames["ref_recipient_aliases"] = _frame(
        [{"alias": a, "recipient_id": r.id} for r in recips for a in (r.id, *r.domains)],
        {"alias": s, "recipient_id": s},
    )
    frames["ref_recipient_categories"] = _frame(
        [{"recipient_id": r.id, "data_category": c} for r in recips for c in r.data_categories],
        {"recipient_id": s, "data_category": s},
    )
    frames["ref_regions"] = _frame(
        [{"region": r.id, "country": r.country, "name": r.name} for r in p.transfers.regions],
        {"region": s, "country": s, "name": s},
    )
    frames["ref_transfer_rules"] = _frame(
        [
            {"jurisdiction": j, "region": reg, "mechanism": m}
            for j, regs in p.transfers.rules.items()
            for reg, m in regs.items()
        ],
        {"jurisdiction": s, "region": s, "mechanism": s},
    )
    cj = p.transfers.country_jurisdictions
    frames["ref_country_jurisdictions"] = _frame(
        [
            {"country": "AU", "jurisdiction": cj.AU},
            {"country": "GB", "jurisdiction": cj.GB},
            {"country": "US", "jurisdiction": cj.US},
        ]
        + [{"country": c, "jurisdiction": "EU"} for c in cj.eu_members],
        {"country": s, "jurisdiction": s},
    )
    frames["ref_prohibited_uses"] = _frame([{"data_use": u} for u in p.policy_map.prohibited_uses], {"data_use": s})
    return frames


def write_reference_tables(con: duckdb.DuckDBPyConnection, policy: Policy) -> None:
    """Replace every ref_* table with the given policy's content."""
    for name, frame in reference_frames(policy).items():
        con.register("_ref_frame", frame.to_arrow())
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _ref_frame").fetchall()
        finally:
            con.unregister("_ref_frame")
