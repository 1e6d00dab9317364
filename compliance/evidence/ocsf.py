"""Findings as OCSF Compliance Finding objects (class 2003, OCSF 1.5 as py-ocsf-models implements it).

Mapping (data contract section 4 -> OCSF):
- status: `compliance.status_id` ok -> Pass, alarm -> Fail, info -> Warning; a `suppressed` finding
  (an alarm under an approved waiver) keeps Fail as its check result and is Suppressed as the finding's
  own `status_id`, which is where OCSF places a reviewed-and-waived finding. `skip` and `error` have no
  compliance result: Unknown, with the reason as `status_detail`.
- severity: info -> Informational, low, medium, high, critical -> their OCSF namesakes.
- `compliance`: the control id, the policy section as a requirement, the laws the control evidences as
  `standards`; `evidences`: one artifact holding the ids of the events and records behind the finding.

Every object is validated by constructing `py_ocsf_models...ComplianceFinding` from it, so a mapping
change that breaks the schema fails here, not in a customer's security lake.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import polars as pl
from py_ocsf_models import OCSF_VERSION
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

import compliance
from compliance.queries import controls

if TYPE_CHECKING:
    from pathlib import Path

    from compliance.config.bundle import Policy

__all__ = ["OCSF_VERSION", "STANDARDS", "findings_as_ocsf", "ocsf_findings", "render_ocsf", "to_ocsf", "validate"]

PRODUCT = {"name": "Capantra privacy compliance", "vendor_name": "Capantra", "version": compliance.__version__}
COMPLIANCE_STATUS = {"ok": (1, "Pass"), "alarm": (3, "Fail"), "info": (2, "Warning"), "suppressed": (3, "Fail")}
SEVERITY = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High")}
SEVERITY |= {"critical": (5, "Critical")}
# OCSF Compliance Finding type_uid = class_uid * 100 + activity_id (1 = Create).
CLASS_UID, ACTIVITY_CREATE = 2003, 1

# The laws each control family evidences (by control-id prefix; a full id overrides its family).
STANDARDS: dict[str, tuple[str, ...]] = {
    "dsr": ("GDPR Art. 12(3)", "CCPA regs §7021", "AU Privacy Act APP 12.4"),
    "retention": ("GDPR Art. 5(1)(e)", "CCPA §1798.100(a)(3)", "AU Privacy Act APP 11.2"),
    "retention.erasure_incomplete": ("GDPR Art. 17", "CCPA §1798.105"),
    "dsr.processing_after_erasure": ("GDPR Art. 17", "CCPA §1798.105"),
    "access": ("GDPR Art. 32", "Cal. Civ. Code §1798.81.5", "AU Privacy Act APP 11.1"),
    "security": ("GDPR Art. 32", "Cal. Civ. Code §1798.81.5", "AU Privacy Act APP 11.1"),
    "datamap": ("GDPR Art. 30", "GDPR Art. 5(1)(c)"),
    "purpose": ("GDPR Art. 5(1)(b)", "AU Privacy Act APP 6"),
    "consent": ("GDPR Art. 6(1)(a)", "GDPR Art. 7"),
    "transfer": ("GDPR Art. 44-46", "AU Privacy Act APP 8"),
    "disclosure": ("GDPR Art. 28", "AU Privacy Act APP 6"),
    "incident": ("GDPR Art. 33", "AU Privacy Act s 26WH"),
}


def _standards(control_id: str, policy_version: str) -> list[str]:
    laws = STANDARDS.get(control_id) or STANDARDS.get(control_id.split(".", 1)[0], ())
    return [f"Capantra Privacy Policy {policy_version}", *laws]


def _epoch_ms(moment: datetime) -> int:
    return (
        int(moment.replace(tzinfo=UTC).timestamp() * 1000) if moment.tzinfo is None else int(moment.timestamp() * 1000)
    )


def _uids(findings: pl.DataFrame) -> list[str]:
    """`control_id:resource`, stable from day to day so a security lake updates rather than duplicates;
    a resource a control reports more than once gets `#2`, `#3`... in the findings' fixed order."""
    seen: Counter[str] = Counter()
    out = []
    for control_id, resource in findings.select("control_id", "resource").iter_rows():
        key = f"{control_id}:{resource}"
        seen[key] += 1
        out.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return out


