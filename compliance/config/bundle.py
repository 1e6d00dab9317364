"""Load every policy-as-code file, validate each, then check them against each other."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from compliance.config.base import PolicyError, load_model
from compliance.config.dsr_rules import DsrRules, load_dsr_rules
from compliance.config.exceptions import EXCEPTIONS_FILE, Exceptions, load_exceptions
from compliance.config.models import (
    DataMap,
    PolicyMap,
    Recipients,
    RetentionSchedule,
    RoleMatrix,
    Settings,
    TransferRules,
)
from compliance.config.policy_text import PolicyText, parse_policy
from compliance.config.taxonomy import Taxonomy, covers, load_taxonomy

DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[2] / "data" / "policy"

FILES = {
    "taxonomy": "taxonomy.yaml",
    "policy_map": "policy_map.yaml",
    "data_map": "data_map.yaml",
    "retention": "retention.yaml",
    "roles": "roles.yaml",
    "recipients": "recipients.yaml",
    "transfers": "transfers.yaml",
    "dsr_rules": "dsr_rules.yaml",
    "settings": "settings.yaml",
}


@dataclass(frozen=True)
class Policy:
    """Everything the controls need to know about what Capantra promised, validated."""

    directory: Path
    text: PolicyText
    taxonomy: Taxonomy
    policy_map: PolicyMap
    data_map: DataMap
    retention: RetentionSchedule
    roles: RoleMatrix
    recipients: Recipients
    transfers: TransferRules
    dsr_rules: DsrRules
    settings: Settings
    exceptions: Exceptions = field(default_factory=Exceptions)  # exceptions.yaml: waivers (optional file)

    @property
    def version(self) -> str:
        return self.text.version

    @cached_property
    def digest(self) -> str:
        """SHA-256 over the policy files, recorded with each load so results can be traced to a policy."""
        h = hashlib.sha256()
        # exceptions.yaml counts when present: a new or expired waiver changes the findings.
        optional = [EXCEPTIONS_FILE] if (self.directory / EXCEPTIONS_FILE).exists() else []
        for name in sorted([*FILES.values(), self.policy_map.policy_file, *optional]):
            h.update(name.encode())
            data = (self.directory / name).read_bytes()
            if name == FILES["settings"]:  # neither changes a finding: they must not make stored findings stale
                data = _without_top_level_key(_without_top_level_key(data, b"notifications"), b"freshness")
            h.update(data)
        return h.hexdigest()

    @cached_property
    def declared_categories(self) -> frozenset[str]:
        return frozenset(c for s in self.data_map.systems for c in s.data_categories)

    def parameters(self) -> dict[str, Any]:
        """Settings flattened to SQL parameter names: anomalies.off_hours.min_records -> off_hours_min_records."""
        out: dict[str, Any] = {}

        def walk(prefix: str, model: BaseModel) -> None:
            for name, value in model:
                key = f"{prefix}_{name}" if prefix else name
                if isinstance(value, BaseModel):
                    walk("" if key == "anomalies" else key, value)
                else:
                    out[key] = value

        walk("", self.settings)
        return out


def _without_top_level_key(yaml_text: bytes, key: bytes) -> bytes:
    """`yaml_text` without the block of top-level `key` (its line and the indented, blank or comment
    lines under it). Where notifications go changes no finding, so it must not make stored findings
    stale; every other byte, comments included, still counts."""
    kept, skipping = [], False
    for line in yaml_text.splitlines(keepends=True):
        starts_block = line[:1] not in (b" ", b"\t", b"\n", b"\r", b"")  # a key or a comment at column 0
        if starts_block:
            skipping = line.split(b":", 1)[0].strip() == key
        if not skipping:
            kept.append(line)
    return b"".join(kept)


def _check_keys(file: Path, key: str, values: Iterable[str], valid: Iterable[str] | frozenset[str], what: str) -> None:
    valid_set = valid if isinstance(valid, frozenset) else frozenset(valid)
    for i, v in enumerate(values):
        if v not in valid_set:
            raise PolicyError(file, f"{key}[{i}]", f"{v!r} is not a known {what}")


def load_policy(directory: Path | str | None = None) -> Policy:
    d = Path(directory) if directory is not None else DEFAULT_POLICY_DIR
    if not d.is_dir():
        raise PolicyError(d, "(directory)", "policy directory does not exist")
    f = {k: d / v for k, v in FILES.items()}
    taxonomy = load_taxonomy(f["taxonomy"])
    policy_map = load_model(f["policy_map"], PolicyMap)
    text = parse_policy(d / policy_map.policy_file)
    policy = Policy(
        directory=d,
        text=text,
        taxonomy=taxonomy,
        policy_map=policy_map,
        data_map=load_model(f["data_map"], DataMap),
        retention=load_model(f["retention"], RetentionSchedule),
        roles=load_model(f["roles"], RoleMatrix),
        recipients=load_model(f["recipients"], Recipients),
        transfers=load_model(f["transfers"], TransferRules),
        dsr_rules=load_dsr_rules(f["dsr_rules"]),
        settings=load_model(f["settings"], Settings),
        exceptions=load_exceptions(d, _catalog_control_ids()),
    )
    _cross_check(policy, f)
    return policy


def _catalog_control_ids() -> set[str]:
    from compliance.queries import controls  # lazy: the query runner imports this module's types

    return {str(q.control_id) for q in controls()}


def _cross_check(p: Policy, f: dict[str, Path]) -> None:
    tax, sections = p.taxonomy, set(p.text.section_ids)

    # policy_map.yaml: the policy's own words, bullet by bullet, mapped to the taxonomy.
    pm = f["policy_map"]
    if p.policy_map.policy_version != p.text.version:
        raise PolicyError(
            pm, "policy_version", f"says {p.policy_map.policy_version} but the policy text is {p.text.version}"
        )
    for section_id, mapping, kind, valid in (
        ("2", p.policy_map.categories, "data category", tax.categories),
        ("3", p.policy_map.uses, "data use", tax.uses),
    ):
        key = "categories" if section_id == "2" else "uses"
        bullets = p.text.section(section_id).bullets
        for bullet in bullets:
            if bullet not in mapping:
                raise PolicyError(pm, key, f"section {section_id} item {bullet!r} has no mapping to fideslang keys")
        for bullet, keys in mapping.items():
            if bullet not in bullets:
                raise PolicyError(pm, f"{key}.{bullet}", f"is not an item of policy section {section_id}")
            _check_keys(pm, f"{key}.{bullet}", keys, valid, f"fideslang {kind}")
    _check_keys(pm, "prohibited_uses", p.policy_map.prohibited_uses, tax.uses, "fideslang data use")
    disclosed = [c for keys in p.policy_map.categories.values() for c in keys]
    allowed_uses = [u for keys in p.policy_map.uses.values() for u in keys]

    # data_map.yaml
    dm = f["data_map"]
    region_ids = {r.id for r in p.transfers.regions}
    recipient_ids = {r.id for r in p.recipients.recipients}
    seen_systems: set[str] = set()
    seen_resource_types: dict[str, str] = {}
    for i, s in enumerate(p.data_map.systems):
        at = f"systems[{i}]"
        if s.id in seen_systems:
            raise PolicyError(dm, f"{at}.id", f"system {s.id!r} is declared twice")
        seen_systems.add(s.id)
        _check_keys(dm, f"{at}.policy_sections", s.policy_sections, sections, "policy section")
        _check_keys(dm, f"{at}.data_subjects", s.data_subjects, tax.subjects, "fideslang data subject")
        _check_keys(
            dm, f"{at}.processing_regions", s.processing_regions, region_ids, "processing region (transfers.yaml)"
        )
        _check_keys(dm, f"{at}.recipients", s.recipients, recipient_ids, "recipient (recipients.yaml)")
        for j, use in enumerate(s.uses):
            if not tax.is_use(use.use):
                raise PolicyError(dm, f"{at}.uses[{j}].use", f"{use.use!r} is not a known fideslang data use")
            if not any(covers(a, use.use) for a in allowed_uses):
                raise PolicyError(dm, f"{at}.uses[{j}].use", f"{use.use!r} is not a use that policy section 3 states")
        for j, store in enumerate(s.stores):
            _check_keys(dm, f"{at}.stores[{j}].data_categories", store.data_categories, tax.categories, "data category")
            for k, c in enumerate(store.data_categories):
                if not any(covers(d, c) for d in disclosed):
                    raise PolicyError(
                        dm, f"{at}.stores[{j}].data_categories[{k}]", f"{c!r} is not disclosed by policy section 2"
                    )
            for rt in store.resource_types:
                if rt in seen_resource_types:
                    raise PolicyError(
                        dm, f"{at}.stores[{j}].resource_types", f"{rt!r} is already mapped by {seen_resource_types[rt]}"
                    )
                seen_resource_types[rt] = f"{s.id}/{store.id}"

    declared = p.declared_categories

    def is_declared(key: str) -> bool:  # the key, or a parent of a category the data map holds
        return any(covers(key, c) for c in declared)

    # retention.yaml
    rf = f["retention"]
    systems = {s.id: s for s in p.data_map.systems}
    for i, r in enumerate(p.retention.records):
        if not tax.is_category(r.data_category):
            raise PolicyError(rf, f"records[{i}].data_category", f"{r.data_category!r} is not a known data category")
        if r.system is not None and r.system not in systems:
            raise PolicyError(rf, f"records[{i}].system", f"{r.system!r} is not a system of the data map")
        if r.store is not None and (r.system is None or r.store not in {st.id for st in systems[r.system].stores}):
            raise PolicyError(rf, f"records[{i}].store", f"{r.store!r} is not a store of system {r.system!r}")
    for c in sorted(declared):
        if not any(covers(r.data_category, c) for r in p.retention.records):
            raise PolicyError(rf, "records", f"data category {c!r} of the data map has no retention rule")

    # roles.yaml
    rl = f["roles"]
    role_ids = [r.id for r in p.roles.roles]
    for i, role in enumerate(p.roles.roles):
        for k, c in enumerate(role.data_categories):
            if not is_declared(c):
                raise PolicyError(
                    rl,
                    f"roles[{i}].data_categories[{k}]",
                    f"role {role.id!r} grants {c!r}, a category the data map does not declare",
                )
    _check_keys(rl, "may_grant_roles", p.roles.may_grant_roles, role_ids, "role")

    # recipients.yaml
    rc = f["recipients"]
    for i, r in enumerate(p.recipients.recipients):
        for k, c in enumerate(r.data_categories):
            if not is_declared(c):
                raise PolicyError(
                    rc, f"recipients[{i}].data_categories[{k}]", f"{c!r} is not a category the data map declares"
                )

    # transfers.yaml
    tf = f["transfers"]
    for jur, regions in p.transfers.rules.items():
        _check_keys(tf, f"rules.{jur}", list(regions), region_ids, "processing region")
