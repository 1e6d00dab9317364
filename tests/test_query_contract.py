"""The contract of every query file under queries/ (controls and metrics, whoever wrote them).

For each file: the header parses; the declared params are exactly the `$names` used; the query runs
on an empty database with typed dummy values; the columns and types DuckDB reports equal the
header's `returns`. Controls also return exactly the findings columns of data-contract section 4,
carry a catalog id with an entry in the control catalog (compliance.catalog) and the section
data-contract 4.1 gives it, and can be run by the engine.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from compliance.catalog import load_catalog
from compliance.queries import QUERY_DIR, Query, parse_query
from compliance.schema import SOURCES_BY_FOLDER

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "data-contract.md"


def _contract_catalog() -> dict[str, str]:
    """data-contract.md section 4.1, the minimum catalog the project must implement: control id -> policy section."""
    text = CONTRACT.read_text(encoding="utf-8")
    table = text[text.index("### 4.1") :]
    table = table[: table.index("\n### ")]
    return dict(re.findall(r"^\| ([a-z]+\.[a-z_]+) \| (\w+) \|", table, flags=re.M))


CONTRACT_CATALOG = _contract_catalog()
FINDINGS_COLUMNS = [
    ("control_id", "VARCHAR"),
    ("policy_section", "VARCHAR"),
    ("resource", "VARCHAR"),
    ("status", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("reason", "VARCHAR"),
    ("observed_at", "TIMESTAMP"),
    ("evidence", "VARCHAR[]"),
]
SEVERITIES = {"critical", "high", "medium", "low", "info"}
QUERY_FILES = sorted(QUERY_DIR.rglob("*.sql"))
CONTROL_FILES = sorted((QUERY_DIR / "controls").glob("*.sql"))


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(QUERY_DIR)) for p in paths]


def _canonical(con: duckdb.DuckDBPyConnection, sql_type: str) -> str:
    """DuckDB's own spelling of a declared type (INT -> INTEGER, STRING -> VARCHAR, ...)."""
    return str(con.sql(f"select cast(null as {sql_type}) as x").types[0])


_INTEGERS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}


def _dummy(sql_type: str) -> Any:
    """A typed value for a declared parameter type (already canonical)."""
    if sql_type.endswith("[]"):
        return [_dummy(sql_type[:-2])]
    if sql_type == "DATE":
        return dt.date(2025, 3, 10)
    if sql_type.startswith("TIMESTAMP"):
        return dt.datetime(2025, 3, 10, 12, 0)
    if sql_type in _INTEGERS:
        return 1
    if sql_type in {"DOUBLE", "FLOAT"} or sql_type.startswith("DECIMAL"):
        return 1.0
    if sql_type == "VARCHAR":
        return "x"
    if sql_type == "BOOLEAN":
        return True
    pytest.fail(f"no dummy value for parameter type {sql_type}: extend _dummy in {__file__}")


@pytest.fixture(params=QUERY_FILES, ids=_ids(QUERY_FILES))
def query(request: pytest.FixtureRequest) -> Query:
    return parse_query(request.param)


def test_there_are_queries() -> None:
    assert CONTROL_FILES, f"no control queries under {QUERY_DIR / 'controls'}"


def test_header_params_match_the_sql(query: Query) -> None:
    assert query.description.strip()
    assert query.returns, "header declares no returned columns"
    assert set(query.params) == query.used_params, f"declared {sorted(query.params)}, used {sorted(query.used_params)}"


def test_runs_on_an_empty_database_with_the_declared_columns(query: Query, make_db) -> None:
    con = make_db({})
    params = {name: _dummy(_canonical(con, sql_type)) for name, sql_type in query.params.items()}
    rel = con.sql(query.sql, params=params)
    got = list(zip(rel.columns, [str(t) for t in rel.types], strict=True))
    # A control's control_id and policy_section come from its header (run_query adds them), not its SQL.
    declared = [(name, _canonical(con, sql_type)) for name, sql_type in query.sql_returns]
    assert got == declared
    rel.fetchall()  # binding is not enough: the plan must execute


@pytest.mark.parametrize("path", CONTROL_FILES, ids=_ids(CONTROL_FILES))
def test_control_header(path: Path, policy) -> None:
    q = parse_query(path)
    assert q.control_id in load_catalog(), f"{q.control_id!r} has no catalog entry"
    if q.control_id in CONTRACT_CATALOG:  # the contract's catalog is a minimum: more controls may follow it
        assert q.section == CONTRACT_CATALOG[q.control_id], (
            f"data-contract 4.1 puts {q.control_id} in section {CONTRACT_CATALOG[q.control_id]}"
        )
    assert path.stem == q.control_id.replace(".", "_"), "a control's file is named after its catalog id"
    assert [(n, t.upper()) for n, t in q.returns] == FINDINGS_COLUMNS
    assert q.severity in SEVERITIES
    assert set(q.requires) <= set(SOURCES_BY_FOLDER), f"unknown export folder in requires: {q.requires}"
    # The engine passes only as_of; everything else must come from settings.yaml.
    unresolved = set(q.params) - {"as_of"} - set(policy.parameters())
    assert not unresolved, f"parameters neither as_of nor in settings.yaml: {sorted(unresolved)}"


def test_control_ids_are_unique() -> None:
    ids = [parse_query(p).control_id for p in CONTROL_FILES]
    assert len(ids) == len(set(ids))


def test_every_contract_control_has_a_query() -> None:
    assert len(CONTRACT_CATALOG) >= 28, "data-contract 4.1 table not found or not parsed"
    have = {parse_query(p).control_id for p in CONTROL_FILES}
    missing = sorted(set(CONTRACT_CATALOG) - have)
    assert not missing, f"data-contract 4.1 controls without a query file: {missing}"


def _final_branches(sql: str) -> list[tuple[str, list[str]]]:
    """(CTE name, its output columns) for each branch of `final` that is `select * from <a CTE>`."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {cte.alias: cte.this for cte in tree.ctes}
    body = ctes["final"]
    branches = list(body.flatten()) if isinstance(body, sqlglot.exp.Union) else [body]
    return [
        (table.name, [e.alias_or_name for e in ctes[table.name].selects])
        for branch in branches
        if branch.is_star and isinstance(table := branch.find(sqlglot.exp.From).this, sqlglot.exp.Table)
    ]


@pytest.mark.parametrize("path", CONTROL_FILES, ids=_ids(CONTROL_FILES))
def test_final_unions_only_ctes_of_the_findings_columns(path: Path) -> None:
    """`union all` pairs columns by position: each `select * from <cte>` in `final` must list them in order."""
    findings = [name for name, _ in FINDINGS_COLUMNS if name not in ("control_id", "policy_section")]
    for cte, columns in _final_branches(parse_query(path).sql):
        assert columns == findings, f"{cte} returns {columns}; `final` unions it by position"
