"""The place where waivers and triage states enter an evidence package, where they exist.

Waivers (`exceptions.yaml` in the policy folder) travel with the package's copy of the policy folder
(every file of it is copied), so a verifier re-derives with the same waivers. The triage store and the
`suppressed` status belong to the triage module (compliance.triage), built on another branch: when it
is installed and offers the two functions named below, they are used; otherwise the package says that
no waivers or triage states exist. Nothing here guesses at a store it does not know.

The contract with compliance.triage (for whoever wires it):
- `evidence_apply_waivers(con, policy_dir, as_of, findings) -> findings`: alarms covered by an approved,
  unexpired waiver turned `suppressed`;
- `evidence_files(con, policy_dir, as_of) -> dict[str, bytes]`: the waivers and triage states as files
  (paths under `triage/`), deterministic for a given database and as-of date.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from types import ModuleType

import duckdb
import polars as pl

__all__ = ["apply_waivers", "triage_files", "triage_module"]


def triage_module() -> ModuleType | None:
    """compliance.triage when it exists on this installation, else None."""
    try:
        return importlib.import_module("compliance.triage")
    except ModuleNotFoundError:
        return None


def apply_waivers(
    con: duckdb.DuckDBPyConnection, policy_dir: Path, as_of: date, findings: pl.DataFrame
) -> pl.DataFrame:
    module = triage_module()
    hook = getattr(module, "evidence_apply_waivers", None) if module else None
    return hook(con, policy_dir, as_of, findings) if hook else findings


def triage_files(con: duckdb.DuckDBPyConnection, policy_dir: Path, as_of: date) -> dict[str, bytes]:
    module = triage_module()
    hook = getattr(module, "evidence_files", None) if module else None
    files = hook(con, policy_dir, as_of) if hook else {}
    bad = [p for p in files if not p.startswith("triage/")]
    if bad:
        raise ValueError(f"triage files must lie under triage/: {bad}")
    return dict(sorted(files.items()))
