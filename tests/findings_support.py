"""Running one query on a hand-made database and reading its findings the way every control test does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from compliance.config.bundle import Policy
from compliance.queries import run_query

Finding = dict[str, Any]


def findings_by_resource(
    con: duckdb.DuckDBPyConnection, query: str, policy: Policy, **params: object
) -> dict[str, Finding]:
    """The query's findings keyed by resource; a control reports each resource once."""
    rows = run_query(con, query, params, policy).to_dicts()
    by_resource = {r["resource"]: r for r in rows}
    assert len(by_resource) == len(rows), f"{query} reports a resource twice"
    return by_resource


def verdicts(findings: dict[str, Finding], *columns: str) -> dict[str, tuple[Any, ...]]:
    """resource -> (status, severity), or the given columns: the table a test states by hand."""
    columns = columns or ("status", "severity")
    return {resource: tuple(f[c] for c in columns) for resource, f in findings.items()}


def verdict_list(findings: dict[str, Finding], *columns: str) -> list[tuple[Any, ...]]:
    """(resource, *columns) per finding in the query's own order, for tests that also check that order."""
    return [(resource, *(f[c] for c in columns)) for resource, f in findings.items()]


def assert_fields(findings: dict[str, Finding], expected: dict[str, dict[str, Any]]) -> None:
    """The named columns of the named findings equal the hand-worked `expected` ({resource: {column: value}}),
    compared as one table so that a failure shows every difference at once."""
    got = {resource: {column: findings[resource][column] for column in fields} for resource, fields in expected.items()}
    assert got == expected


@dataclass(frozen=True)
class Expected:
    """One finding as a test states it by hand: its verdict and, optionally, some of its columns."""

    status: str
    severity: str
    fields: dict[str, Any]


def finding(status: str, severity: str, **fields: Any) -> Expected:
    return Expected(status, severity, fields)


def alarm(severity: str, **fields: Any) -> Expected:
    return Expected("alarm", severity, fields)


def ok(**fields: Any) -> Expected:
    """An ok finding, whose severity is always info."""
    return Expected("ok", "info", fields)


def assert_findings(findings: dict[str, Finding], expected: dict[str, Expected]) -> None:
    """Each finding stated once: the verdicts of every resource the query reports (verdicts), then the named
    columns of the findings that name any (assert_fields)."""
    assert verdicts(findings) == {resource: (e.status, e.severity) for resource, e in expected.items()}
    assert_fields(findings, {resource: e.fields for resource, e in expected.items() if e.fields})
