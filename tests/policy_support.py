"""A copy of the shipped policy folder with a test's edits, for tests of what an edit to the policy changes (or must
not change)."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from compliance.config.bundle import DEFAULT_POLICY_DIR


def replace_text(path: Path, old: str, new: str) -> None:
    """Replace the first `old` in the file at `path` by `new`; `old` must be there, so that an edit which no longer
    matches the shipped text fails here instead of leaving the test to run on an unedited file."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def policy_copy(folder: Path, edits: Mapping[str, tuple[str, str]] | None = None) -> Path:
    """The shipped policy folder copied to `folder` (which must not exist yet), with each named file's `old` text
    replaced by `new` ({file name: (old, new)})."""
    shutil.copytree(DEFAULT_POLICY_DIR, folder)
    for name, (old, new) in (edits or {}).items():
        replace_text(folder / name, old, new)
    return folder
