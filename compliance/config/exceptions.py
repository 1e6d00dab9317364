"""exceptions.yaml: waivers for accepted risks, as policy as code.

Each entry names a control, a resource (exact, or a glob with `*`, `?` and `[...]`), why the finding
is accepted, who approved it and when, and when the waiver expires. A waiver is in force on as-of
dates from `approved_at` up to the day before `expires`: on its expiry date the finding is an alarm
again. The file is optional; a policy folder without it has no waivers.
"""

from __future__ import annotations

from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path

from pydantic import Field, model_validator

from compliance.config.base import PolicyError, StrictModel, load_model, read_yaml

__all__ = ["EXCEPTIONS_FILE", "Exceptions", "Waiver", "load_exceptions"]

EXCEPTIONS_FILE = "exceptions.yaml"
_GLOB_CHARS = frozenset("*?[")


class Waiver(StrictModel):
    id: str | None = Field(default=None, min_length=1)  # optional; default name: exceptions[<index>]
    control: str = Field(min_length=1)
    resource: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_at: date
    expires: date

    @model_validator(mode="after")
    def _expires_after_approval(self) -> Waiver:
        if self.expires <= self.approved_at:
            raise ValueError(f"expires ({self.expires}) must be after approved_at ({self.approved_at})")
        return self

    @property
    def is_glob(self) -> bool:
        return any(c in _GLOB_CHARS for c in self.resource)

    def matches(self, control_id: str, resource: str) -> bool:
        """Case-sensitive: resource keys are ids, and `actor:A1` is not `actor:a1`."""
        if control_id != self.control:
            return False
        # Equal text always matches: a resource key may itself hold `[` or `*` (exports are untrusted).
        return resource == self.resource or (self.is_glob and fnmatchcase(resource, self.resource))

    def in_force(self, as_of: date | None) -> bool:
        """Approved on or before `as_of` and not yet expired (an unknown as-of date: not in force)."""
        return as_of is not None and self.approved_at <= as_of < self.expires


class Exceptions(StrictModel):
    waivers: list[Waiver] = []

    def named(self) -> list[tuple[str, Waiver]]:
        """Each waiver with the name findings cite: its `id`, else its position in the file."""
        return [(w.id or f"exceptions[{i}]", w) for i, w in enumerate(self.waivers)]


def load_exceptions(directory: Path, known_controls: set[str] | None = None) -> Exceptions:
    """The waivers of `directory`/exceptions.yaml (none when the file is absent).

    A waiver for a control the catalog does not know is an error: a misspelt id would waive nothing
    and be reported unused forever, hiding the mistake.
    """
    path = directory / EXCEPTIONS_FILE
    if not path.exists() or read_yaml(path) is None:  # absent or empty: no waivers
        return Exceptions()
    exceptions = load_model(path, Exceptions)
    seen: set[str] = set()
    for i, waiver in enumerate(exceptions.waivers):
        if known_controls is not None and waiver.control not in known_controls:
            raise PolicyError(path, f"waivers[{i}].control", f"{waiver.control!r} is not a control of the catalog")
        if waiver.id is not None:
            if waiver.id in seen:
                raise PolicyError(path, f"waivers[{i}].id", f"waiver id {waiver.id!r} is used twice")
            seen.add(waiver.id)
    return exceptions
