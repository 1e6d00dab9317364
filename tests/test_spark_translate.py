"""The DuckDB -> Spark SQL translation (compliance.spark.translate) without a JVM: each trap that sqlglot
alone translates silently wrong is rewritten, parameters stay bound, and per-dialect variants replace only
the CTEs they name. What the rewritten SQL returns on Spark is checked by tests/test_spark_parity.py."""

from __future__ import annotations

import pytest

from compliance.queries import controls, load_queries
from compliance.spark.translate import TranslationError, to_spark
from compliance.spark.variants import parse_variant


def _spark(sql: str) -> str:
    return " ".join(to_spark(sql).split())


@pytest.mark.parametrize(
    ("duckdb_sql", "spark_sql"),
    [
        # Calendar-day boundaries, not whole 24 h periods: (end, start) as dates.
        ("select date_diff('day', a, b) from t", "SELECT DATEDIFF(CAST(b AS DATE), CAST(a AS DATE)) FROM t"),
        (
            "select date_diff('month', a, b) from t",
            "SELECT ((YEAR(b) * 12 + MONTH(b)) - (YEAR(a) * 12 + MONTH(a))) FROM t",
        ),
        # Seconds keep their fraction.
        ("select date_diff('hour', a, b) from t", "((UNIX_MICROS(CAST(b AS TIMESTAMP)) DIV 1000000) DIV 3600)"),
        ("select epoch(t) from x", "SELECT (CAST(UNIX_MICROS(CAST(t AS TIMESTAMP)) AS DOUBLE) / 1000000) FROM x"),
        ("select quantile_cont(v, 0.9) from t", "SELECT PERCENTILE(v, 0.9) FROM t"),
        # ISO weekday: Monday 1 .. Sunday 7 (sqlglot alone makes Sunday 2).
        ("select isodow(d) from t", "SELECT (WEEKDAY(d) + 1) FROM t"),
        # Spark 4.3 fails on LISTAGG(DISTINCT ...) WITHIN GROUP: the sorted set is joined instead.
        ("select string_agg(distinct x, ', ' order by x) from t", "ARRAY_JOIN(SORT_ARRAY(COLLECT_SET(x), TRUE), ', ')"),
        (
            "select string_agg(distinct x, ', ' order by x) filter (where k) from t",
            "ARRAY_JOIN(SORT_ARRAY(COLLECT_SET(IF(k, x, NULL)), TRUE), ', ')",
        ),
        (
            "select quantile_disc(v, 0.5) from t",
            "SELECT PERCENTILE_DISC(0.5) WITHIN GROUP (ORDER BY v NULLS LAST) FROM t",
        ),
        # Bound parameters become Spark named parameters; no value enters the text.
        ("select * from t where d <= $as_of", "SELECT * FROM t WHERE d <= :as_of"),
        ("select k from t cross join range(1, $n + 1) as o (k)", "LATERAL VIEW EXPLODE"),
    ],
)
def test_rewrites(duckdb_sql: str, spark_sql: str) -> None:
    assert spark_sql in _spark(duckdb_sql)


def test_ordered_aggregates_keep_their_order() -> None:
    out = _spark("select array_agg(x order by k desc) as xs, max_by(x, k, 3) as top from t")
    assert "COLLECT_LIST" in out and "ARRAY_SORT" in out
    assert "IF(SIZE(" in out  # NULL over no row, as DuckDB
    assert "SLICE(" in out and ", 1, 3)" in out  # the first n of the sorted list
    # Descending: a smaller key sorts after a larger one.
    assert "WHEN l.k0 < r.k0 THEN 1 WHEN l.k0 > r.k0 THEN -1" in out


def test_unknown_date_part_is_refused() -> None:
    with pytest.raises(TranslationError, match="date_diff unit 'millennium'"):
        to_spark("select date_diff('millennium', a, b) from t")


def test_every_query_file_translates() -> None:
    failed = {}
    for query in load_queries().values():
        try:
            to_spark(query.sql)
        except TranslationError as exc:
            failed[query.name] = str(exc)
    assert not failed, failed
    assert len(controls()) >= 28


def test_a_variant_replaces_only_the_ctes_it_names() -> None:
    sql = "with a as (select 1 as x), b as (select x + 1 as y from a) select y from b"
    out = " ".join(to_spark(sql, (("a", "SELECT 2 AS x"),)).split())
    assert out.startswith("WITH a AS (SELECT 2 AS x), b AS (SELECT x + 1 AS y FROM a)")
    with pytest.raises(TranslationError, match="CTE 'gone'"):
        to_spark(sql, (("gone", "SELECT 1"),))


def test_variant_file_format() -> None:
    text = "-- Spark: why this differs\n-- cte: a\nselect 1 as x\n\n-- cte: b\nselect 2 as y\n"
    assert parse_variant(text) == (("a", "select 1 as x"), ("b", "select 2 as y"))
    with pytest.raises(ValueError, match="empty"):
        parse_variant("-- cte: a\n\n-- cte: b\nselect 1")


def test_a_models_inner_ctes_are_scoped_to_it() -> None:
    # A shared model inlined as a CTE has its own `final`; Spark's output has one flat WITH, so it is renamed.
    sql = (
        "with m as (with final as (select 1 as a) select final.a from final), "
        "final as (select a from m) select a from final"
    )
    assert to_spark(sql) == (
        "WITH m__final AS (SELECT 1 AS a), m AS (SELECT m__final.a FROM m__final), "
        "final AS (SELECT a FROM m) SELECT a FROM final"
    )


def test_no_composed_query_repeats_a_cte_name_on_spark() -> None:
    import re
    from collections import Counter

    composed = [q for q in load_queries().values() if q.models]
    assert composed  # the shared models are in use
    for query in composed:
        names = Counter(re.findall(r"(\w+) AS \(", to_spark(query.sql)))
        assert [n for n, k in names.items() if k > 1] == [], query.name
