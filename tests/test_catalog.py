"""The control catalog (compliance.catalog): complete for every control, strict about missing parts, and the
one source every registry derives from (pages, page_for, the access detectors, the README's control table, the
notebooks' control lists)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.catalog import PAGES, CatalogError, Control, load_catalog, plain_text
from compliance.queries import QUERY_DIR

REPO = Path(__file__).resolve().parents[1]
HEADER_FIELDS = ("control_id", "section", "severity", "description", "requires")
CATALOG = load_catalog()


def missing_parts(control: Control, repo: Path = REPO) -> list[str]:
    """What a control lacks, in words; empty when it is complete. The sidecar's own fields are checked
    by the loader; these are the parts that live elsewhere in the repository."""
    missing = [f"header field {name}" for name in HEADER_FIELDS if not getattr(control.query, name)]
    test_file = repo / "tests" / f"test_control_{control.name}.py"
    if not test_file.is_file():
        missing.append(f"test file {test_file.relative_to(repo)}")
    elif control.name not in test_file.read_text(encoding="utf-8"):
        missing.append(f"a run of {control.name} in {test_file.relative_to(repo)}")
    if not (repo / "dashboard" / control.page.path).is_file():
        missing.append(f"page file dashboard/{control.page.path}")
    if not control.notebooks:
        missing.append("a notebook that audits it")
    for name in control.notebooks:
        path = repo / "notebooks" / f"{name}.ipynb"
        if not path.is_file():
            missing.append(f"notebook notebooks/{name}.ipynb")
        elif not _audits(path, name, control.id):
            missing.append(f"its line among the controls notebooks/{name}.ipynb audits (rebuild the notebook)")
    return missing


def _audits(path: Path, name: str, control_id: str) -> bool:
    """The notebook takes its controls from the catalog (`notebook_controls("<name>")`) and its stored run
    names this control among them (every notebook prints "Controls audited here (...): <ids>.")."""
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    code = "".join("".join(c["source"]) for c in cells)
    printed = "".join("".join(o.get("text", "")) for c in cells for o in c.get("outputs", []))
    audited = [line for line in printed.splitlines() if line.startswith("Controls audited here (")]
    listed = audited[0].partition("): ")[2].rstrip(".").split(", ") if audited else []
    return f'notebook_controls("{name}")' in code and control_id in listed


@pytest.mark.parametrize("control_id", list(CATALOG))
def test_every_control_has_every_part(control_id: str, policy) -> None:
    control = CATALOG[control_id]
    assert missing_parts(control) == []
    assert set(control.settings) <= set(policy.parameters()), "a setting the policy does not have"
    assert control.title != control.id and control.all_clear and control.demo


def test_the_catalog_covers_every_control_file() -> None:
    sql = {p.stem for p in (QUERY_DIR / "controls").glob("*.sql")}
    assert {c.name for c in CATALOG.values()} == sql
    assert len(CATALOG) >= 28


def test_a_control_without_a_test_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    shutil.copytree(REPO / "dashboard", tmp_path / "dashboard", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    assert missing_parts(CATALOG["dsr.overdue"], tmp_path) == ["test file tests/test_control_dsr_overdue.py"]


# --- the loader refuses an incomplete or inconsistent control (table-driven) ---------------------------


def _replace(name: str, old: str, new: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        path = folder / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return change


def _copy_as(name: str) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        for suffix in (".sql", ".yml"):
            shutil.copy(folder / f"dsr_overdue{suffix}", folder / f"{name}{suffix}")
        _replace(f"{name}.sql", "-- name: dsr_overdue", f"-- name: {name}")(folder)
        _replace(f"{name}.sql", "-- control: dsr.overdue", "-- control: dsr.overdue_copy")(folder)
        _replace(f"{name}.yml", "name: dsr_overdue", f"name: {name}")(folder)

    return change


BROKEN = {
    "no sidecar": (lambda folder: (folder / "dsr_overdue.yml").unlink(), "no sidecar dsr_overdue.yml"),
    "sidecar without query": (lambda folder: (folder / "dsr_overdue.sql").unlink(), "no control query"),
    "header without control id": (_replace("dsr_overdue.sql", "-- control: dsr.overdue\n", ""), "no control query"),
    "no title": (_replace("dsr_overdue.yml", "    title: Request past its deadline\n", ""), "title"),
    "no page": (_replace("dsr_overdue.yml", "    page: dsr\n", ""), "page"),
    "no demo story": (_replace("dsr_overdue.yml", "    demo:", "    demo_story:"), "demo"),
    "unknown page": (_replace("dsr_overdue.yml", "page: dsr", "page: dsrs"), "no dashboard page 'dsrs'"),
    "summary page": (_replace("dsr_overdue.yml", "page: dsr", "page: overview"), "summarises every control"),
    "parameter in title": (_replace("dsr_overdue.yml", "its deadline", "$as_of"), "no $parameter"),
    "id in all-clear text": (_replace("dsr_overdue.yml", "No open request", "No dsr.overdue request"), "control id"),
    "name of another file": (_replace("dsr_overdue.yml", "name: dsr_overdue", "name: dsr_late"), "names 'dsr_late'"),
    "sweep of a setting not read": (
        _replace(
            "dsr_overdue.yml",
            "    notebooks:",
            "    sweep:\n      - {setting: x, values: [1, 2], meaning: abc}\n    notebooks:",
        ),
        "sweeps ['x']",
    ),
    "two controls, one title": (_copy_as("dsr_overdue_copy"), "used by more than one control"),
    "not YAML": (_replace("dsr_overdue.yml", "version: 2", "version: [2"), "dsr_overdue.yml"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_loader_names_what_is_missing_or_wrong(case: str, tmp_path: Path) -> None:
    folder = tmp_path / "controls"
    folder.mkdir()
    for suffix in (".sql", ".yml"):
        shutil.copy(QUERY_DIR / "controls" / f"dsr_overdue{suffix}", folder / f"dsr_overdue{suffix}")
    assert list(load_catalog(tmp_path)) == ["dsr.overdue"]  # the copy itself is complete
    change, message = BROKEN[case]
    change(folder)
    with pytest.raises(CatalogError) as err:
        load_catalog(tmp_path)
    assert message in str(err.value)


# --- registries derived from it ------------------------------------------------------------------------


def test_the_page_registry_is_every_view_file() -> None:
    assert {p.path for p in PAGES} == {f"views/{p.name}" for p in (REPO / "dashboard" / "views").glob("*.py")}
    assert len({p.title for p in PAGES}) == len(PAGES)


def test_page_for_and_page_control_lists_follow_the_catalog() -> None:
    from dashboard.format import PAGE_TITLES, page_for

    assert list(PAGE_TITLES) == [p.path for p in PAGES]
    for control_id, control in CATALOG.items():
        assert page_for(control_id) == control.page.path
        assert control_id in CATALOG.ids_on_page(control.page.key)
    assert page_for("unknown.control") == "views/overview.py"
    on_pages = [c for p in PAGES if not p.summary for c in CATALOG.ids_on_page(p.key)]
    assert sorted(on_pages) == sorted(CATALOG), "every control on exactly one topic page"


def test_access_detectors_are_the_catalog_sweeps() -> None:
    from compliance.investigation import ACCESS_DETECTORS

    expected = [(c.name, s.setting) for c in CATALOG.on_page("access") for s in c.sweep]
    assert [(d.query, d.parameter) for d in ACCESS_DETECTORS] == expected
    assert len(expected) >= 6
    for detector in ACCESS_DETECTORS:
        assert detector.control_id == CATALOG[detector.control_id].id


def test_descriptions_for_people_carry_no_parameter_syntax(policy) -> None:
    settings = policy.parameters()
    for control_id in CATALOG:
        text = CATALOG.description(control_id, settings)
        assert "$" not in text, control_id
        assert not any(other in text for other in CATALOG), control_id
    assert '"Request past its deadline"' in CATALOG.description("dsr.due_soon", settings)
    assert plain_text("open as of $as_of, due within $dsr_due_soon_days days", {"dsr_due_soon_days": 7}) == (
        "open as of the as-of date, due within 7 days"
    )
    assert plain_text("above $x_limit", None) == "above the x limit setting"


def test_titles_replace_ids_in_tables() -> None:
    import polars as pl

    from dashboard.format import table

    frame = pl.DataFrame({"control_id": ["dsr.overdue", "gone.control"], "note": [None, "x"]})
    shown = table(frame, {"control_id": "Control", "note": "Note"})
    assert shown.columns == ["Control", "Note", "Control id"]
    assert shown.rows() == [("Request past its deadline", "", "dsr.overdue"), ("gone.control", "x", "gone.control")]


# --- the README's control table ------------------------------------------------------------------------


def _cog(*args: str) -> subprocess.CompletedProcess[str]:
    """`cog` as the README tells a user to run it (`.venv/bin/cog` is `python -m cogapp`)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "cogapp", *args], cwd=REPO, env=env, capture_output=True, text=True)


