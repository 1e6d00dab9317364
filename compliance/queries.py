"""Named SQL files (`queries/**/*.sql`) with declared headers, run with bound parameters.

A file starts with a header of `-- key: value` lines (a continuation line is `--` and two or
more spaces; the first other line ends the header). Keys: `name`, `description`, `params` (`name TYPE, ...`), `returns` (`col TYPE, ...`), and
for controls `control` (catalog id), `section` (policy section), `severity` (default severity) and
`requires` (export folders it needs, e.g. `dsr, audit`: when one was not loaded the control is `skip`).
Parameters are always bound (`$name`), never formatted into SQL. A parameter the caller does not
give is taken from the policy settings (`Policy.parameters()`), so thresholds live in configuration.

Shared logic is stated once, as a model (`queries/models/<name>.sql`, same header without `control`): a
query uses a model by naming it like a table (in the style of dbt's `ref()`). `Query.sql` is the text
that runs: the file's own text with every model it uses (directly or through another model) put in
front as a CTE, so any query runs alone on any connection. A check materialises each model once
(`compliance.controls.materialised_models`) and `Query.sql_with` then reads the stored table instead.
A query's header declares every parameter of that composed text, so its digest and its declared
settings cover the models it reads.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import sqlglot
from sqlglot.tokens import TokenType

from compliance.paths import QUERY_DIR

if TYPE_CHECKING:
    from compliance.config.bundle import Policy

MODELS = "models"  # the folder under a query root that holds the shared intermediate models
_HEADER = re.compile(r"^--\s*(\w+):\s*(.*)$")
_CONTINUATION = re.compile(r"^--\s{2,}(\S.*)$")  # indented: a plain `-- comment` ends the header
_PARAM_USE = re.compile(r"(?<![\w$])\$([A-Za-z_]\w*)")

# A control's `returns` declares its findings columns; the first two are common dimensions (as in
# Powerpipe): its SQL does not select them, run_query adds them from the header's `control` and
# `section`, so each is stated once.
COMMON_DIMENSIONS = ("control_id", "policy_section")


class QueryError(ValueError):
    """A query file is malformed, or a run lacks a parameter."""


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    sql: str  # what runs: `text` with the models it uses in front as CTEs
    description: str
    params: dict[str, str]  # name -> declared SQL type
    returns: tuple[tuple[str, str], ...]  # (column, declared SQL type)
    control_id: str | None = None
    section: str | None = None
    severity: str | None = None
    requires: tuple[str, ...] = ()  # export folders the query needs; without them a control is `skip`
    text: str = ""  # the file's own text
    models: tuple[Query, ...] = ()  # the models `text` uses, directly or not, each after those it uses

    def sql_with(self, stored: Mapping[str, str]) -> str:
        """The query's SQL reading each model named in `stored` (model -> table) from that table."""
        return _compose(self.text, self.models, stored)

    @property
    def kind(self) -> str:
        return self.path.parent.name  # controls, metrics, ...

    @property
    def digest(self) -> str:
        """Identifies the SQL text, so caches invalidate when a file is edited."""
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]

    @property
    def sql_returns(self) -> tuple[tuple[str, str], ...]:
        """The columns the SQL itself selects: a control's `returns` without the common dimensions."""
        if not self.control_id:
            return self.returns
        return tuple((name, sql_type) for name, sql_type in self.returns if name not in COMMON_DIMENSIONS)

    @property
    def used_params(self) -> set[str]:
        return set(_PARAM_USE.findall(_code(self.sql)))  # comments ignored; the models' parameters count


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


_LEADING_WITH = re.compile(r"\A((?:\s*--[^\n]*\n|\s+)*)with\b", re.IGNORECASE)


def _code(text: str) -> str:
    return "\n".join(ln.split("--", 1)[0] for ln in text.splitlines())


