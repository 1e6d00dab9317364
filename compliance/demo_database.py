"""The bundled demo: a deterministic export generated and ingested on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from compliance.paths import DEMO_DB, DEMO_EXPORT, DEMO_SCALE, DEMO_SEED, DEMO_TRUTH

_checked: set[Path] = set()  # databases already compared with this version's tables in this process


def _lacks_tables(db: Path) -> bool:
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()
    from compliance.ingest.tables import expected_tables

    return not expected_tables() <= names  # a table this version creates is missing: built by older code


def ensure_demo_database(db: Path = DEMO_DB, log: Callable[[str], None] = print) -> Path:
    """Return the demo database, generating the export and ingesting it if it does not exist yet.

    A demo database left by an older checkout is brought up to date once per process: ingesting the
    same export again loads nothing new but adds the derived tables and findings it lacks.
    """
    export = DEMO_EXPORT if db == DEMO_DB else db.with_suffix("") / "export"
    if db.exists():
        if db not in _checked:
            _checked.add(db)
            if export.exists() and _lacks_tables(db):
                from compliance.ingest.load import ingest

                log(f"updating {db}, built by an older version...")
                ingest([export], db)
        return db
    from compliance.demo import generate_demo
    from compliance.ingest.load import ingest

    truth = DEMO_TRUTH if db == DEMO_DB else export.with_name("export.truth.jsonl")
    if not export.exists():
        log(f"generating the demo export in {export} (seed {DEMO_SEED}, {DEMO_SCALE:,} audit events)...")
        generate_demo(export, seed=DEMO_SEED, scale=DEMO_SCALE, truth_path=truth)
    log(f"ingesting it into {db}...")
    ingest([export], db)
    _checked.add(db)
    return db
