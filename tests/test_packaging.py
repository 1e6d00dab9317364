"""The package as a user installs it: `pip install .` (not editable) into a fresh venv, then `compliance check`
run from another directory finds its SQL catalog and policy bundle inside the installed package."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from compliance.paths import PACKAGE_DIR, POLICY_DIR, QUERY_DIR, REPO_ROOT, shipped_folder

# Imported directly but installed by a declared dependency that requires it.
PROVIDED_BY = {"pydantic-core": "pydantic", "jinja2": "nbconvert", "py4j": "pyspark"}
AS_OF = "2026-01-31"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared_distributions() -> set[str]:
    """Required dependencies and those of the optional extras (imported lazily by the feature needing them)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = [dep for group in project.get("optional-dependencies", {}).values() for dep in group]
    return {_canonical(re.split(r"[<>=!~\[;\s]", dep, maxsplit=1)[0]) for dep in [*project["dependencies"], *extras]}


def _imported_top_level_modules(package: Path) -> set[str]:
    modules: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"compliance", "__future__"}


def test_every_third_party_import_of_the_package_is_a_declared_dependency() -> None:
    declared = _declared_distributions()
    installed_by = packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules(PACKAGE_DIR)):
        distributions = {_canonical(d) for d in installed_by.get(module, [module])}
        if not any(PROVIDED_BY.get(d, d) in declared for d in distributions):
            undeclared[module] = sorted(distributions)
    assert "numpy" in _imported_top_level_modules(PACKAGE_DIR / "demo")  # the case that once went undeclared
    assert undeclared == {}, f"imported but not in pyproject.toml dependencies: {undeclared}"


def test_the_checkout_layout_is_used_when_the_package_ships_no_copy() -> None:
    # Running from the source tree (CI, editable installs): the folders are the checkout's own.
    assert not (PACKAGE_DIR / "_queries").exists()
    assert shipped_folder("queries") == QUERY_DIR == REPO_ROOT / "queries"
    assert shipped_folder("policy") == POLICY_DIR == REPO_ROOT / "data" / "policy"


def _copy_checkout(dest: Path) -> Path:
    """The project's files without the venv, the demo data or build leftovers (the build writes into its tree)."""
    skip = shutil.ignore_patterns(".venv", ".git", "demo", "build", "*.egg-info", "__pycache__", ".*_cache")
    return Path(shutil.copytree(REPO_ROOT, dest, ignore=skip, symlinks=True))


def _fresh_venv(where: Path) -> Path:
    """A new venv that borrows this environment's installed dependencies (offline, fast) but not its `compliance`:
    a plain path line in a .pth file adds the folder without running the .pth files (editable installs) in it."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, capture_output=True, timeout=300)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "borrowed_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n", encoding="utf-8")
    return python


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "COMPLIANCE_DEMO_DIR")}


@pytest.mark.slow
def test_pip_install_then_check_from_another_directory(demo_build, tmp_path: Path) -> None:
    source = _copy_checkout(tmp_path / "source")
    python = _fresh_venv(tmp_path / "venv")
    env = _clean_env()
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--quiet", str(source)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    shutil.rmtree(source)  # nothing may still point into the checkout

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [python, "-c", "import compliance.paths as p; print(p.QUERY_DIR); print(p.POLICY_DIR)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, check=True,
    ).stdout.split()  # fmt: skip
    site = tmp_path / "venv" / "lib"
    assert all(Path(folder).is_relative_to(site) for folder in where), where
    assert len(list(Path(where[0]).rglob("*.sql"))) == len(list(QUERY_DIR.rglob("*.sql")))

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_build.db, db)
    installed = elsewhere / "installed.csv"
    check = subprocess.run(
        [tmp_path / "venv" / "bin" / "compliance", "check", "--db", str(db), "--as-of", AS_OF,
         "--format", "csv", "--output", str(installed)],
        capture_output=True, text=True, timeout=600, cwd=elsewhere, env=env,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert "Traceback" not in check.stderr

    # The installed command gives exactly the findings of the checkout's own.
    from_checkout = tmp_path / "checkout.csv"
    subprocess.run(
        [sys.executable, "-m", "compliance", "check", "--db", str(db), "--as-of", AS_OF,
         "--format", "csv", "--output", str(from_checkout)],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT, env=dict(env, PYTHONPATH=str(REPO_ROOT)), check=True,
    )  # fmt: skip
    rows = installed.read_text(encoding="utf-8").splitlines()
    assert len(rows) > 100 and "control_id" in rows[0].split(",")
    assert installed.read_bytes() == from_checkout.read_bytes()
