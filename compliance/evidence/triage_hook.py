"""Where waivers and triage states enter an evidence package, where they exist.

- Waivers (`exceptions.yaml` in the policy folder) travel with the package's copy of the policy folder
  (every file of it is copied), and the controls engine applies them where the triage module is
  installed (an alarm under a waiver in force becomes `suppressed`), so a verifier re-derives the same
  suppressed rows from the package's own policy.
- The triage store (states and changes of each alarm) belongs to the triage module. When
  `compliance.triage` is installed and offers `triage_evidence(db, policy, as_of) -> {name: frame}`, each
  table goes into the package as `triage/<name>.csv` (JSON Lines for a table with nested columns);
  otherwise the package says that no waivers or triage states exist. Nothing here guesses at a store it
  does not know.

A triage change made after the package was built shows in `verify` as a difference in `triage/`, which
is what it is: the package no longer matches the store.
"""

from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

__all__ = ["triage_files", "triage_module"]


def triage_module() -> ModuleType | None:
    """compliance.triage when it exists on this installation, else None."""
    try:
        return importlib.import_module("compliance.triage")
    except ModuleNotFoundError:
        return None


def _table_bytes(frame: pl.DataFrame) -> tuple[str, bytes]:
    nested = any(isinstance(dtype, pl.List | pl.Struct | pl.Array) for dtype in frame.dtypes)
    if nested:
        return "jsonl", frame.write_ndjson().encode("utf-8")
    return "csv", frame.write_csv(line_terminator="\n").encode("utf-8")


def triage_files(db_path: Path | str, policy: Policy, as_of: date) -> dict[str, bytes]:
    """`triage/<table>.csv` for every table the triage module offers for evidence; {} without it."""
    module = triage_module()
    evidence = getattr(module, "triage_evidence", None) if module else None
    if evidence is None:
        return {}
    files = {}
    for name, frame in sorted(evidence(Path(db_path), policy, as_of).items()):
        ext, data = _table_bytes(frame)
        files[f"triage/{name}.{ext}"] = data
    return files
