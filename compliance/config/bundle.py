"""Load every policy-as-code file, validate each, then check them against each other."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
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
    Store,
    System,
    TransferRules,
)
from compliance.config.policy_text import PolicyText, parse_policy
from compliance.config.taxonomy import Taxonomy, covers, load_taxonomy
from compliance.paths import POLICY_DIR

DEFAULT_POLICY_DIR = POLICY_DIR  # the shipped bundle (compliance.paths)

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

    @cached_property
    def _audit_gap_holidays(self) -> tuple[list[date], str]:
        """security.audit_gap's public holidays (local dates, years HOLIDAY_YEARS) and the zone they are local to."""
        from compliance.deadlines import holiday_dates

        cal = self.settings.security.audit_gap_holidays
        return (holiday_dates(cal, HOLIDAY_YEARS), cal.timezone) if cal else ([], "UTC")

    def parameters(self) -> dict[str, Any]:
        """Settings flattened to SQL parameter names: anomalies.off_hours.min_records -> off_hours_min_records."""
        out: dict[str, Any] = {}

        def walk(prefix: str, model: BaseModel) -> None:
            for name, value in model:
                key = f"{prefix}_{name}" if prefix else name
                if key == "security_audit_gap_holidays":  # a calendar: its holidays and zone, as SQL values
                    out[key], out[f"{key}_timezone"] = self._audit_gap_holidays
                elif isinstance(value, BaseModel):
                    walk("" if key == "anomalies" else key, value)
                else:
                    out[key] = value

        walk("", self.settings)
        return out


# The years whose public holidays security.audit_gap knows (bound as one list; about 15 dates a year).
HOLIDAY_YEARS = range(2000, 2051)


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
    """The policy-as-code folder (default: the shipped one), each file validated, then checked across files."""
    folder = Path(directory) if directory is not None else DEFAULT_POLICY_DIR
    if not folder.is_dir():
        raise PolicyError(folder, "(directory)", "policy directory does not exist")
    files = {k: folder / v for k, v in FILES.items()}
    taxonomy = load_taxonomy(files["taxonomy"])
    policy_map = load_model(files["policy_map"], PolicyMap)
    text = parse_policy(folder / policy_map.policy_file)
    policy = Policy(
        directory=folder,
        text=text,
        taxonomy=taxonomy,
        policy_map=policy_map,
        data_map=load_model(files["data_map"], DataMap),
        retention=load_model(files["retention"], RetentionSchedule),
        roles=load_model(files["roles"], RoleMatrix),
        recipients=load_model(files["recipients"], Recipients),
        transfers=load_model(files["transfers"], TransferRules),
        dsr_rules=load_dsr_rules(files["dsr_rules"]),
        settings=load_model(files["settings"], Settings),
        exceptions=load_exceptions(folder, _catalog_control_ids()),
    )
    _cross_check(policy, files)
    return policy


def _catalog_control_ids() -> set[str]:
    from compliance.queries import controls  # lazy: the query runner imports this module's types

    return {str(q.control_id) for q in controls()}


def _cross_check(policy: Policy, files: dict[str, Path]) -> None:
    """Checks across files, one validator per file in the order a reader fixes them; the first problem
    raises PolicyError naming the file and key (each file on its own was validated by its model)."""
    for name, validate in _CROSS_FILE_VALIDATORS:
        validate(policy, files[name])


def _validate_policy_map(policy: Policy, path: Path) -> None:
    """policy_map.yaml: the policy's own words, bullet by bullet, mapped to the taxonomy."""
    policy_map, text, taxonomy = policy.policy_map, policy.text, policy.taxonomy
    if policy_map.policy_version != text.version:
        raise PolicyError(
            path, "policy_version", f"says {policy_map.policy_version} but the policy text is {text.version}"
        )
    for section_id, key, mapping, kind, valid in (
        ("2", "categories", policy_map.categories, "data category", taxonomy.categories),
        ("3", "uses", policy_map.uses, "data use", taxonomy.uses),
    ):
        bullets = text.section(section_id).bullets
        for bullet in bullets:
            if bullet not in mapping:
                raise PolicyError(path, key, f"section {section_id} item {bullet!r} has no mapping to fideslang keys")
        for bullet, keys in mapping.items():
            if bullet not in bullets:
                raise PolicyError(path, f"{key}.{bullet}", f"is not an item of policy section {section_id}")
            _check_keys(path, f"{key}.{bullet}", keys, valid, f"fideslang {kind}")
    _check_keys(path, "prohibited_uses", policy_map.prohibited_uses, taxonomy.uses, "fideslang data use")


