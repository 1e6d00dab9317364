"""Rebuild the stored outputs of the audit notebooks: execute each one top to bottom, in place.

    python notebooks/rebuild.py                     # every notebook, on the demo database (as CI checks them)
    python notebooks/rebuild.py dsr_audit           # just one (name with or without .ipynb)
    python notebooks/rebuild.py --param DB=/path/to/audit.duckdb --output-dir /tmp/run
                                                    # another database: writes copies, never the stored ones

The stored outputs must be those of a run with the notebooks' own parameters (the demo database, as of
2025-12-31): nbval compares them in CI (`pytest --nbval-lax --nbval-current-env notebooks/`). A run with other
parameters therefore needs --output-dir. The demo database is built on first use if it does not exist
(`compliance.demo_database.ensure_demo_database`).

Outputs are made reproducible byte for byte: no execution timings are recorded, and the random element ids of
Altair charts are renumbered per notebook. People appear as pseudonyms (as on the dashboard); the stored outputs
use a published key, STORED_OUTPUTS_KEY, so that CI anywhere computes the same pseudonyms of the synthetic demo
people (notebooks/conftest.py sets it for nbval). Runs with --output-dir use the deployment's own key
(compliance.pseudonyms), the one its dashboard uses.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from compliance.pseudonyms import KEY_ENV

NOTEBOOK_DIR = Path(__file__).resolve().parent
# Not a secret: it pseudonymises only the synthetic people of the demo database in the stored outputs.
STORED_OUTPUTS_KEY = "capantra-demo-notebooks-stored-outputs-key-not-a-secret"
_ALTAIR_ID = re.compile(r"altair-viz-([0-9a-f]{32})")


def notebooks(names: list[str] | None = None) -> list[Path]:
    """The notebooks to run: the named ones, or every notebook of this folder (sorted)."""
    if not names:
        return sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    paths = [NOTEBOOK_DIR / (n if n.endswith(".ipynb") else f"{n}.ipynb") for n in names]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"no such notebook: {', '.join(missing)}")
    return paths


def _parse_param(text: str) -> tuple[str, object]:
    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)  # numbers, None, quoted strings, lists
    except (ValueError, SyntaxError):
        return name, value  # a bare string such as a path or a date


def inject_parameters(nb: nbformat.NotebookNode, params: dict[str, object]) -> None:
    """Add a cell after the one tagged `parameters` that overrides them (as papermill does)."""
    if not params:
        return
    index = next((i for i, c in enumerate(nb.cells) if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if index is None:
        raise SystemExit("the notebook has no cell tagged 'parameters'")
    source = "# Parameters given to rebuild.py\n" + "".join(f"{k} = {v!r}\n" for k, v in params.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(index + 1, cell)


def stabilise(nb: nbformat.NotebookNode, stem: str) -> None:
    """Replace the random Altair element ids by `altair-viz-<notebook>-<n>`, n counting up through the notebook."""
    ids: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        return ids.setdefault(match.group(1), f"altair-viz-{stem}-{len(ids) + 1}")

    def walk(value: object) -> object:
        if isinstance(value, str):
            return _ALTAIR_ID.sub(rename, value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(walk(output)) for output in cell.outputs]


def execute(path: Path, output: Path, params: dict[str, object], timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    inject_parameters(nb, params)
    started = time.perf_counter()
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    client.execute()
    stabilise(nb, path.stem)
    output.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, output)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebooks to run (default: all)")
    parser.add_argument("--param", "-p", action="append", type=_parse_param, default=[], metavar="NAME=VALUE")
    parser.add_argument("--output-dir", type=Path, help="write executed copies here instead of in place")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one cell may run (default 1800)")
    args = parser.parse_args(argv)
    params = dict(args.param)
    if params and args.output_dir is None:
        parser.error("--param changes the results: give --output-dir so the stored outputs stay those of the demo")
    if args.output_dir is None:  # the stored outputs: the kernels inherit the published demo key
        os.environ[KEY_ENV] = STORED_OUTPUTS_KEY
    for path in notebooks(args.names):
        output = path if args.output_dir is None else args.output_dir / path.name
        seconds = execute(path, output, params, args.timeout)
        print(f"{path.name}: executed in {seconds:.0f} s -> {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
