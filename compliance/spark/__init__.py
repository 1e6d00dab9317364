"""The controls on Apache Spark: the same `queries/` files, translated from DuckDB SQL by sqlglot.

`translate` turns DuckDB SQL into Spark SQL (with fixes for what sqlglot translates wrongly or not at
all, and per-dialect variants beside a query for the rest); `connection` gives the controls engine a
DuckDB-shaped connection that runs on a SparkSession over a Parquet (or Delta) export, so
`compliance.controls` and `compliance.check` run unchanged on either engine.
"""
