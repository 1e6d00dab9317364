"""Named SQL files (`queries/**/*.sql`) with declared headers, run with bound parameters.

A file starts with a header of `-- key: value` lines (a continuation line is `--` and two or
more spaces; the first other line ends the header). Keys: `name`, `description`, `params` (`name TYPE, ...`), `returns` (`col TYPE, ...`), and
for controls `control` (catalog id), `section` (policy section), `severity` (default severity) and
`requires` (export folders it needs, e.g. `dsr, audit`: when one was not loaded the control is `skip`).
Parameters are always bound (`$name`), never formatted into SQL. A parameter the caller does not
give is taken from the policy settings (`Policy.parameters()`), so thresholds live in configuration.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

QUERY_DIR = Path(__file__).resolve().parents[1] / "queries"
_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")  # indented: a plain `-- comment` ends the header
_PARAM_USE = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)")


class QueryError(ValueError):
    """A query file is malformed, or a run lacks a parameter."""


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    sql: str
    description: str
    params: dict[str, str]  # name -> declared SQL type
    returns: tuple[tuple[str, str], ...]  # (column, declared SQL type)
    control_id: str | None = None
    section: str | None = None
    severity: str | None = None
    requires: tuple[str, ...] = ()  # export folders the query needs; without them a control is `skip`

    @property
    def kind(self) -> str:
        return self.path.parent.name  # controls, metrics, ...

    @property
    def digest(self) -> str:
        """Identifies the SQL text, so caches invalidate when a file is edited."""
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    @property
    def used_params(self) -> set[str]:
        body = "\n".join(ln.split("--", 1)[0] for ln in self.sql.splitlines())  # ignore comments
        return set(_PARAM_USE.findall(body))


def _split_decls(text: str, path: Path, key: str) -> tuple[tuple[str, str], ...]:
    if not text.strip():
        return ()
    out: list[tuple[str, str]] = []
    depth, start = 0, 0
    for i, ch in enumerate(text + ","):  # commas inside STRUCT(...) or DECIMAL(p,s) do not split
        if ch in "([<":
            depth += 1
        elif ch in ")]>":
            depth -= 1
        elif ch == "," and depth == 0:
            item = text[start:i].strip()
            start = i + 1
            if not item:
                continue
            parts = item.split(None, 1)
            if len(parts) != 2:
                raise QueryError(f"{path}: header {key}: {item!r} must be 'name TYPE'")
            out.append((parts[0], parts[1].strip()))
    return tuple(out)


def parse_query(path: Path) -> Query:
    text = path.read_text(encoding="utf-8")
    header: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if m := _HEADER.match(line):
            last = m.group(1)
            header[last] = m.group(2).strip()
        elif last and (m := _CONTINUATION.match(line)):
            header[last] += " " + m.group(1).strip()
        else:
            break
    for required in ("name", "description", "returns"):
        if required not in header:
            raise QueryError(f"{path}: header lacks '-- {required}:'")
    if header["name"] != path.stem:
        raise QueryError(f"{path}: header name {header['name']!r} differs from the file name {path.stem!r}")
    return Query(
        name=header["name"],
        path=path,
        sql=text,
        description=header["description"],
        params=dict(_split_decls(header.get("params", ""), path, "params")),
        returns=_split_decls(header["returns"], path, "returns"),
        control_id=header.get("control"),
        section=header.get("section"),
        severity=header.get("severity"),
        requires=tuple(x.strip() for x in header.get("requires", "").split(",") if x.strip()),
    )


@lru_cache(maxsize=4)
def _load_all(root: Path, stamp: tuple[tuple[str, float], ...]) -> dict[str, Query]:
    queries: dict[str, Query] = {}
    for path_str, _ in stamp:
        q = parse_query(Path(path_str))
        if q.name in queries:
            raise QueryError(f"{path_str}: query name {q.name!r} is also used by {queries[q.name].path}")
        queries[q.name] = q
    return queries


def load_queries(root: Path = QUERY_DIR) -> dict[str, Query]:
    """Every query under `root`, by name; re-read when a file changes (keyed on mtimes)."""
    files = sorted(p for p in root.rglob("*.sql") if not p.name.endswith(".spark.sql"))  # Spark variants: not queries
    return _load_all(root, tuple((str(p), p.stat().st_mtime) for p in files))


def get_query(name: str, root: Path = QUERY_DIR) -> Query:
    try:
        return load_queries(root)[name]
    except KeyError:
        raise QueryError(f"no query named {name!r} under {root}") from None


def controls(root: Path = QUERY_DIR) -> list[Query]:
    """The control queries, in catalog-id order."""
    return sorted((q for q in load_queries(root).values() if q.control_id), key=lambda q: q.control_id or "")


def bind(query: Query, params: Mapping[str, Any] | None = None, policy: Policy | None = None) -> dict[str, Any]:
    """The values for exactly the parameters the query declares: explicit first, then policy settings."""
    given = dict(params or {})
    settings = policy.parameters() if policy is not None else {}
    values: dict[str, Any] = {}
    for name in query.params:
        if name in given:
            values[name] = given[name]
        elif name in settings:
            values[name] = settings[name]
        else:
            raise QueryError(f"query {query.name}: no value for parameter ${name} (not given, not in settings)")
    return values


def run_query(
    con: duckdb.DuckDBPyConnection,
    query: Query | str,
    params: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
) -> pl.DataFrame:
    """Run a named query on its own cursor and return a Polars frame."""
    q = get_query(query) if isinstance(query, str) else query
    values = bind(q, params, policy)
    cur = con.cursor()
    try:
        return cur.sql(q.sql, params=values).pl()
    finally:
        cur.close()
