"""The ground truth of a demo bundle: every planted finding, reject and duplicate, as JSON Lines.

It is written beside the bundle, never inside it, so that loading the bundle cannot see it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from compliance.demo.clock import rfc3339


@dataclass
class Truth:
    findings: list[dict[str, object]] = field(default_factory=list)
    rejects: list[dict[str, object]] = field(default_factory=list)
    duplicates: list[dict[str, object]] = field(default_factory=list)

    def finding(self, control_id: str, resource: str, observed_at: datetime | None, note: str) -> None:
        self.findings.append(
            {
                "kind": "finding",
                "control_id": control_id,
                "resource": resource,
                "observed_at": rfc3339(observed_at),
                "note": note,
            }
        )

    def reject(self, source: str, file: str, line: int, field_name: str | None, reason_contains: str) -> None:
        self.rejects.append(
            {
                "kind": "reject",
                "source": source,
                "file": file,
                "line": line,
                "field": field_name,
                "reason_contains": reason_contains,
            }
        )

    def duplicate(self, source: str, key: str) -> None:
        self.duplicates.append({"kind": "duplicate", "source": source, "key": key})

    def per_control(self) -> dict[str, int]:
        return dict(sorted(Counter(str(f["control_id"]) for f in self.findings).items()))

    def write(self, path: Path) -> None:
        rows = sorted(self.findings, key=lambda f: (str(f["control_id"]), str(f["resource"])))
        rows += sorted(self.rejects, key=lambda r: (str(r["source"]), str(r["file"]), int(r["line"])))  # type: ignore[call-overload]
        rows += sorted(self.duplicates, key=lambda d: (str(d["source"]), str(d["key"])))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def extend(self, other: Truth) -> None:
        """Add what another Truth recorded (a block of audit days written elsewhere)."""
        self.findings += other.findings
        self.rejects += other.rejects
        self.duplicates += other.duplicates
