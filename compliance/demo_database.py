"""The bundled demo: a deterministic export generated and ingested on first use."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from compliance.paths import DEMO_DB, DEMO_EXPORT, DEMO_SCALE, DEMO_SEED, DEMO_TRUTH

_checked: set[Path] = set()  # databases already compared with this version's tables in this process


def _lacks_tables(db: Path) -> bool:
    """True when a table or column this version creates is missing: the database was built by older code."""
    from compliance.audit_database import connect_read_only, schema_gaps

    with connect_read_only(db) as con:
        return bool(schema_gaps(con))


@contextlib.contextmanager
def _build_lock(db: Path) -> Iterator[None]:
    """One build of a demo database at a time: test workers and servers started together on a fresh checkout
    would otherwise ingest an export another process is still writing, and publish different databases."""
    db.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(db.with_name(f".{db.name}.build.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # wait for the other build, then use what it made
        yield
    finally:
        os.close(fd)  # closing releases the lock


def ensure_demo_database(db: Path = DEMO_DB, log: Callable[[str], None] = print) -> Path:
    """Return the demo database, generating the export and ingesting it if it does not exist yet.

    A demo database left by an older checkout is brought up to date once per process: ingesting the
    same export again loads nothing new but adds the derived tables and findings it lacks.
    """
    export = DEMO_EXPORT if db == DEMO_DB else db.with_suffix("") / "export"
    # Current: built, and either compared with this version's tables already or found to have them all.
    current = db.exists() and (db in _checked or not (export.exists() and _lacks_tables(db)))
    if not current:
        with _build_lock(db):
            _build(db, export, log)
    _checked.add(db)
    return db


def _build(db: Path, export: Path, log: Callable[[str], None]) -> None:
    from compliance.ingest.load import ingest

    if db.exists():
        if _lacks_tables(db):  # checked again under the lock: another process may have updated it meanwhile
            log(f"updating {db}, built by an older version...")
            ingest([export], db)
        return
    if not export.exists():
        from compliance.demo import generate_demo

        truth = DEMO_TRUTH if export == DEMO_EXPORT else export.with_name("export.truth.jsonl")
        log(f"generating the demo export in {export} (seed {DEMO_SEED}, {DEMO_SCALE:,} audit events)...")
        # Written aside and renamed when whole: a build killed halfway never leaves a partial export behind.
        partial = export.with_name(f"{export.name}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        generate_demo(partial, seed=DEMO_SEED, scale=DEMO_SCALE, truth_path=truth)
        partial.rename(export)
    log(f"ingesting it into {db}...")
    ingest([export], db)