def test_readme_control_table_is_current(tmp_path: Path) -> None:
    done = _cog("--check", str(REPO / "README.md"))
    assert done.returncode == 0, (
        f"README control table is stale: run `.venv/bin/cog -r README.md`\n{done.stdout}{done.stderr}"
    )
    text = (REPO / "README.md").read_text(encoding="utf-8")
    for control in CATALOG.values():
        assert f"| {control.title} | `{control.id}` |" in text
    stale = tmp_path / "README.md"
    stale.write_text(text.replace("| Request past its deadline |", "| Overdue requests |"), encoding="utf-8")
    assert _cog("-r", str(stale)).returncode == 0  # the README's command puts a hand-edited table right
    assert stale.read_text(encoding="utf-8") == text


def test_a_control_a_notebook_does_not_audit_is_reported(tmp_path: Path) -> None:
    """A notebook that hard-codes its controls, or whose stored run predates a control added to its list, fails."""
    shutil.copytree(REPO / "tests", tmp_path / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "dashboard", tmp_path / "dashboard", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    path = tmp_path / "notebooks" / "dsr_audit.ipynb"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("dsr.overdue, ", ""), encoding="utf-8")  # the stored run lacks the control
    assert missing_parts(CATALOG["dsr.overdue"], tmp_path) == [
        "its line among the controls notebooks/dsr_audit.ipynb audits (rebuild the notebook)"
    ]
    path.write_text(text.replace('notebook_controls(\\"dsr_audit\\")', '[\\"dsr.overdue\\"]'), encoding="utf-8")
    assert missing_parts(CATALOG["dsr.overdue"], tmp_path) == [
        "its line among the controls notebooks/dsr_audit.ipynb audits (rebuild the notebook)"
    ]