def _compose(text: str, models: tuple[Query, ...], stored: Mapping[str, str]) -> str:
    """`text` with each model as a leading CTE: its own SQL, or a read of the table it is stored in."""
    if not models:
        return text
    # Only the models still read: one that only a stored model used is not needed any more.
    needed, readers = set(), [_code(text)]
    for model in reversed(models):
        if any(_names(model.name, code) for code in readers):
            needed.add(model.name)
            if model.name not in stored:
                readers.append(_code(model.text))
    ctes = []
    for model in models:
        if model.name not in needed:
            continue
        body = f"select * from {stored[model.name]}" if model.name in stored else model.text.rstrip().rstrip(";")
        ctes.append(f"{model.name} as (\n{body}\n)")
    if m := _LEADING_WITH.match(text):
        return f"{m.group(1)}with {', '.join(ctes)},{text[m.end() :]}"
    return f"with {', '.join(ctes)}\n{text}"


# A word of SQL that may name a table: a whole run of word characters, not a qualified part (`x.name`) nor a
# parameter (`$name`).
_TABLE_WORD = re.compile(r"(?<![\w.$])\w+")


@lru_cache(maxsize=1024)
def _table_words(code: str) -> frozenset[str]:
    return frozenset(_TABLE_WORD.findall(code))


def _names(name: str, code: str) -> bool:
    """Whether SQL `code` (comments removed) names `name` (a model's name: word characters) as a table."""
    # The words of each text found once, not one search of the whole text per model (every query parsed: 0.47 s).
    return name in _table_words(code)


def _model_paths(root: Path) -> dict[str, Path]:
    folder = root / MODELS
    if not folder.is_dir():
        return {}
    # Listed by name (what `sorted(folder.glob("*.sql"))` gave, without comparing Path objects: every query parsed
    # lists the folder, 0.15 s of 0.35 s).
    names = sorted(n for n in os.listdir(folder) if n.endswith(".sql") and not n.startswith("."))
    return {n.removesuffix(".sql"): folder / n for n in names}


def _models_used(path: Path, text: str, seen: tuple[Path, ...] = ()) -> tuple[Query, ...]:
    """The models (of the query root `path` lies in) that `text` names, each preceded by those it uses."""
    code = _code(text)
    out: dict[str, Query] = {}
    for name, model_path in _model_paths(path.parent.parent).items():
        if model_path == path or not _names(name, code):
            continue
        if re.search(rf"(?<![\w.]){re.escape(name)}\s+as\s*\(", code, re.IGNORECASE):
            raise QueryError(f"{path}: a CTE named {name!r} hides the model of that name")
        if model_path in seen:
            raise QueryError(f"{path}: models use each other in a cycle through {name!r}")
        model = parse_query(model_path, (*seen, path))
        for m in (*model.models, model):
            out.setdefault(m.name, m)
    return tuple(out.values())


