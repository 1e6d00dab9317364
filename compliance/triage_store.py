"""The triage store: a small writable SQLite file beside the audit database.

The audit database is read-only for its readers and replaced whole by every ingest (a fresh copy
published by rename), so what people and runs add over time lives beside it, in
`<database>.triage.sqlite`, and survives every re-ingest:

- `triage_events`: every change of a finding's triage state, appended with who and when (triggers
  refuse UPDATE and DELETE, so the log is append-only);
- `runs` and `run_findings`: each recorded run (ingest or `check --record`) with its as-of date, its
  digests and its findings other than `ok` (the history);
- `notifications_sent`: what `compliance notify` delivered, per channel, so nothing is sent twice.

SQLite rather than DuckDB: the dashboard's sessions and the CLI write here concurrently, and DuckDB
lets one process hold a file for writing while others cannot even read it.
"""

from __future__ import annotations

import getpass
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["cli_actor", "connect", "read", "store_path", "utc_now"]

SUFFIX = ".triage.sqlite"  # the dashboard records changes under the signed-in account (dashboard.auth)

_SCHEMA = """
create table if not exists triage_events (
    event_id integer primary key autoincrement,
    control_id text not null,
    resource text not null,
    state text not null,
    assignee text,
    note text not null,
    changed_by text not null,
    changed_at text not null            -- RFC 3339 UTC
);
create index if not exists triage_events_finding on triage_events (control_id, resource, event_id);
create trigger if not exists triage_events_no_update before update on triage_events
begin select raise(abort, 'triage_events is append-only'); end;
create trigger if not exists triage_events_no_delete before delete on triage_events
begin select raise(abort, 'triage_events is append-only'); end;

create table if not exists runs (
    run_id integer primary key autoincrement,
    recorded_at text not null,           -- RFC 3339 UTC, when the run was recorded
    as_of text not null,                 -- ISO date the controls were evaluated for
    source text not null,                -- 'ingest' or 'check'
    database text not null,
    policy_digest text not null,
    controls_digest text not null,       -- over every control's SQL digest
    findings_digest text not null,       -- SHA-256 of the findings as `check --format jsonl` writes them
    findings integer not null,
    alarms integer not null,
    suppressed integer not null,
    errors integer not null
);
create table if not exists run_findings (
    run_id integer not null references runs (run_id),
    control_id text not null,
    resource text not null,
    status text not null,
    severity text not null,
    reason text,
    observed_at text
);
create index if not exists run_findings_run on run_findings (run_id);

create table if not exists notifications_sent (
    channel text not null,
    kind text not null,
    item_key text not null,
    sent_at text not null,
    as_of text,
    primary key (channel, kind, item_key)
);
"""


def store_path(db: Path | str) -> Path:
    """`audit.duckdb` -> `audit.duckdb.triage.sqlite`, in the same folder."""
    db = Path(db)
    return db.with_name(db.name + SUFFIX)


@contextmanager
def connect(db: Path | str) -> Iterator[sqlite3.Connection]:
    """A writable connection to the triage store of audit database `db` (created on first use);
    commits on success, rolls back on any error."""
    con = sqlite3.connect(store_path(db), timeout=30)
    try:
        con.execute("pragma journal_mode = wal")  # readers never block the writer, nor it them
        con.executescript(_SCHEMA)
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


@contextmanager
def read(db: Path | str) -> Iterator[sqlite3.Connection | None]:
    """A read-only connection to the store, or None when there is none yet: a reader (the dashboard,
    `triage list`, `history`) never creates the file and works where it may not write."""
    path = store_path(db)
    if not path.exists():
        yield None
        return
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        yield con
    finally:
        con.close()


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cli_actor(by: str | None = None) -> str:
    """Who runs the CLI: `--by` when given, else the operating-system user."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"
