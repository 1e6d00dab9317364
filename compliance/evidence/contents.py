"""Every derived file of an evidence package, computed from a database, a policy folder and a query folder.

`derive` is the one function that both `package.build` and `verify` call: the builder runs it on the
repository's policy and queries and copies them into the package; the verifier runs it on the package's
own copies. Whatever a package states is therefore re-derivable, byte for byte, from its inputs.
Everything here is a pure function of (database, policy, queries, as-of): no clock, no locale, no host
name, no absolute path of the machine that built it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

import compliance
from compliance.audit_database import connect_current
from compliance.check import render_findings
from compliance.config.bundle import Policy, load_policy
from compliance.controls import SEVERITIES, STATUSES, default_as_of, run_controls
from compliance.evidence import triage_hook
from compliance.evidence.ocsf import OCSF_VERSION, findings_as_ocsf
from compliance.queries import get_query, load_queries, run_query
from compliance.reports import (
    control_summary,
    dsr_metrics,
    posture_by_section,
    processor_record,
    record_of_processing,
)

__all__ = ["CCPA_JURISDICTION", "Derived", "ReportTables", "derive", "inputs_by_source", "sha256"]

FORMAT_VERSION = 1
CCPA_JURISDICTION = "US-CA"  # the CCPA regs §7102 metrics count California consumers' requests


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ReportTables:
    """The tables the XLSX and PDF reports render, with what every page must state."""

    as_of: date
    evidence_digest: str  # SHA-256 over the findings, policy, queries and inputs (see `_evidence_digest`)
    policy_version: str
    controller: dict[str, Any]  # record_of_processing(policy)
    processor: pl.DataFrame  # reports.processor_record: the same Art. 30(2) record as the Evidence page
    posture: pl.DataFrame
    control_summary: pl.DataFrame
    ccpa_metrics: pl.DataFrame
    dsr_register: pl.DataFrame
    inputs: pl.DataFrame


@dataclass(frozen=True)
class Derived:
    files: dict[str, bytes]  # path in the package -> bytes, manifest.json included
    manifest: dict[str, Any]
    tables: ReportTables
    findings: pl.DataFrame


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str) + "\n").encode("utf-8")


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv(line_terminator="\n").encode("utf-8")


def _tree(root: Path, prefix: str) -> dict[str, bytes]:
    """Every regular file under `root` (hidden files and caches left out), keyed by `prefix/relative path`."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not any(part.startswith((".", "__")) for part in rel.parts):
            out[f"{prefix}/{rel.as_posix()}"] = path.read_bytes()
    return out