def to_ocsf(
    row: Mapping[str, Any],
    uid: str,
    as_of: date,
    *,
    policy_version: str,
    section_titles: Mapping[str, str],
    descriptions: Mapping[str, str],
    data_sources: Mapping[str, tuple[str, ...]],
) -> dict[str, Any]:
    """One finding (a row of the contract's columns) as an OCSF Compliance Finding dict (not yet validated)."""
    status, control_id, section = row["status"], row["control_id"], row["policy_section"]
    severity_id, severity = SEVERITY[row["severity"]]
    # The evaluation instant: the end of the as-of day (findings may be observed during that day).
    evaluated = _epoch_ms(datetime.combine(as_of + timedelta(days=1), time()) - timedelta(milliseconds=1))
    observed = _epoch_ms(row["observed_at"]) if row["observed_at"] is not None else None
    compliance_status = COMPLIANCE_STATUS.get(status, (0, "Unknown"))
    section_title = section_titles.get(section or "", "")
    obj: dict[str, Any] = {
        "metadata": {"product": PRODUCT, "version": OCSF_VERSION, "uid": uid, "log_name": "compliance findings"},
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "class_uid": CLASS_UID,
        "class_name": "Compliance Finding",
        "category_uid": 2,
        "category_name": "Findings",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE,
        "type_name": "Compliance Finding: Create",
        "time": evaluated,
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 3 if status == "suppressed" else 1,
        "status": "Suppressed" if status == "suppressed" else "New",
        "finding_info": {
            "uid": uid,
            "title": f"{control_id}: {row['resource']}",
            "desc": row["reason"],
            "types": [control_id.split(".", 1)[0]],
            "data_sources": list(data_sources.get(control_id, ())),
            "created_time": evaluated,
            **({"first_seen_time": observed, "last_seen_time": observed} if observed is not None else {}),
        },
        "compliance": {
            "control": control_id,
            "desc": descriptions.get(control_id),
            "category": f"Policy section {section}" + (f": {section_title}" if section_title else ""),
            "requirements": [f"Capantra Privacy Policy {policy_version} section {section}"],
            "standards": _standards(control_id, policy_version),
            "status_id": compliance_status[0],
            "status": compliance_status[1],
        },
        "resources": [{"uid": row["resource"], "type": row["resource"].split(":", 1)[0]}],
        "unmapped": {"contract_status": status, "policy_section": section, "as_of": as_of.isoformat()},
    }
    if status in ("skip", "error"):
        obj["status_detail"] = row["reason"]
    if row["evidence"]:
        obj["evidences"] = [{"name": "evidence ids", "data": {"ids": list(row["evidence"])}}]
    return obj


def validate(obj: Mapping[str, Any]) -> ComplianceFinding:
    """The object parsed by the OCSF model; pydantic's ValidationError names what is wrong."""
    return ComplianceFinding.model_validate(obj)


def ocsf_findings(
    findings: pl.DataFrame,
    as_of: date,
    *,
    policy_version: str,
    section_titles: Mapping[str, str],
    descriptions: Mapping[str, str],
    data_sources: Mapping[str, tuple[str, ...]],
) -> Iterator[dict[str, Any]]:
    """Every finding as a validated OCSF Compliance Finding dict, in the findings' order."""
    for row, uid in zip(findings.iter_rows(named=True), _uids(findings), strict=True):
        obj = to_ocsf(
            row,
            uid,
            as_of,
            policy_version=policy_version,
            section_titles=section_titles,
            descriptions=descriptions,
            data_sources=data_sources,
        )
        validate(obj)
        yield obj


def render_ocsf(objects: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> bytes:
    """JSON Lines, one OCSF object a line (the shape AWS Security Lake and SIEM collectors ingest)."""
    return "".join(json.dumps(o, ensure_ascii=False, sort_keys=True) + "\n" for o in objects).encode("utf-8")


def findings_as_ocsf(findings: pl.DataFrame, as_of: date, policy: Policy, root: Path) -> bytes:
    """The findings as OCSF JSON Lines, with the policy's section titles and the control queries under
    `root` for descriptions and data sources (what `check --format ocsf` and the package write)."""
    catalog = [q for q in controls(root) if q.control_id]
    return render_ocsf(
        ocsf_findings(
            findings,
            as_of,
            policy_version=policy.version,
            section_titles={s.section_id: s.title for s in policy.text.sections},
            descriptions={q.control_id: q.description for q in catalog if q.control_id},
            data_sources={q.control_id: q.requires for q in catalog if q.control_id},
        )
    )
