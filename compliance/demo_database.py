"""The bundled demo: a deterministic export generated and ingested on first use."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from compliance.paths import DEMO_DB, DEMO_EXPORT, DEMO_SCALE, DEMO_SEED, DEMO_TRUTH


def ensure_demo_database(db: Path = DEMO_DB, log: Callable[[str], None] = print) -> Path:
    """Return the demo database, generating the export and ingesting it if it does not exist yet."""
    if db.exists():
        return db
    from compliance.demo import generate_demo
    from compliance.ingest.load import ingest

    export = DEMO_EXPORT if db == DEMO_DB else db.with_suffix("") / "export"
    truth = DEMO_TRUTH if db == DEMO_DB else export.with_name("export.truth.jsonl")
    if not export.exists():
        log(f"generating the demo export in {export} (seed {DEMO_SEED}, {DEMO_SCALE:,} audit events)...")
        generate_demo(export, seed=DEMO_SEED, scale=DEMO_SCALE, truth_path=truth)
    log(f"ingesting it into {db}...")
    ingest([export], db)
    return db
