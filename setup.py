"""Ship `queries/` and `data/policy/` inside the package, so a plain `pip install .` works from any directory.

The folders stay where they are in the checkout (Spark, the evidence package and the tests read them there);
the wheel maps them to `compliance/_queries` and `compliance/_policy`, which `compliance.paths.shipped_folder`
prefers when present. Everything else about the project is in pyproject.toml.
"""

from pathlib import Path

from setuptools import find_packages, setup

SHIPPED_FOLDERS = {"compliance._queries": "queries", "compliance._policy": "data/policy"}


def data_packages(package: str, folder: str) -> dict[str, str]:
    """The folder and each of its subfolders as a data-only package (setuptools wants every shipped folder named)."""
    root = Path(folder)
    subfolders = sorted(d for d in root.rglob("*") if d.is_dir() and d.name != "__pycache__")
    return {package: folder} | {".".join((package, *d.relative_to(root).parts)): d.as_posix() for d in subfolders}


shipped = {
    name: path for package, folder in SHIPPED_FOLDERS.items() for name, path in data_packages(package, folder).items()
}

setup(
    packages=[*find_packages(include=["compliance*"]), *shipped],
    package_dir=shipped,
    package_data={"compliance": ["*.sql"], **{package: ["*"] for package in shipped}},
)
