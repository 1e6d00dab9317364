"""The rare path of a vendor line (or document) that is not UTF-8 text, or too long: keep every event that is intact.

DuckDB's line reader skips a line holding bytes that are not UTF-8 (and names it); this module reads that
line again in Python. A JSON Lines event holding such bytes is one reject with its line. A line that is a
whole document (a CloudTrail delivery file `{"Records": [...]}` is often one line, an Okta page a JSON
array) is decoded with the bad bytes kept aside (`surrogateescape`): when it still parses as JSON, every
event of its array that holds none of them is kept and loads as usual, and each event that holds one is a
reject naming its position; when it does not parse, the whole line is one reject. Nothing is repaired or
guessed: a value with a bad byte is never loaded with a replacement character.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from compliance.ingest.readers import MAX_RECORD_BYTES, NOT_UTF8

_BAD_BYTE = re.compile("[\udc80-\udcff]")  # what `surrogateescape` turns an undecodable byte into


@dataclass(frozen=True)
class Salvaged:
    """What a line with bad bytes still holds: the document without its damaged events (JSON text, or
    None when nothing is left), and a (reason, raw text) per event or line that cannot be loaded."""

    doc: str | None
    rejects: list[tuple[str, str]]


def shown(text: str, limit: int) -> str:
    """Text for a reject: the undecodable bytes written as `\\xNN`, at most `limit` characters."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")[:limit]


def _events_of(value: object, envelopes: tuple[str, ...]) -> tuple[str | None, list[object] | None]:
    """(envelope key or '' for a bare array, its events) when the value wraps events; (None, None) otherwise."""
    if isinstance(value, list):
        return "", value
    if isinstance(value, dict):
        for key in envelopes:
            if isinstance(value.get(key), list):
                return key, value[key]
    return None, None


def salvage(raw: bytes, envelopes: tuple[str, ...], limit: int, why: str = NOT_UTF8) -> Salvaged:
    """Split a line (or whole document) that the reader skipped into what can load and what is a reject: `why`
    it skipped the line, the reason of a whole-line reject (not UTF-8, or longer than it takes)."""
    text = raw.decode("utf-8", "surrogateescape").strip()
    whole = NOT_UTF8 if _BAD_BYTE.search(text) else f"unreadable line: {why}" if why != NOT_UTF8 else why
    try:
        value = json.loads(text)
    except ValueError:
        return Salvaged(None, [(whole, shown(text, limit))])
    key, events = _events_of(value, envelopes)
    if events is None and whole != NOT_UTF8 and len(raw) <= MAX_RECORD_BYTES:
        return Salvaged(text, [])  # one event, intact, only longer than the reader took under a small memory limit
    if events is None:  # one event: it holds the bad bytes, or is longer than any record may be
        return Salvaged(None, [(whole, shown(text, limit))])
    where = f"{key}[]" if key else "the array"
    kept: list[object] = []
    rejects: list[tuple[str, str]] = []
    for i, event in enumerate(events, start=1):
        event_text = json.dumps(event, ensure_ascii=False)
        if _BAD_BYTE.search(event_text):
            rejects.append((f"unreadable event {i} of {where}: not UTF-8 text", shown(event_text, limit)))
        else:
            kept.append(event)
    rest: object = kept if not key else {**value, key: kept}  # type: ignore[dict-item]
    rest_text = json.dumps(rest, ensure_ascii=False)
    if _BAD_BYTE.search(rest_text):  # bad bytes outside the events (in the envelope): nothing else is trusted
        return Salvaged(None, [(NOT_UTF8, shown(text, limit))])
    return Salvaged(rest_text if kept else None, rejects)
