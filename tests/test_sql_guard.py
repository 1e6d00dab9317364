"""Guard: no SQL text in the package or the dashboard is built from data by string formatting.

SQL is often generated from code (column names of compliance.schema, query files of queries/), so
f-strings are allowed to compose it. What they must never do is put a *value* into SQL text: inside a
quoted SQL literal ('{x}') or from a variable that carries outside data (a file path, a header cell,
an environment variable, an option). Values are bound parameters ($name); the hostile-input corpus
(test_hostile_inputs.py) checks that crafted headers, file names and values stay inert.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*ROOT.joinpath("compliance").rglob("*.py"), *ROOT.joinpath("dashboard").rglob("*.py")])
SQL_WORDS = re.compile(
    r"\b(select|from|where|insert into|create (?:or replace )?(?:temp )?(?:table|view)|update|delete from|drop|"
    r"copy|attach|read_csv|read_json|read_parquet|try_cast|cast|case when|coalesce|nullif|is null|is not null)\b"
)
RUNS_SQL = {"execute", "sql", "query", "executemany"}
# Names that carry outside data: a file's path, a header cell, the environment, a command-line option.
DATA_NAMES = re.compile(r"\b(path|paths|header|environ|getenv|argv|memory_limit|exports|export)\b")


def _sql_fstrings() -> list[tuple[Path, int, ast.JoinedStr]]:
    """f-strings run as SQL (the text argument of execute/sql/query), or that read as SQL fragments."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        run = {
            id(arg)
            for call in ast.walk(tree)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in RUNS_SQL
            for arg in call.args[:1]
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
                if id(node) in run or len(set(SQL_WORDS.findall(text.lower()))) >= 2:
                    found.append((path, node.lineno, node))
    return found


def test_the_guard_sees_the_generated_sql() -> None:
    # Sanity: the scan finds the ingest's generated statements, so an empty result means nothing.
    where = {p.name for p, _, _ in _sql_fstrings()}
    assert {"load.py", "readers.py", "validate.py", "enrich.py"} <= where


def _ingest_fstrings() -> list[tuple[Path, int, ast.JoinedStr]]:
    """Every f-string of the ingest package: a header's column spec is SQL without SQL words in it."""
    found = []
    for path in sorted(ROOT.joinpath("compliance", "ingest").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.JoinedStr):
                found.append((path, node.lineno, node))
    return found


def test_no_value_is_formatted_inside_a_sql_literal() -> None:
    bad = []
    for path, line, node in {
        (p, ln, n.col_offset): (p, ln, n) for p, ln, n in _sql_fstrings() + _ingest_fstrings()
    }.values():
        parts = node.values
        for i, part in enumerate(parts):
            if not isinstance(part, ast.FormattedValue):
                continue
            before = parts[i - 1].value if i and isinstance(parts[i - 1], ast.Constant) else ""
            after = parts[i + 1].value if i + 1 < len(parts) and isinstance(parts[i + 1], ast.Constant) else ""
            expr = ast.unparse(part.value)
            quoted = str(before).endswith("'") and str(after).startswith("'")
            # Module constants written in code (regular expressions, the contract's names) may be literals.
            if quoted and not re.fullmatch(r"[A-Z][A-Z0-9_]*", expr):
                bad.append(f"{path.relative_to(ROOT)}:{line}: '{{{expr}}}'")
    assert not bad, "values formatted into SQL literals (bind them as $params):\n" + "\n".join(bad)


def test_no_outside_data_is_formatted_into_sql() -> None:
    bad = []
    for path, line, node in _sql_fstrings():
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                expr = ast.unparse(part.value)
                if DATA_NAMES.search(expr):
                    bad.append(f"{path.relative_to(ROOT)}:{line}: {{{expr}}}")
    assert not bad, "outside data formatted into SQL (bind it as a $param):\n" + "\n".join(bad)
