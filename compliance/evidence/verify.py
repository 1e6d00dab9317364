"""Verify an evidence package: re-derive every file and figure from the database and the package's own
policy and queries, and report every difference.

Steps: read the zip defensively (it is untrusted input: names are checked before anything is written,
and only `policy/` and `queries/` are written, to a private temporary folder); check SHA256SUMS against
the files; re-derive with `contents.derive`, rebuild README, manifest and SHA256SUMS exactly as the
builder does, and compare file by file. A difference names the file and, for the manifest and text
files, the first things that differ (key paths, line numbers with the finding they belong to).
Notebook HTML embeds its run's details, so it is checked against SHA256SUMS only.
"""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path, PurePosixPath
from typing import Any

from compliance.evidence.contents import derive, sha256
from compliance.evidence.package import MANIFEST, README, SUMS, package_files

__all__ = ["Difference", "VerifyResult", "verify_package"]

_MAX_DETAILS = 5  # differences shown per file; the count says how many there are
_MAX_ENTRY_BYTES = 8 << 30  # refuse a zip entry that claims more than this uncompressed (a zip bomb)


@dataclass(frozen=True)
class Difference:
    path: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass
class VerifyResult:
    package: Path
    as_of: date | None = None
    differences: list[Difference] = field(default_factory=list)
    checked: int = 0  # files re-derived and compared
    sums_only: list[str] = field(default_factory=list)  # files checked against SHA256SUMS only
    built_with: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences

    def add(self, path: str, what: str) -> None:
        self.differences.append(Difference(path, what))


def _safe_name(name: str) -> bool:
    p = PurePosixPath(name)
    return bool(name) and not p.is_absolute() and ".." not in p.parts and "\\" not in name and not name.endswith("/")


def _read_zip(path: Path, result: VerifyResult) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                if not _safe_name(info.filename):
                    result.add(info.filename, "unsafe file name in the package (absolute or with '..'); not read")
                    continue
                if info.file_size > _MAX_ENTRY_BYTES:
                    result.add(info.filename, f"claims {info.file_size:,} bytes uncompressed; not read")
                    continue
                if info.filename in files:
                    result.add(info.filename, "appears twice in the package")
                files[info.filename] = zf.read(info)
    except (zipfile.BadZipFile, OSError) as exc:
        result.add(path.name, f"not a readable zip file: {exc}")
    return files


def _parse_sums(data: bytes) -> dict[str, str] | None:
    sums = {}
    for line in data.decode("utf-8", "replace").splitlines():
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            return None
        sums[name] = digest
    return sums


def _check_sums(files: Mapping[str, bytes], result: VerifyResult) -> None:
    sums = _parse_sums(files[SUMS]) if SUMS in files else None
    if sums is None:
        result.add(SUMS, "missing or not in `sha256sum` format")
        return
    for name, data in files.items():
        if name == SUMS:
            continue
        if name not in sums:
            result.add(name, f"not listed in {SUMS}")
        elif sums[name] != sha256(data):
            result.add(name, f"SHA-256 {sha256(data)[:16]} differs from {SUMS} ({sums[name][:16]})")
    for name in sorted(set(sums) - set(files)):
        result.add(name, f"listed in {SUMS} but missing from the package")


