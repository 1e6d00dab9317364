"""Who may be named where: the people in a result (actors, subjects, IP addresses) shown as their keyed
pseudonyms (compliance.pseudonyms), or as themselves when an authorised viewer reveals them.

One class for every surface that shows people, so an id on the dashboard, in a notebook, in its exported
report and in a notification is the same pseudonym for the same person under one deployment key, and the
surfaces can be cross-referenced without naming anyone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import polars as pl

from compliance.pseudonyms import (
    IP_PREFIX,
    is_pseudonym,
    mask_raw_text,
    phrase_ids,
    pseudonymise,
    redact_phrases,
    redact_text,
)

if TYPE_CHECKING:
    import duckdb

__all__ = ["ACTOR_PREFIX", "SUBJECT_PREFIX", "Identities"]

ACTOR_PREFIX, SUBJECT_PREFIX = "A-", "S-"
# `actor:<id>[@<day>]` and `subject:<id>` in prose (a dot only inside the id, so a full stop stays out; an
# `@` inside too, for e-mail ids such as `actor:jane@example.com@2025-01-31`).
_RESOURCE_KEY = re.compile(r"\b(?:actor|subject):[\w+-]+(?:[.@][\w+-]+)*")
# The day that ends a daily resource key: after the last `@`, and only a date (an e-mail id has its own `@`).
_KEY_DAY = re.compile(r"(?P<id>.+)@(?P<day>\d{4}-\d{2}-\d{2})")


def split_key_day(rest: str) -> tuple[str, str]:
    """`<id>@<day>` -> (id, '@<day>'); anything else -> (itself, '')."""
    m = _KEY_DAY.fullmatch(rest)
    return (m["id"], f"@{m['day']}") if m else (rest, "")


@dataclass(frozen=True)
class Identities:
    """Which words are actor or subject ids, and whether to show them (`reveal`) or their pseudonyms."""

    kinds: Mapping[str, str] = field(default_factory=dict)  # id -> pseudonym prefix
    reveal: bool = False

    @classmethod
    def from_frame(cls, known: pl.DataFrame, reveal: bool = False) -> Identities:
        prefix = {"actor": ACTOR_PREFIX, "subject": SUBJECT_PREFIX}
        return cls({i: prefix[k] for k, i in known.select("kind", "id").iter_rows()}, reveal)

    @classmethod
    def from_database(cls, con: duckdb.DuckDBPyConnection, reveal: bool = False) -> Identities:
        """Every actor and subject id the database knows (the `known_identifiers` query)."""
        from compliance.queries import run_query

        return cls.from_frame(run_query(con, "known_identifiers"), reveal)

    def lookup(self, value: str) -> str:
        """The id that `value` names: the value itself when it is a known id (or when nothing is pseudonymised),
        else the known id whose pseudonym it is, so a pseudonym copied from the dashboard selects that person;
        ValueError when it is neither."""
        if value in self.kinds:
            return value
        matches = [i for i, prefix in self.kinds.items() if pseudonymise(i, prefix=prefix) == value]
        if not matches:
            raise ValueError(f"{value!r} is neither a known id nor the pseudonym of one under this deployment's key")
        return matches[0]

    def say(self, *parts: object, sep: str = " ") -> None:
        """`print`, with every known id and IP address in the text pseudonymised (unless revealed)."""
        print(self.text(sep.join(map(str, parts))))

    def actor(self, actor_id: str | None) -> str | None:
        return actor_id if self.reveal else pseudonymise(actor_id, prefix=ACTOR_PREFIX)

    def subject(self, subject_id: str | None) -> str | None:
        return subject_id if self.reveal else pseudonymise(subject_id, prefix=SUBJECT_PREFIX)

    def text(self, text: str | None) -> str | None:
        """Known ids and IP addresses in `text` replaced by their pseudonyms; an `actor:<id>` or `subject:<id>`
        resource key named in the text by the pseudonym of its kind, as the findings tables show it."""
        if self.reveal or not text:
            return text
        # Ids that are not one word first: `actor:<id>` would otherwise take only the id's first word.
        whole = redact_phrases(text, self.kinds, self._phrases)
        keyed = _RESOURCE_KEY.sub(lambda m: self.resource(m.group(0)) or m.group(0), whole)
        return redact_text(keyed, self.kinds, phrases=None)

    def raw(self, text: str | None) -> str | None:
        """A raw export line: known ids, IP and e-mail addresses and any id-like token masked."""
        return text if self.reveal else mask_raw_text(text, self.kinds, phrases=self._phrases)

    @cached_property
    def _phrases(self) -> re.Pattern[str] | None:
        """The known ids that are not one word (`phrase_ids`), found once for every text this object redacts."""
        return phrase_ids(self.kinds)

    def ip(self, address: str | None) -> str | None:
        return address if self.reveal else pseudonymise(address, prefix=IP_PREFIX)

    def word(self, value: str | None) -> str | None:
        """One id-like value (an evidence item): its pseudonym if it is a known id, else itself."""
        if self.reveal or value is None or value not in self.kinds:
            return value
        return pseudonymise(value, prefix=self.kinds[value])

    def resource(self, resource: str | None) -> str | None:
        """`actor:<id>@<date>`, `subject:<id>` and `ip:<address>` keys pseudonymised; others as they are."""
        if self.reveal or resource is None or ":" not in resource:
            return resource
        kind, rest = resource.split(":", 1)
        ident, day = split_key_day(rest)
        if is_pseudonym(ident):  # already shown as a pseudonym (text that was redacted once)
            return resource
        if kind == "actor":
            return f"actor:{self.actor(ident)}{day}"
        if kind == "subject":
            return f"subject:{self.subject(rest)}"
        if kind == "ip":
            return f"ip:{self.ip(ident)}{day}"
        return resource

    def column(self, frame: pl.DataFrame, name: str, how: str) -> pl.DataFrame:
        """`frame` with column `name` mapped through `actor`, `subject`, `text` or `resource`."""
        if name not in frame.columns or self.reveal:
            return frame
        fn = getattr(self, how)
        memo: dict[str | None, str | None] = {}  # reasons repeat: redact each distinct one once
        values = [memo[v] if v in memo else memo.setdefault(v, fn(v)) for v in frame[name].to_list()]
        return frame.with_columns(pl.Series(name, values, dtype=pl.String))

    def findings(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Findings with resources, reasons and evidence ids pseudonymised."""
        if self.reveal or frame.height == 0:
            return frame
        out = self.column(self.column(frame, "resource", "resource"), "reason", "text")
        if "evidence" in out.columns:
            evidence = [[self.word(e) for e in (ev or [])] for ev in out["evidence"].to_list()]
            out = out.with_columns(pl.Series("evidence", evidence, dtype=pl.List(pl.String)))
        return out

    def frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Any result with every known id and IP address in its text cells (and lists of text) pseudonymised,
        whatever the column is called: for tables a notebook shows, where a missed column would name someone."""
        if self.reveal or frame.height == 0:
            return frame
        out = frame
        for name, dtype in frame.schema.items():
            if dtype == pl.String:
                out = self.column(out, name, "text")
            elif dtype == pl.List(pl.String):
                values = [[self.text(v) for v in (vs or [])] for vs in out[name].to_list()]
                out = out.with_columns(pl.Series(name, values, dtype=pl.List(pl.String)))
        return out
