"""Dirty input the ingest must survive: broken audit lines, bad DSR rows, a re-exported overlap window.

Each is recorded in the ground truth with the file, the physical line and a word the reject reason
must contain (the ingest's reasons: "unparseable record", "bad timestamp", "unknown value").
"""

from __future__ import annotations

import json
from datetime import date

from compliance.demo.truth import Truth

# (UTC day, kind, line position in the day's file); positions are clamped to the file length.
AUDIT_DIRT = (
    (date(2025, 4, 15), "truncated", 50),
    (date(2025, 6, 18), "bad_timestamp", 120),
    (date(2025, 9, 9), "bad_enum", 80),
)
OVERLAP_DAY = date(2025, 6, 1)  # the re-export holds the hour either side of this midnight
OVERLAP_CAP = 250  # events taken from each side at most
GZIP_DAYS = 7  # the first week of January arrives gzip-compressed


def dirty_line(kind: str, template: str, event_id: str) -> str:
    """A broken copy of a good line, under a fresh event id so it shadows nothing."""
    obj = json.loads(template)
    obj["event_id"] = event_id
    if kind == "bad_timestamp":
        obj["occurred_at"] = "2025-13-45T99:00:00Z"
    elif kind == "bad_enum":
        obj["action"] = "teleport"
    text = json.dumps(obj, separators=(",", ":"))
    if kind == "truncated":
        text = text[: int(len(text) * 0.6)]  # the writer died mid-line
    return text


def record_audit_dirt(truth: Truth, file: str, line: int, kind: str) -> None:
    field, word = {
        "truncated": (None, "unparseable"),
        "bad_timestamp": ("occurred_at", "bad timestamp"),
        "bad_enum": ("action", "unknown value"),
    }[kind]
    truth.reject("audit", file, line, field, word)


def dsr_dirty_rows(rows: list[dict[str, str | None]]) -> list[tuple[int, dict[str, str | None], str, str]]:
    """Two broken register rows (copies of real ones under new ids): position, row, field, reason word."""
    a, b = dict(rows[len(rows) // 3]), dict(rows[2 * len(rows) // 3])
    a["request_id"] = "DSR-2025-90001"
    a["received_at"] = "2025-02-30T09:15:00Z"
    b["request_id"] = "DSR-2025-90002"
    b["jurisdiction"] = "US-NY"
    return [
        (len(rows) // 3, a, "received_at", "bad timestamp"),
        (2 * len(rows) // 3 + 1, b, "jurisdiction", "unknown value"),
    ]
