"""The four audit notebooks executed on the package's database and as-of date (papermill), exported as
HTML without code (nbconvert), so an auditor reads the analysis without a Python environment.

Executed notebooks carry their own run's details (paths, chart element ids), so a verifier checks these
files against SHA256SUMS but does not re-derive them byte for byte.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import date
from pathlib import Path

from compliance.paths import REPO_ROOT

__all__ = ["NOTEBOOKS", "executed_notebooks"]

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = ("dsr_audit", "retention_audit", "access_investigation", "datamap_reconciliation")


def _html(path: Path) -> bytes:
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    return body.encode("utf-8")


def executed_notebooks(db: Path, as_of: date, policy_dir: Path | str | None = None) -> tuple[dict[str, bytes], float]:
    """{`notebooks/<name>.html`: HTML} for every audit notebook, and the seconds it took.

    A notebook that fails stops the build: a package must not silently lack an analysis it lists."""
    import papermill

    missing = [n for n in NOTEBOOKS if not (NOTEBOOK_DIR / f"{n}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found in {NOTEBOOK_DIR}: {', '.join(missing)}")
    params = {"DB": str(db.resolve()), "AS_OF": as_of.isoformat()}
    if policy_dir is not None:
        params["POLICY_DIR"] = str(Path(policy_dir).resolve())
    started = time.perf_counter()
    out: dict[str, bytes] = {}
    # papermill cannot parse the parameter cell's trailing comments and warns that DB and AS_OF are
    # "unknown"; it injects them all the same (the HTML states the database and date), so quiet it.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="evidence-notebooks-") as tmp:
        for name in NOTEBOOKS:
            executed = Path(tmp) / f"{name}.ipynb"
            papermill.execute_notebook(
                str(NOTEBOOK_DIR / f"{name}.ipynb"),
                str(executed),
                parameters=params,
                kernel_name="python3",
                cwd=str(NOTEBOOK_DIR),
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
            )
            out[f"notebooks/{name}.html"] = _html(executed)
    return out, time.perf_counter() - started
