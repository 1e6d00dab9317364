"""Where the package finds its folders: the SQL catalog, the policy-as-code bundle and the demo data.

`queries/` and `data/policy/` live at the top of the source checkout (other tools, Spark and the
evidence package read them there). A wheel ships them as package data inside the package
(pyproject.toml maps them to `compliance/_queries` and `compliance/_policy`), so `pip install .`
works from any directory; `shipped_folder` is the one place that knows both layouts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent

# Folder name inside an installed package -> folder in the source checkout.
_SHIPPED = {"queries": ("_queries", Path("queries")), "policy": ("_policy", Path("data") / "policy")}


def shipped_folder(name: Literal["queries", "policy"]) -> Path:
    """The SQL catalog or the default policy folder: the installed copy if there is one, else the checkout's."""
    inside, in_checkout = _SHIPPED[name]
    installed = PACKAGE_DIR / inside
    return installed if installed.is_dir() else REPO_ROOT / in_checkout


QUERY_DIR = shipped_folder("queries")
POLICY_DIR = shipped_folder("policy")

DEMO_DIR = Path(os.environ.get("COMPLIANCE_DEMO_DIR", REPO_ROOT / "data" / "demo"))
DEMO_EXPORT = DEMO_DIR / "export"
DEMO_TRUTH = DEMO_DIR / "export.truth.jsonl"
DEMO_DB = DEMO_DIR / "demo.duckdb"
DEMO_SEED = 7
DEMO_SCALE = 200_000