def parse_query(path: Path, _seen: tuple[Path, ...] = ()) -> Query:
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
    models = _models_used(path, text, _seen)
    return Query(
        name=header["name"],
        path=path,
        sql=_compose(text, models, {}),
        description=header["description"],
        params=dict(_split_decls(header.get("params", ""), path, "params")),
        returns=_split_decls(header["returns"], path, "returns"),
        control_id=header.get("control"),
        section=header.get("section"),
        severity=header.get("severity"),
        requires=tuple(x.strip() for x in header.get("requires", "").split(",") if x.strip()),
        text=text,
        models=models,
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


def bind_used(
    query: Query, sql: str, params: Mapping[str, Any] | None = None, policy: Policy | None = None
) -> dict[str, Any]:
    """`bind`, limited to the parameters `sql` (the query's text as composed by `sql_with`) still uses: a
    parameter only a stored model used is gone from the text, and DuckDB refuses extras."""
    used = set(_PARAM_USE.findall(_code(sql)))
    return {k: v for k, v in bind(query, params, policy).items() if k in used}


def run_query(
    con: duckdb.DuckDBPyConnection,
    query: Query | str,
    params: Mapping[str, Any] | None = None,
    policy: Policy | None = None,
    stored: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Run a named query on its own cursor and return a Polars frame; models named in `stored` are read
    from the tables given there (see `compliance.controls.materialised_models`)."""
    q = get_query(query) if isinstance(query, str) else query
    sql = q.sql_with(stored or {})
    values = bind_used(q, sql, params, policy)
    cur = con.cursor()
    try:
        return with_dimensions(q, _result_frame(cur, sql, values))
    finally:
        cur.close()


# DuckDB 2.0's `sql()` binds a statement (plans it once more) and tokenises its text in Python only to describe a
# lazy relation: about 10 ms a control. Arrow from an executed statement copies the rows once more instead (and
# warns about it), which costs less except on a result of ~100k rows (about 30 ms more at 107k findings rows):
# measured at 1M events, a check spends about 0.25 CPU s less this way.
_ARROW_COPY_WARNING = "Arrow output on a DB-API result makes an extra copy"


def _result_frame(cur: duckdb.DuckDBPyConnection, sql: str, values: Mapping[str, Any]) -> pl.DataFrame:
    """The statement's rows as a Polars frame: on DuckDB executed at once, on another engine (Spark) through its
    `sql()`."""
    if not isinstance(cur, duckdb.DuckDBPyConnection):
        return cur.sql(sql, params=values).pl()
    cur.execute(sql, values)
    # Idempotent (an equal filter replaces itself), so it holds in every thread and under a test runner's resets.
    warnings.filterwarnings("ignore", message=_ARROW_COPY_WARNING, category=UserWarning, module=__name__)
    frame = pl.from_arrow(cur.to_arrow_table())
    assert isinstance(frame, pl.DataFrame)  # a Table converts to a frame, never to a Series
    return frame


def with_dimensions(query: Query, frame: pl.DataFrame) -> pl.DataFrame:
    """A control's frame with `control_id` and `policy_section` from its header in front; other
    queries' frames, and a control SQL that still selects them itself, unchanged."""
    if not query.control_id or "control_id" in frame.columns:
        return frame
    dims = {"control_id": query.control_id, "policy_section": query.section}
    return frame.select(*(pl.lit(value, pl.String).alias(name) for name, value in dims.items()), pl.all())


@lru_cache(maxsize=256)
def _names_in(sql: str) -> frozenset[str]:
    """Every identifier of `sql`, in lower case (DuckDB resolves names case-insensitively), by DuckDB's own
    tokenizer: names in comments and string literals are not identifiers."""
    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    return frozenset(
        sql[start:end].strip().strip('"').lower()
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind == duckdb.token_type.identifier
    )


def tables_read(query: Query) -> frozenset[str]:
    """The names a query's SQL (its models included) uses: every table it reads, among its columns' and CTEs'
    names, so only its intersection with a set of table names means anything. A superset is safe (a column
    named like a changed table only runs the control whole) and cheap: parsing the 28 controls with sqlglot
    took 0.7 CPU s of every daily load, tokenizing them with DuckDB takes 0.02."""
    return _names_in(query.sql_with({}))


def read_instead(sql: str, table: str, replacement: str) -> str:
    """`sql` with every FROM/JOIN of `table` reading `replacement` instead (a table name or a parenthesised
    select; aliased to `table` when the query gave it no alias, so `table.column` still resolves). Both are
    code, never data."""
    tokens = sqlglot.tokenize(sql, read="duckdb")
    out, last = [], 0
    for i, tok in enumerate(tokens):
        follows_from = i > 0 and tokens[i - 1].token_type in (TokenType.FROM, TokenType.JOIN)
        if (
            not follows_from
            or tok.text.lower() != table
            or (i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT)
        ):
            continue
        aliased = i + 1 < len(tokens) and tokens[i + 1].token_type in (TokenType.ALIAS, TokenType.VAR)
        out += [sql[last : tok.start], replacement if aliased else f"{replacement} as {table}"]
        last = tok.end + 1
    return "".join(out) + sql[last:]
