"""The dashboard's access log: who signed in, viewed, revealed, downloaded or was refused what, and when.

An append-only JSON Lines file outside the read-only audit database (`COMPLIANCE_ACCESS_LOG`, else
`<database>.access-log.jsonl` beside it), created with mode 0600. Each row carries the SHA-256 of
the previous row and its own (`prev_hash`, `hash`), so an edited, removed or re-ordered row breaks
the chain that `verify_chain` checks. Rows name people by their account; identifiers of data
subjects never enter the log in clear (a reveal records the pseudonym it revealed).

`review` evaluates the log in the catalog's style (compliance/access_log_review.sql): reveals or
real-id downloads by someone without the role are `alarm` (the dashboard refuses them, so one
means the log or the dashboard was tampered with), and bulk real-id downloads are flagged.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from compliance.queries import Query, parse_query, run_query

__all__ = ["EVENTS", "LOG_SCHEMA", "AccessLog", "log_path_for", "read_log", "recent_failures", "review", "verify_chain"]

LOG_ENV = "COMPLIANCE_ACCESS_LOG"
EVENTS = ("sign_in", "sign_in_failed", "sign_out", "page_view", "reveal", "download", "refusal", "triage")
GENESIS = "0" * 64
LOG_SCHEMA = {
    "at": pl.Datetime("us"),
    "user": pl.String,
    "method": pl.String,
    "roles": pl.List(pl.String),
    "event": pl.String,
    "page": pl.String,
    "what": pl.String,
    "real_ids": pl.Boolean,
    "rows": pl.Int64,
    "detail": pl.String,
    "prev_hash": pl.String,
    "hash": pl.String,
}
REVIEW_QUERY = Path(__file__).with_name("access_log_review.sql")


def log_path_for(database: Path | str) -> Path:
    """`COMPLIANCE_ACCESS_LOG`, else `<database>.access-log.jsonl` beside the audit database."""
    env = os.environ.get(LOG_ENV)
    return Path(env) if env else Path(f"{database}.access-log.jsonl")


def _row_hash(prev: str, body: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev + json.dumps(body, sort_keys=True, ensure_ascii=False)).encode("utf-8")).hexdigest()


def _last_hash(fd: int) -> str:
    """The `hash` of the file's last row (the file is locked by the caller)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return GENESIS
    chunk = min(size, 65536)
    os.lseek(fd, size - chunk, os.SEEK_SET)
    tail = os.read(fd, chunk).rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        return json.loads(tail)["hash"]
    except (ValueError, KeyError):
        return GENESIS  # a damaged last row: the chain check names it


@dataclass(frozen=True)
class AccessLog:
    path: Path

    def append(
        self,
        user: str,
        event: str,
        *,
        method: str = "",
        roles: Iterable[str] = (),
        page: str | None = None,
        what: str | None = None,
        real_ids: bool = False,
        rows: int | None = None,
        detail: Mapping[str, Any] | None = None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """Append one row (under an exclusive lock, so concurrent sessions never interleave) and return it."""
        if event not in EVENTS:
            raise ValueError(f"unknown access-log event {event!r}")
        body = {
            "at": (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "user": user,
            "method": method,
            "roles": sorted(roles),
            "event": event,
            "page": page,
            "what": what,
            "real_ids": real_ids,
            "rows": rows,
            "detail": json.dumps(dict(detail), sort_keys=True, default=str) if detail else None,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            prev = _last_hash(fd)
            row = body | {"prev_hash": prev, "hash": _row_hash(prev, body)}
            os.write(fd, (json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock
        return row


def read_log(path: Path) -> pl.DataFrame:
    """Every row of the log, oldest first (an absent log is empty)."""
    if not path.exists() or path.stat().st_size == 0:
        return pl.DataFrame(schema=LOG_SCHEMA)
    con = duckdb.connect()
    try:
        columns = {
            "at": "TIMESTAMP",
            "user": "VARCHAR",
            "method": "VARCHAR",
            "roles": "VARCHAR[]",
            "event": "VARCHAR",
            "page": "VARCHAR",
            "what": "VARCHAR",
            "real_ids": "BOOLEAN",
            "rows": "BIGINT",
            "detail": "VARCHAR",
            "prev_hash": "VARCHAR",
            "hash": "VARCHAR",
        }
        rel = con.sql(
            "select * from read_json($p, format = 'newline_delimited', columns = $c, ignore_errors = true)",
            params={"p": glob.escape(str(path)), "c": columns},
        )
        return rel.pl().cast(LOG_SCHEMA)
    finally:
        con.close()


def recent_failures(path: Path, user: str, minutes: int = 15, now: datetime | None = None) -> int:
    """Failed sign-ins of `user` in the last `minutes` (a lockout counts them)."""
    log = read_log(path)
    since = (now or datetime.now(UTC)).replace(tzinfo=None) - timedelta(minutes=minutes)
    return log.filter((pl.col("event") == "sign_in_failed") & (pl.col("user") == user) & (pl.col("at") >= since)).height


def verify_chain(path: Path) -> list[int]:
    """Line numbers (1-based) whose row is damaged or does not follow the previous row's hash."""
    broken, prev = [], GENESIS
    if not path.exists():
        return broken
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, start=1):
            try:
                row = json.loads(line)
                body = {k: v for k, v in row.items() if k not in ("prev_hash", "hash")}
                ok = row["prev_hash"] == prev and row["hash"] == _row_hash(prev, body)
                prev = row["hash"]
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                broken.append(n)
    return broken


def _review_query() -> Query:
    return parse_query(REVIEW_QUERY)


def review(log: pl.DataFrame, as_of: date, bulk_rows: int = 1000, window_hours: int = 24) -> pl.DataFrame:
    """The review control's findings (contract section 4 columns) over `log` up to the end of `as_of`."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'").fetchall()
        # A table, not a registered view: run_query works on a cursor, which sees tables only.
        con.register("_log", log.to_arrow())
        con.execute("create table dashboard_access_log as select * from _log").fetchall()
        con.unregister("_log")
        return run_query(
            con, _review_query(), {"as_of": as_of, "bulk_real_id_rows": bulk_rows, "bulk_window_hours": window_hours}
        )
    finally:
        con.close()
