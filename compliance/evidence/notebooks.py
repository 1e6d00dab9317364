"""The four audit notebooks executed on a database and as-of date (papermill), exported as reports: HTML
without code, with every chart a static SVG drawn at export time (vl-convert), so an auditor reads the analysis
offline, without a Python environment and without any script loaded from the internet.

People are pseudonymised as on the dashboard (same deployment key, compliance.identities) unless the caller
reveals them (`reveal_ids`, for an authorised analyst). Executed notebooks carry their own run's details
(paths), so a verifier checks these files against SHA256SUMS but does not re-derive them byte for byte.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from compliance.paths import REPO_ROOT

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["NOTEBOOKS", "executed_notebooks", "notebook_name", "report_html", "run_notebook"]

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOKS = ("dsr_audit", "retention_audit", "access_investigation", "datamap_reconciliation")
# Cells tagged so are notes for analysts working in the notebook (how CI checks it), not part of the report.
NOT_IN_REPORT = "no-report"

# nbconvert's lab template without the scripts it loads from CDNs (require.js, MathJax, Mermaid, widgets):
# the notebooks need none of them once their charts are SVG.
_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}<style>figure.chart { margin: 0.5em 0; } figure.chart svg { max-width: 100%; height: auto; }
</style>{%- endblock extra_css -%}
"""
_ALTAIR_DIV = re.compile(r'<div id="altair-viz-[^"]+"></div>')
# Polars' HTML tables quote text cells and print missing values as `null`: a reader wants the value, or nothing.
_QUOTED_CELL = re.compile(r"<td>&quot;((?:(?!</td>).)*?)&quot;</td>", re.S)
_NULL_CELL = "<td>null</td>"


def notebook_name(value: str) -> str:
    """The audit notebook named by `value` (its name, file name or path), or ValueError listing them."""
    stem = Path(value).name.removesuffix(".ipynb")
    if stem not in NOTEBOOKS:
        raise ValueError(f"{value!r} is not an audit notebook; choose one of: {', '.join(NOTEBOOKS)}")
    return stem


def run_notebook(
    name: str,
    db: Path,
    as_of: date | None,
    *,
    policy_dir: Path | str | None = None,
    reveal_ids: bool = False,
    extra: dict[str, object] | None = None,
) -> NotebookNode:
    """Execute one audit notebook (papermill) on `db` as of `as_of` (None: the data's newest date) and return it."""
    import nbformat
    import papermill

    source = NOTEBOOK_DIR / f"{notebook_name(name)}.ipynb"
    if not source.is_file():
        raise FileNotFoundError(f"notebook not found: {source}")
    params: dict[str, object] = {
        "DB": str(db.resolve()),
        "AS_OF": as_of.isoformat() if as_of else None,
        "REVEAL_IDS": reveal_ids,
    }
    if policy_dir is not None:
        params["POLICY_DIR"] = str(Path(policy_dir).resolve())
    params.update(extra or {})
    with tempfile.TemporaryDirectory(prefix="compliance-report-") as tmp:
        executed = Path(tmp) / source.name
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=params,
            kernel_name="python3",
            cwd=str(NOTEBOOK_DIR),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
        )
        return nbformat.read(executed, as_version=4)


def _chart_spec(html_text: str) -> dict[str, object] | None:
    """The Vega-Lite spec an Altair HTML output passes to vega-embed (`})({spec}, {embed options});`)."""
    body = html_text.find("function(spec, embedOpt)")
    call = html_text.find("})({", body)  # the first call after the loader: data text cannot come before it
    if not _ALTAIR_DIV.search(html_text) or body < 0 or call < 0:
        return None
    start = call + 3
    spec, _ = json.JSONDecoder().raw_decode(html_text[start:])
    return spec if isinstance(spec, dict) else None


def _chart_title(spec: dict[str, object]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(map(str, title))
    return str(title) if title else "chart"


def static_charts(nb: NotebookNode) -> int:
    """Replace every Altair chart output by the same chart drawn as inline SVG; the number replaced."""
    import vl_convert

    replaced = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            spec = _chart_spec(data.get("text/html", "")) if isinstance(data.get("text/html"), str) else None
            if spec is None:
                continue
            svg = vl_convert.vegalite_to_svg(spec)
            label = html.escape(_chart_title(spec), quote=True)
            output["data"] = {"text/html": f'<figure class="chart" role="img" aria-label="{label}">{svg}</figure>'}
            replaced += 1
    return replaced


def report_html(nb: NotebookNode) -> str:
    """An executed notebook as a self-contained HTML report: no code, no prompts, charts as SVG, no
    external script."""
    import copy

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = copy.deepcopy(nb)
    for cell in nb.cells:  # nbconvert hands a string output to the template as is; joined text is the norm
        for output in cell.get("outputs", []):
            for mime, value in output.get("data", {}).items():
                text = "".join(value) if isinstance(value, list) else value
                if mime == "text/html" and 'class="dataframe"' in text:
                    text = _QUOTED_CELL.sub(r"<td>\1</td>", text).replace(_NULL_CELL, "<td></td>")
                output["data"][mime] = text
    static_charts(nb)
    exporter = HTMLExporter(
        extra_loaders=[DictLoader({"report.html.j2": _TEMPLATE})],
        template_file="report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags={NOT_IN_REPORT}), enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def executed_notebooks(
    db: Path, as_of: date, policy_dir: Path | str | None = None, reveal_ids: bool = False
) -> tuple[dict[str, bytes], float]:
    """{`notebooks/<name>.html`: report} for every audit notebook, and the seconds it took.

    A notebook that fails stops the build: a package must not silently lack an analysis it lists."""
    missing = [n for n in NOTEBOOKS if not (NOTEBOOK_DIR / f"{n}.ipynb").is_file()]
    if missing:
        raise FileNotFoundError(f"notebook(s) not found in {NOTEBOOK_DIR}: {', '.join(missing)}")
    started = time.perf_counter()
    out = {
        f"notebooks/{name}.html": report_html(
            run_notebook(name, db, as_of, policy_dir=policy_dir, reveal_ids=reveal_ids)
        ).encode("utf-8")
        for name in NOTEBOOKS
    }
    return out, time.perf_counter() - started
