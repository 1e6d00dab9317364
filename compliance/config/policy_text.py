"""The privacy policy text parsed into its sections (`PS`, `1`..`9`) and version."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from compliance.config.base import PolicyError

_NUMBERED = re.compile(r"^##\s+(\d+)\.\s+(.+?)\s*$")
_PROCUREMENT = re.compile(r"^##\s+Procurement summary\s*$", re.IGNORECASE)
_ANY_H2 = re.compile(r"^##\s+")
_VERSION = re.compile(r"Current version:\s*(v[\w.]+)")


@dataclass(frozen=True)
class PolicySection:
    section_id: str
    title: str
    text: str
    bullets: tuple[str, ...]


@dataclass(frozen=True)
class PolicyText:
    path: Path
    title: str
    version: str
    sections: tuple[PolicySection, ...]

    @property
    def section_ids(self) -> tuple[str, ...]:
        return tuple(s.section_id for s in self.sections)

    def section(self, section_id: str) -> PolicySection:
        for s in self.sections:
            if s.section_id == section_id:
                return s
        raise KeyError(section_id)


def parse_policy(path: Path) -> PolicyText:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PolicyError(path, "(file)", f"cannot be read: {exc.strerror or exc}") from exc
    title = next((ln[2:].strip() for ln in lines if ln.startswith("# ")), "")
    version_match = next((m for ln in lines if (m := _VERSION.search(ln))), None)
    if version_match is None:
        raise PolicyError(path, "Current version", "the policy states no 'Current version: vX'")

    sections: list[PolicySection] = []
    current: tuple[str, str] | None = None
    body: list[str] = []

    def close() -> None:
        if current is not None:
            text = "\n".join(body).strip()
            bullets = tuple(ln[2:].strip() for ln in body if ln.startswith("- "))
            sections.append(PolicySection(current[0], current[1], text, bullets))

    for line in lines:
        if _ANY_H2.match(line):
            close()
            body = []
            if _PROCUREMENT.match(line):
                current = ("PS", "Procurement summary")
            elif m := _NUMBERED.match(line):
                current = (m.group(1), m.group(2))
            else:  # change log and other headings are metadata, not policy sections
                current = None
        elif current is not None:
            body.append(line)
    close()
    if not sections:
        raise PolicyError(path, "sections", "no '## Procurement summary' or '## N. Title' sections found")
    return PolicyText(path, title, version_match.group(1), tuple(sections))