def _validate_data_map(policy: Policy, path: Path) -> None:
    """data_map.yaml: systems named once, their keys known, their uses and categories ones the policy states."""
    taxonomy, sections = policy.taxonomy, set(policy.text.section_ids)
    region_ids = {r.id for r in policy.transfers.regions}
    recipient_ids = {r.id for r in policy.recipients.recipients}
    seen_systems: set[str] = set()
    mapped_by: dict[str, str] = {}  # resource type -> the system/store that maps it
    for i, system in enumerate(policy.data_map.systems):
        at = f"systems[{i}]"
        if system.id in seen_systems:
            raise PolicyError(path, f"{at}.id", f"system {system.id!r} is declared twice")
        seen_systems.add(system.id)
        _check_keys(path, f"{at}.policy_sections", system.policy_sections, sections, "policy section")
        _check_keys(path, f"{at}.data_subjects", system.data_subjects, taxonomy.subjects, "fideslang data subject")
        _check_keys(
            path,
            f"{at}.processing_regions",
            system.processing_regions,
            region_ids,
            "processing region (transfers.yaml)",
        )
        _check_keys(path, f"{at}.recipients", system.recipients, recipient_ids, "recipient (recipients.yaml)")
        _validate_system_uses(policy, path, at, system)
        for j, store in enumerate(system.stores):
            _validate_store(policy, path, f"{at}.stores[{j}]", store)
            for resource_type in store.resource_types:
                if resource_type in mapped_by:
                    raise PolicyError(
                        path, f"{at}.stores[{j}].resource_types",
                        f"{resource_type!r} is already mapped by {mapped_by[resource_type]}",
                    )  # fmt: skip
                mapped_by[resource_type] = f"{system.id}/{store.id}"


def _validate_system_uses(policy: Policy, path: Path, at: str, system: System) -> None:
    stated_uses = [u for keys in policy.policy_map.uses.values() for u in keys]
    for j, use in enumerate(system.uses):
        if not policy.taxonomy.is_use(use.use):
            raise PolicyError(path, f"{at}.uses[{j}].use", f"{use.use!r} is not a known fideslang data use")
        if not any(covers(stated, use.use) for stated in stated_uses):
            raise PolicyError(path, f"{at}.uses[{j}].use", f"{use.use!r} is not a use that policy section 3 states")


def _validate_store(policy: Policy, path: Path, at: str, store: Store) -> None:
    disclosed = [c for keys in policy.policy_map.categories.values() for c in keys]
    _check_keys(path, f"{at}.data_categories", store.data_categories, policy.taxonomy.categories, "data category")
    for k, category in enumerate(store.data_categories):
        if not any(covers(d, category) for d in disclosed):
            raise PolicyError(path, f"{at}.data_categories[{k}]", f"{category!r} is not disclosed by policy section 2")


def _validate_retention(policy: Policy, path: Path) -> None:
    """retention.yaml: rules on known categories, systems and stores; every category the data map holds governed."""
    systems = {s.id: s for s in policy.data_map.systems}
    for i, rule in enumerate(policy.retention.records):
        if not policy.taxonomy.is_category(rule.data_category):
            raise PolicyError(
                path, f"records[{i}].data_category", f"{rule.data_category!r} is not a known data category"
            )
        if rule.system is not None and rule.system not in systems:
            raise PolicyError(path, f"records[{i}].system", f"{rule.system!r} is not a system of the data map")
        if rule.store is not None and (
            rule.system is None or rule.store not in {st.id for st in systems[rule.system].stores}
        ):
            raise PolicyError(path, f"records[{i}].store", f"{rule.store!r} is not a store of system {rule.system!r}")
    for category in sorted(policy.declared_categories):
        if not any(covers(rule.data_category, category) for rule in policy.retention.records):
            raise PolicyError(path, "records", f"data category {category!r} of the data map has no retention rule")


def _check_declared(policy: Policy, path: Path, at: str, categories: Iterable[str], problem: str) -> None:
    """Each category must be declared by the data map (the key, or a parent of a category it holds);
    `problem` is the message, with {category} for the offending key."""
    for k, category in enumerate(categories):
        if not any(covers(category, held) for held in policy.declared_categories):
            raise PolicyError(path, f"{at}.data_categories[{k}]", problem.format(category=repr(category)))


def _validate_roles(policy: Policy, path: Path) -> None:
    """roles.yaml: grants only of declared categories; grantable roles that exist."""
    for i, role in enumerate(policy.roles.roles):
        problem = f"role {role.id!r} grants {{category}}, a category the data map does not declare"
        _check_declared(policy, path, f"roles[{i}]", role.data_categories, problem)
    role_ids = [r.id for r in policy.roles.roles]
    _check_keys(path, "may_grant_roles", policy.roles.may_grant_roles, role_ids, "role")


def _validate_recipients(policy: Policy, path: Path) -> None:
    """recipients.yaml: recipients receive only declared categories."""
    for i, recipient in enumerate(policy.recipients.recipients):
        problem = "{category} is not a category the data map declares"
        _check_declared(policy, path, f"recipients[{i}]", recipient.data_categories, problem)


def _validate_transfers(policy: Policy, path: Path) -> None:
    """transfers.yaml: rules name only regions the file defines."""
    region_ids = {r.id for r in policy.transfers.regions}
    for jurisdiction, regions in policy.transfers.rules.items():
        _check_keys(path, f"rules.{jurisdiction}", list(regions), region_ids, "processing region")


# In the order the original single check ran them, so the first problem reported is the same one.
_CROSS_FILE_VALIDATORS: tuple[tuple[str, Callable[[Policy, Path], None]], ...] = (
    ("policy_map", _validate_policy_map),
    ("data_map", _validate_data_map),
    ("retention", _validate_retention),
    ("roles", _validate_roles),
    ("recipients", _validate_recipients),
    ("transfers", _validate_transfers),
)
