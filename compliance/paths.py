"""Where the repository keeps things (the package is installed editable from the checkout)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = Path(os.environ.get("COMPLIANCE_DEMO_DIR", REPO_ROOT / "data" / "demo"))
DEMO_EXPORT = DEMO_DIR / "export"
DEMO_TRUTH = DEMO_DIR / "export.truth.jsonl"
DEMO_DB = DEMO_DIR / "demo.duckdb"
DEMO_SEED = 7
DEMO_SCALE = 200_000