def _json_paths(a: Any, b: Any, path: str = "") -> Iterator[str]:
    """Key paths where two JSON values differ (`inputs.files[3].sha256: package X, re-derived Y`)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(dict.fromkeys([*a, *b])):
            sub = f"{path}.{key}" if path else str(key)
            if key not in a:
                yield f"{sub}: missing from the package (re-derived {_short(b[key])})"
            elif key not in b:
                yield f"{sub}: in the package ({_short(a[key])}) but not re-derived"
            else:
                yield from _json_paths(a[key], b[key], sub)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{path}: {len(a)} item(s) in the package, {len(b)} re-derived"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            # Name a listed file by its path (`queries[queries/controls/x.sql]`), not only by its position.
            label = y.get("path") if isinstance(y, dict) and isinstance(y.get("path"), str) else None
            yield from _json_paths(x, y, f"{path}[{i}{f' {label}' if label else ''}]")
    elif a != b:
        yield f"{path}: package {_short(a)}, re-derived {_short(b)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _line_label(line: str) -> str:
    try:
        obj = json.loads(line)
    except ValueError:
        return ""
    if isinstance(obj, dict) and "control_id" in obj:
        return f" ({obj['control_id']} {obj.get('resource')})"
    if isinstance(obj, dict) and isinstance(obj.get("finding_info"), dict):
        return f" ({obj['finding_info'].get('uid')})"
    return ""


def _text_diff(found: bytes, expected: bytes) -> list[str]:
    a = found.decode("utf-8", "replace").splitlines()
    b = expected.decode("utf-8", "replace").splitlines()
    out = [
        f"line {i + 1}{_line_label(y)} differs: package {_short(x)}"
        for i, (x, y) in enumerate(zip(a, b, strict=False))
        if x != y
    ]
    if len(a) != len(b):
        out.append(f"{len(a)} line(s) in the package, {len(b)} re-derived")
    return out


def _describe(path: str, found: bytes, expected: bytes) -> list[str]:
    if path == MANIFEST:
        try:
            return list(_json_paths(json.loads(found), json.loads(expected)))
        except ValueError:
            return ["not valid JSON"]
    if path.endswith((".jsonl", ".csv", ".md", ".sql", ".yaml", ".yml", ".json", ".txt")) or path in (README, SUMS):
        return _text_diff(found, expected)
    return [f"bytes differ (SHA-256 {sha256(found)[:16]} in the package, {sha256(expected)[:16]} re-derived)"]


def _compare(files: Mapping[str, bytes], expected: Mapping[str, bytes], result: VerifyResult) -> None:
    for path in sorted(set(files) | set(expected)):
        if path not in expected:
            result.add(path, "in the package but not derivable from the database, policy and queries")
            continue
        if path not in files:
            result.add(path, "re-derived but missing from the package")
            continue
        result.checked += 1
        if files[path] == expected[path]:
            continue
        details = _describe(path, files[path], expected[path]) or ["content differs"]
        more = f" (and {len(details) - _MAX_DETAILS} more)" if len(details) > _MAX_DETAILS else ""
        result.add(path, "; ".join(details[:_MAX_DETAILS]) + more)


def _extract(files: Mapping[str, bytes], folder: str, dest: Path) -> Path:
    root = dest / folder
    root.mkdir(parents=True)
    for name, data in files.items():
        if name.startswith(f"{folder}/"):
            target = root / name.removeprefix(f"{folder}/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return root


def verify_package(package: Path | str, db_path: Path | str) -> VerifyResult:
    """Re-derive the package at `package` from the database at `db_path` and list every difference."""
    result = VerifyResult(package=Path(package))
    files = _read_zip(result.package, result)
    if not files:
        if result.ok:
            result.add(result.package.name, "empty package")
        return result
    _check_sums(files, result)
    try:
        manifest = json.loads(files[MANIFEST])
        result.as_of = date.fromisoformat(manifest["as_of"])
        result.built_with = str(manifest.get("tool", {}).get("version"))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        result.add(MANIFEST, f"missing or unreadable, so nothing can be re-derived ({type(exc).__name__}: {exc})")
        return result
    with tempfile.TemporaryDirectory(prefix="evidence-verify-") as tmp:
        policy_dir = _extract(files, "policy", Path(tmp))
        query_root = _extract(files, "queries", Path(tmp))
        try:
            derived = derive(db_path, result.as_of, policy_dir, query_root)
        except Exception as exc:  # an edited policy or query that no longer loads is a finding, not a crash
            result.add("policy/ or queries/", f"cannot re-derive: {type(exc).__name__}: {exc}")
            return result
    notebooks = {p: d for p, d in files.items() if p.startswith("notebooks/")}
    result.sums_only = sorted(notebooks)
    _compare(files, package_files(derived, notebooks), result)
    return result
