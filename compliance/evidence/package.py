"""Write an evidence package: a zip holding README.md (the index), manifest.json, the derived files,
the policy and queries that produced them, optionally the audit notebooks executed as HTML, and
SHA256SUMS over everything else.

The zip is written without a clock (every entry dated 1980-01-01, the zip format's epoch) and in a
fixed order, so the same database and as-of date give the same package, whoever builds it.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from compliance.config.bundle import DEFAULT_POLICY_DIR
from compliance.evidence.contents import Derived, derive, sha256
from compliance.queries import QUERY_DIR

__all__ = ["BuiltPackage", "build_package", "describe", "package_bytes", "readme", "sha256sums", "write_zip"]

_EPOCH = (1980, 1, 1, 0, 0, 0)
SUMS = "SHA256SUMS"
README = "README.md"
MANIFEST = "manifest.json"

# What each file (or folder) of a package holds, for the README index.
DESCRIPTIONS: dict[str, str] = {
    MANIFEST: "what the package was derived from: as-of date, tool version, policy digest, each query's SHA-256, "
    "every input file's SHA-256 with rows loaded and rejected, the findings' counts and the posture",
    SUMS: "SHA-256 of every other file (`sha256sum -c SHA256SUMS`)",
    "findings/findings.jsonl": "every finding of every control (data contract section 4), one JSON object a line",
    "findings/findings.parquet": "the same findings as Parquet (observed_at in UTC)",
    "findings/findings.ocsf.jsonl": "the same findings as OCSF Compliance Finding objects (class 2003), one a line",
    "reports/posture_by_section.csv": "posture by policy section",
    "reports/controls.csv": "rows per status of every control",
    "reports/record_of_processing.json": "GDPR Art. 30 records: controller (30(1)) and processor (30(2))",
    "reports/ccpa_7102_metrics.csv": "CCPA regulations §7102(a) request metrics for California consumers",
    "reports/dsr_register.csv": "the data subject request register, each deadline explained",
    "reports/evidence.xlsx": "every report table as a workbook (one sheet per report)",
    "reports/evidence.pdf": "the report tables for reading and printing",
    "policy/": "the policy-as-code folder the controls were evaluated with",
    "queries/": "the SQL of every control and report query",
    "notebooks/": "the audit notebooks executed on the same database and as-of date, as HTML without code",
    "triage/": "waivers and triage states",
}


@dataclass(frozen=True)
class BuiltPackage:
    path: Path
    derived: Derived
    notebooks: dict[str, bytes]
    seconds_notebooks: float | None


def describe(path: str) -> str:
    if path in DESCRIPTIONS:
        return DESCRIPTIONS[path]
    folder = path.split("/", 1)[0] + "/"
    return DESCRIPTIONS.get(folder, "")


def readme(manifest: Mapping, paths: list[str]) -> bytes:
    """The package's index: what it is, how to check it, and what every file holds."""
    f = manifest["findings"]
    statuses = ", ".join(f"{n:,} {s}" for s, n in f["by_status"].items() if n)
    folders = sorted({p.split("/", 1)[0] + "/" for p in paths if "/" in p})
    top = [p for p in paths if "/" not in p]
    listed = [p for p in paths if "/" in p and p.split("/", 1)[0] in ("findings", "reports")]
    lines = [
        "# Capantra privacy-compliance evidence",
        "",
        f"As of **{manifest['as_of']}**, built by `compliance {manifest['tool']['version']}` with privacy policy "
        f"{manifest['policy']['version']} (policy digest `{manifest['policy']['digest'][:16]}`).",
        f"Evidence digest `{manifest['evidence_digest']}` (printed on every page of the XLSX and PDF reports).",
        "",
        f"{f['rows']:,} findings from {f['controls']} controls: {statuses or 'none'}. "
        f"{manifest['inputs']['totals']['files']:,} input files; "
        f"{manifest['inputs']['totals']['rows_loaded']:,} rows loaded, "
        f"{manifest['inputs']['totals']['rows_rejected']:,} rejected.",
        "",
        "## Check it",
        "",
        "With the audit database this package was built from:",
        "",
        "    compliance evidence verify THIS.zip --db AUDIT.duckdb",
        "",
        "re-derives every file and figure from the database and this package's own `policy/` and `queries/`,",
        "and reports any difference (exit 1). `sha256sum -c SHA256SUMS` checks the files against their sums.",
        "",
        "The findings and register name real subject and actor ids: handle this package as personal data.",
        "",
        "## Contents",
        "",
    ]
    lines += [f"- `{p}`: {describe(p)}" for p in top if p != README]
    lines += [f"- `{p}`: {describe(p)}" for p in listed]
    lines += [f"- `{d}`: {describe(d)}" for d in folders if d not in ("findings/", "reports/")]
    waivers = manifest.get("waivers_and_triage")
    lines += [
        "",
        "Waivers and triage states: "
        + (", ".join(f"`{p}`" for p in waivers) if waivers else "none exist for this database (no triage store)."),
        "",
    ]
    return "\n".join(lines).encode("utf-8")


def sha256sums(files: Mapping[str, bytes]) -> bytes:
    """`sha256sum` format (two spaces, binary-safe names), sorted by path."""
    return "".join(f"{sha256(data)}  {path}\n" for path, data in sorted(files.items())).encode("utf-8")


def package_files(derived: Derived, notebooks: Mapping[str, bytes]) -> dict[str, bytes]:
    """Every file of the package in its order: README, manifest, the rest sorted, then SHA256SUMS."""
    body = dict(derived.files) | dict(notebooks)
    paths = sorted(body)
    files = {README: readme(derived.manifest, [README, *paths, SUMS])}
    files |= {MANIFEST: body.pop(MANIFEST)}
    files |= {p: body[p] for p in sorted(body)}
    files[SUMS] = sha256sums(files)
    return files


def write_zip(files: Mapping[str, bytes], out: Path) -> None:
    """Atomically: a reader never sees half a package."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(buf.getvalue())
    os.replace(tmp, out)


def build_package(
    db_path: Path | str,
    out: Path | str,
    as_of: date | None = None,
    *,
    policy_dir: Path | str | None = None,
    query_root: Path = QUERY_DIR,
    notebooks: bool = False,
    progress: Callable[[str], None] | None = None,
) -> BuiltPackage:
    """Derive every file for `db_path` as of `as_of` and write the package to `out` (a .zip)."""
    say = progress or (lambda _: None)
    say("evaluating controls and rendering reports")
    derived = derive(db_path, as_of, Path(policy_dir) if policy_dir else DEFAULT_POLICY_DIR, query_root)
    html: dict[str, bytes] = {}
    seconds = None
    if notebooks:
        from compliance.evidence.notebooks import executed_notebooks

        say("executing the audit notebooks")
        html, seconds = executed_notebooks(Path(db_path), derived.tables.as_of, policy_dir)
    path = Path(out)
    write_zip(package_files(derived, html), path)
    return BuiltPackage(path=path, derived=derived, notebooks=html, seconds_notebooks=seconds)


def package_bytes(db_path: Path | str, as_of: date | None = None) -> bytes:
    """The package for `db_path` as of `as_of` as bytes (for a download), built in a private temporary folder."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="evidence-") as tmp:
        out = Path(tmp) / "evidence.zip"
        build_package(db_path, out, as_of)
        return out.read_bytes()
