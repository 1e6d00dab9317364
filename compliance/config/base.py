"""Shared loading machinery for the policy-as-code files.

Every file is YAML validated by a pydantic model; any problem becomes a PolicyError that names the
file, the key path inside it and the problem, so a compliance lead can fix the file without reading
a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

M = TypeVar("M", bound=BaseModel)


class PolicyError(ValueError):
    """A policy-as-code file is invalid: names the file, the key and the problem."""

    def __init__(self, file: Path | str, key: str, problem: str) -> None:
        self.file = str(file)
        self.key = key
        self.problem = problem
        super().__init__(f"{self.file}: {key}: {problem}")


class StrictModel(BaseModel):
    """Base for policy models: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def read_yaml(path: Path) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(path, "(file)", f"cannot be read: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(file)"
        raise PolicyError(path, where, f"is not valid YAML: {getattr(exc, 'problem', exc)}") from exc


def load_model(path: Path, model: type[M]) -> M:
    """Parse one YAML file into `model`, turning validation errors into a PolicyError."""
    data = read_yaml(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also makes the intended key "missing": name the misspelling, it is the fix.
        first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        msg = first["msg"]
        if first.get("input") is not None and first["type"] not in {"missing", "extra_forbidden"}:
            msg = f"{msg} (got {first['input']!r})"
        if first["type"] == "extra_forbidden":
            msg = "is not a known key"
        raise PolicyError(path, _key_path(tuple(first["loc"])), msg) from exc
