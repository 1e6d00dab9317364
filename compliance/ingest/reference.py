"""The policy as code written into the database as `ref_*` tables, so SQL controls can join it."""

from __future__ import annotations

import hashlib

import duckdb
import polars as pl

from compliance.config.bundle import Policy
from compliance.config.retention import specificity
from compliance.schema import JURISDICTIONS

S = pl.String
LIST = pl.List(pl.String)


def _frame(rows: list[dict], schema: dict[str, pl.DataType | type]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def reference_frames(policy: Policy) -> dict[str, pl.DataFrame]:
    """Every ref_* table, by name: one builder per policy file (each small enough to read at a glance)."""
    frames: dict[str, pl.DataFrame] = {}
    for build in (_policy_text_tables, _taxonomy_tables, _data_map_tables, _retention_tables, _role_tables,
                  _recipient_tables, _transfer_tables):  # fmt: skip
        frames |= build(policy)
    return frames


def _policy_text_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    """The policy's sections and how policy_map.yaml maps their items (and the prohibited uses) to fideslang."""
    mapped = (("2", "data_category", policy.policy_map.categories), ("3", "data_use", policy.policy_map.uses))
    return {
        "ref_policy_sections": _frame(
            [{"section_id": x.section_id, "title": x.title, "text": x.text, "policy_version": policy.version}
             for x in policy.text.sections],
            {"section_id": S, "title": S, "text": S, "policy_version": S},
        ),
        "ref_policy_map": _frame(
            [{"section_id": section, "item": item, "kind": kind, "fides_key": key}
             for section, kind, mapping in mapped for item, keys in mapping.items() for key in keys],
            {"section_id": S, "item": S, "kind": S, "fides_key": S},
        ),
        "ref_prohibited_uses": _frame(
            [{"data_use": use} for use in policy.policy_map.prohibited_uses], {"data_use": S}
        ),
    }  # fmt: skip


def _taxonomy_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    taxonomy = policy.taxonomy
    rows = [
        {"fides_key": key, "kind": kind, "name": taxonomy.names.get(key, key),
         "parent_key": key.rsplit(".", 1)[0] if "." in key else None, "is_capantra_leaf": key in taxonomy.extensions}
        for kind, keys in (("data_category", taxonomy.categories), ("data_use", taxonomy.uses))
        for key in sorted(keys)
    ]  # fmt: skip
    schema = {"fides_key": S, "kind": S, "name": S, "parent_key": S, "is_capantra_leaf": pl.Boolean}
    return {"ref_taxonomy": _frame(rows, schema)}


def _data_map_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    """Systems x stores x categories, the declared data uses per jurisdiction, and resource types to stores."""
    systems = policy.data_map.systems
    data_map = [
        {"system_id": system.id, "system_name": system.name, "store_id": store.id, "store_kind": store.kind,
         "is_backup": store.backup, "data_category": category, "policy_sections": system.policy_sections,
         "processing_regions": system.processing_regions, "recipients": system.recipients,
         "data_subjects": system.data_subjects, "owner": system.owner}
        for system in systems for store in system.stores for category in store.data_categories
    ]  # fmt: skip
    data_map_schema = {
        "system_id": S, "system_name": S, "store_id": S, "store_kind": S, "is_backup": pl.Boolean,
        "data_category": S, "policy_sections": LIST, "processing_regions": LIST, "recipients": LIST,
        "data_subjects": LIST, "owner": S,
    }  # fmt: skip
    uses = [
        {"system_id": system.id, "data_use": use.use, "legal_basis": use.legal_basis, "jurisdiction": jurisdiction}
        for system in systems for use in system.uses for jurisdiction in (use.jurisdictions or JURISDICTIONS)
    ]  # fmt: skip
    resource_types = [
        {"resource_type": resource_type, "system_id": system.id, "store_id": store.id, "data_category": category}
        for system in systems for store in system.stores for resource_type in store.resource_types
        for category in store.data_categories
    ]  # fmt: skip
    return {
        "ref_data_map": _frame(data_map, data_map_schema),
        "ref_data_uses": _frame(uses, {"system_id": S, "data_use": S, "legal_basis": S, "jurisdiction": S}),
        "ref_resource_types": _frame(
            resource_types, {"resource_type": S, "system_id": S, "store_id": S, "data_category": S}
        ),
    }


def _retention_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    records = [
        {"data_category": rule.data_category, "system_id": rule.system, "store_id": rule.store,
         "period_days": rule.period_days, "clock": rule.clock, "grace_days": rule.grace_days, "action": rule.action,
         "basis": rule.basis, "specificity": specificity(rule)}
        for rule in policy.retention.records
    ]  # fmt: skip
    records_schema = {
        "data_category": S, "system_id": S, "store_id": S, "period_days": pl.Int64, "clock": S,
        "grace_days": pl.Int64, "action": S, "basis": S, "specificity": pl.Int64,
    }  # fmt: skip
    logs = [
        {"source": rule.source, "period_days": rule.period_days, "grace_days": rule.grace_days, "basis": rule.basis}
        for rule in policy.retention.logs
    ]
    logs_schema = {"source": S, "period_days": pl.Int64, "grace_days": pl.Int64, "basis": S}
    return {"ref_retention": _frame(records, records_schema), "ref_log_retention": _frame(logs, logs_schema)}


def _role_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    roles = policy.roles.roles
    may_grant = set(policy.roles.may_grant_roles)
    return {
        "ref_roles": _frame(
            [{"role": role.id, "description": role.description, "privileged": role.privileged,
              "requires_mfa": role.requires_mfa, "may_grant": role.id in may_grant} for role in roles],
            {"role": S, "description": S, "privileged": pl.Boolean, "requires_mfa": pl.Boolean,
             "may_grant": pl.Boolean},
        ),
        "ref_role_permissions": _frame(
            [{"role": role.id, "data_category": category, "action": action}
             for role in roles for category in role.data_categories for action in role.actions],
            {"role": S, "data_category": S, "action": S},
        ),
    }  # fmt: skip


def _recipient_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    recipients = policy.recipients.recipients
    return {
        "ref_recipients": _frame(
            [{"recipient_id": r.id, "name": r.name, "country": r.country, "mechanism": r.mechanism,
              "purpose": r.purpose} for r in recipients],
            {"recipient_id": S, "name": S, "country": S, "mechanism": S, "purpose": S},
        ),
        "ref_recipient_aliases": _frame(
            [{"alias": alias, "recipient_id": r.id} for r in recipients for alias in (r.id, *r.domains)],
            {"alias": S, "recipient_id": S},
        ),
        "ref_recipient_categories": _frame(
            [{"recipient_id": r.id, "data_category": category} for r in recipients for category in r.data_categories],
            {"recipient_id": S, "data_category": S},
        ),
    }  # fmt: skip


def _transfer_tables(policy: Policy) -> dict[str, pl.DataFrame]:
    transfers = policy.transfers
    countries = transfers.country_jurisdictions
    by_country = [("AU", countries.AU), ("GB", countries.GB), ("US", countries.US)]
    by_country += [(member, "EU") for member in countries.eu_members]
    return {
        "ref_regions": _frame(
            [{"region": r.id, "country": r.country, "name": r.name} for r in transfers.regions],
            {"region": S, "country": S, "name": S},
        ),
        "ref_transfer_rules": _frame(
            [{"jurisdiction": jurisdiction, "region": region, "mechanism": mechanism}
             for jurisdiction, regions in transfers.rules.items() for region, mechanism in regions.items()],
            {"jurisdiction": S, "region": S, "mechanism": S},
        ),
        "ref_country_jurisdictions": _frame(
            [{"country": country, "jurisdiction": jurisdiction} for country, jurisdiction in by_country],
            {"country": S, "jurisdiction": S},
        ),
    }  # fmt: skip


# The digest of the ref_* tables last written (names, columns and rows), kept beside them: a load whose tables
# would be the same leaves them (a daily load with the policy unchanged rewrote some 20 tables: 0.46 s at 10M).
DIGEST_TABLE = "ref_tables_digest"


def _frames_digest(frames: dict[str, pl.DataFrame]) -> str:
    digest = hashlib.sha256()
    for name, frame in sorted(frames.items()):
        digest.update(f"{name}\x00{frame.schema}\x00".encode())
        digest.update(frame.write_json().encode())
    return digest.hexdigest()


def _stored_digest(con: duckdb.DuckDBPyConnection, names: list[str]) -> str | None:
    """The digest stored with the ref_* tables, when every one of `names` (and the digest) is there."""
    tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    if DIGEST_TABLE not in tables or not set(names) <= tables:
        return None
    rows = con.execute(f"select digest from {DIGEST_TABLE}").fetchall()
    return rows[0][0] if len(rows) == 1 else None


def write_reference_tables(con: duckdb.DuckDBPyConnection, policy: Policy) -> bool:
    """Replace every ref_* table with the given policy's content, unless the database holds exactly that
    already; True when they were written."""
    frames = reference_frames(policy)
    digest = _frames_digest(frames)
    if _stored_digest(con, list(frames)) == digest:
        return False
    for name, frame in frames.items():
        con.register("_ref_frame", frame.to_arrow())
        try:
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _ref_frame").fetchall()
        finally:
            con.unregister("_ref_frame")
    con.execute(f"CREATE OR REPLACE TABLE {DIGEST_TABLE} AS SELECT $digest AS digest", {"digest": digest}).fetchall()
    return True