def _ccpa_metrics(register: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """CCPA regs §7102(a) metrics for California requests, one block per calendar year of receipt (the
    as-of year always, so a year without a California request states its zeros)."""
    ca = register.filter(pl.col("jurisdiction") == CCPA_JURISDICTION)
    years = sorted(set(ca["received_date"].dt.year().drop_nulls().to_list()) | {as_of.year})
    # Each block names its year and jurisdiction in its own rows (reports.dsr_metrics).
    return pl.concat([dsr_metrics(ca, year, CCPA_JURISDICTION) for year in years], how="vertical")


def _inputs(con: duckdb.DuckDBPyConnection, policy: Policy, root: Path) -> pl.DataFrame:
    files = run_query(con, get_query("load_files", root), {}, policy)
    return files.select(
        "source", "path", pl.col("file_id").alias("sha256"), "size_bytes", "run_id", "rows_read", "rows_loaded",
        "rows_duplicate", "rows_rejected", "newest_event_at",
    )  # fmt: skip


_ROW_COUNTS = ["rows_read", "rows_loaded", "rows_duplicate", "rows_rejected"]


def inputs_by_source(inputs: pl.DataFrame) -> pl.DataFrame:
    """Files and rows read, loaded, duplicate and rejected per source folder."""
    return (
        inputs.group_by("source").agg(pl.len().alias("files"), *[pl.col(c).sum() for c in _ROW_COUNTS]).sort("source")
    )


def _inputs_manifest(inputs: pl.DataFrame) -> dict[str, Any]:
    counts = _ROW_COUNTS
    by_source = inputs_by_source(inputs)
    text = inputs.with_columns(pl.col("newest_event_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))
    return {
        "files": text.to_dicts(),
        "by_source": by_source.to_dicts(),
        "totals": {"files": inputs.height, **{c: int(inputs[c].sum()) for c in counts}},
    }


def _queries_manifest(files: Mapping[str, bytes], root: Path) -> list[dict[str, Any]]:
    by_path = {q.path.relative_to(root).as_posix(): q for q in load_queries(root).values()}
    out = []
    for path, data in files.items():
        q = by_path.get(path.removeprefix("queries/"))
        out.append(
            {
                "path": path,
                "name": q.name if q else None,
                "kind": q.kind if q else None,
                "control_id": q.control_id if q else None,
                "sha256": sha256(data),
            }
        )
    return out


def _findings_manifest(findings: pl.DataFrame) -> dict[str, Any]:
    alarms = findings.filter(pl.col("status") == "alarm")
    statuses = list(STATUSES) + sorted(set(findings["status"].unique().to_list()) - set(STATUSES))
    return {
        "rows": findings.height,
        "controls": findings["control_id"].n_unique(),
        "by_status": {s: findings.filter(pl.col("status") == s).height for s in statuses},
        "alarms_by_severity": {s: alarms.filter(pl.col("severity") == s).height for s in reversed(SEVERITIES)},
    }


def _evidence_digest(findings_jsonl: bytes, policy_digest: str, queries: list[dict], inputs: dict) -> str:
    """One SHA-256 naming what the reports state: the findings, the policy, the queries and the inputs.
    Printed on every page of the XLSX and PDF, so a printed page can be tied to its package."""
    h = hashlib.sha256()
    for part in (findings_jsonl, policy_digest.encode(), _json(queries), _json(inputs["files"])):
        h.update(sha256(part).encode())
    return h.hexdigest()


def derive(
    db_path: Path | str,
    as_of: date | None,
    policy_dir: Path | str,
    query_root: Path,
) -> Derived:
    """Every derived file of a package for the database at `db_path` (opened read-only) as of `as_of`
    (default: the newest timestamp in the data), evaluated with the policy in `policy_dir` and the SQL
    under `query_root`. The policy and queries themselves are part of the files (`policy/`, `queries/`)."""
    from compliance.evidence.document import render_pdf
    from compliance.evidence.workbook import render_xlsx

    policy_dir = Path(policy_dir)
    policy = load_policy(policy_dir)
    with connect_current(db_path) as con:
        as_of = as_of or default_as_of(con)
        findings = run_controls(con, policy, as_of, root=query_root)
        register = run_query(con, get_query("dsr_register", query_root), {"as_of": as_of}, policy)
        tenants = run_query(con, get_query("processor_customers", query_root), {"as_of": as_of}, policy)
        inputs = _inputs(con, policy, query_root)
        runs = run_query(con, get_query("load_runs_summary", query_root), {}, policy)
    triage_files = triage_hook.triage_files(db_path, policy, as_of)

    files: dict[str, bytes] = {}
    files |= _tree(policy_dir, "policy")
    query_files = _tree(query_root, "queries")
    files |= query_files
    findings_jsonl = render_findings(findings, "jsonl")
    files["findings/findings.jsonl"] = findings_jsonl
    files["findings/findings.parquet"] = render_findings(findings, "parquet")
    titles = {s.section_id: s.title for s in policy.text.sections}
    files["findings/findings.ocsf.jsonl"] = findings_as_ocsf(findings, as_of, policy, query_root)
    summary = control_summary(findings)
    posture = posture_by_section(summary, titles)
    ccpa = _ccpa_metrics(register, as_of)
    controller = record_of_processing(policy)
    processor = processor_record(policy, tenants)
    files["reports/posture_by_section.csv"] = _csv(posture)
    files["reports/controls.csv"] = _csv(summary)
    files["reports/record_of_processing.json"] = _json({"controller": controller, "processor": processor.to_dicts()})
    files["reports/ccpa_7102_metrics.csv"] = _csv(ccpa)
    files["reports/dsr_register.csv"] = _csv(register)
    files |= triage_files

    inputs_manifest = _inputs_manifest(inputs)
    queries_manifest = _queries_manifest(query_files, query_root)
    digest = _evidence_digest(findings_jsonl, policy.digest, queries_manifest, inputs_manifest)
    tables = ReportTables(
        as_of=as_of,
        evidence_digest=digest,
        policy_version=policy.version,
        controller=controller,
        processor=processor,
        posture=posture,
        control_summary=summary,
        ccpa_metrics=ccpa,
        dsr_register=register,
        inputs=inputs,
    )
    files["reports/evidence.xlsx"] = render_xlsx(tables)
    files["reports/evidence.pdf"] = render_pdf(tables)
    manifest = {
        "package": "Capantra privacy-compliance evidence",
        "format_version": FORMAT_VERSION,
        "as_of": as_of.isoformat(),
        "tool": {"name": "compliance", "version": compliance.__version__, "ocsf_version": OCSF_VERSION},
        "evidence_digest": digest,
        "policy": {
            "version": policy.version,
            "digest": policy.digest,
            "files": [{"path": p, "sha256": sha256(b)} for p, b in files.items() if p.startswith("policy/")],
        },
        "queries": queries_manifest,
        "inputs": inputs_manifest,
        # The policy each load ran with: its reference tables and deadlines were derived from that policy.
        "load_runs": runs.select(
            "run_id", "policy_version", "policy_digest", "files", "rows_loaded", "rows_rejected"
        ).to_dicts(),
        "findings": _findings_manifest(findings),
        "posture": posture.select("policy_section", "posture", "controls", "controls_in_alarm", *STATUSES).to_dicts(),
        "dsr_register": {
            "requests": register.height,
            "by_state": dict(sorted(register.group_by("state").len().iter_rows())),
        },
        "waivers_and_triage": sorted(triage_files) or None,
        "files": [{"path": p, "sha256": sha256(b), "bytes": len(b)} for p, b in sorted(files.items())],
    }
    files["manifest.json"] = _json(manifest)
    return Derived(files=files, manifest=manifest, tables=tables, findings=findings)
