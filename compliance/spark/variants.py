"""Per-dialect variants: the few CTEs of a query that are written by hand for Spark.

A query `queries/<kind>/<name>.sql` may have a variant `queries/<kind>/<name>.spark.sql` beside it.
The variant holds only the CTEs that the translator cannot make mean the same on Spark, each as

    -- cte: <name of the CTE in the DuckDB query>
    <its body in Spark SQL, the part inside `name as ( ... )`>

Everything else of the query is translated from the DuckDB file, so a fact is still stated once, and a
variant that names a CTE the query no longer has fails loudly instead of running stale SQL. The list of
variants and why each exists is in docs/writing-queries.md ("Running on Spark").
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from compliance.queries import QUERY_DIR, load_queries

__all__ = ["VARIANT_SUFFIX", "parse_variant", "variant_ctes"]

VARIANT_SUFFIX = ".spark.sql"
_CTE_MARK = re.compile(r"^--\s*cte:\s*(\w+)\s*$", re.MULTILINE)


def parse_variant(text: str) -> tuple[tuple[str, str], ...]:
    """(cte name, Spark SQL body) pairs of a variant file; comments before the first marker are notes."""
    marks = list(_CTE_MARK.finditer(text))
    out = []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[mark.end() : end].strip()
        if not body:
            raise ValueError(f"the Spark variant of CTE {mark.group(1)!r} is empty")
        out.append((mark.group(1), body))
    return tuple(out)


@lru_cache(maxsize=8)
def _variants_by_sql(root: Path, stamp: tuple[tuple[str, float], ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    by_sql = {}
    for query in load_queries(root).values():
        variant = query.path.with_name(query.path.stem + VARIANT_SUFFIX)
        if variant.is_file():
            by_sql[query.sql] = parse_variant(variant.read_text(encoding="utf-8"))
    return by_sql


def variant_ctes(sql: str, root: Path = QUERY_DIR) -> tuple[tuple[str, str], ...]:
    """The Spark CTE bodies of the query file whose text is `sql` (none for other statements)."""
    stamp = tuple((str(p), p.stat().st_mtime) for p in sorted(root.rglob("*.sql")))  # queries and variants
    return _variants_by_sql(root, stamp).get(sql, ())
