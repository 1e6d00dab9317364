"""The DSR page's request table: days left for open requests only; for closed ones, when they closed and the
margin against the deadline ("5 days early", "49 days late"); and a row click that explains the request."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import streamlit as st

TABLE_KEY = "dsr_table"
EXPLAIN_KEY = "dsr_explain"  # the request explained below the table (a row click sets it)


def _days(n: pl.Expr) -> pl.Expr:
    return pl.when(n.abs() == 1).then(pl.lit(" day")).otherwise(pl.lit(" days"))


def with_margin(register: pl.DataFrame) -> pl.DataFrame:
    """`register` (dsr_register rows) with `days_left` (open requests only: a closed request has no days left)
    and `margin`, how a closed request's closing date stands against its effective deadline."""
    margin = (pl.col("effective_due_date") - pl.col("closed_date")).dt.total_days()
    closed = pl.col("closed_date").is_not_null() & (pl.col("status") != "open")
    return register.with_columns(
        pl.when(pl.col("status") == "open").then(pl.col("days_to_deadline")).alias("days_left"),
        pl.when(~closed)
        .then(pl.lit(None, pl.String))
        .when(pl.col("status") == "withdrawn")
        .then(pl.lit("withdrawn"))
        .when(pl.col("effective_due_date").is_null())
        .then(pl.lit("no deadline rule"))
        .when(margin > 0)
        .then(margin.cast(pl.String) + _days(margin) + " early")
        .when(margin == 0)
        .then(pl.lit("on the due date"))
        .otherwise((-margin).cast(pl.String) + _days(margin) + " late")
        .alias("margin"),
    )


def explain_row_click(request_ids: list[str]) -> Callable[[], None]:
    """The table's on_select: the clicked row's request becomes the one explained."""

    def on_select() -> None:
        rows = st.session_state[TABLE_KEY]["selection"]["rows"]
        if rows:
            st.session_state[EXPLAIN_KEY] = request_ids[rows[0]]

    return on_select
