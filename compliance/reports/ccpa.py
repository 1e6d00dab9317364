"""The CCPA regs §7102(a) annual request metrics, from the DSR register."""

from __future__ import annotations

import polars as pl

CCPA_REQUEST_LABELS = {
    "access": "Requests to know",
    "delete": "Requests to delete",
    "correct": "Requests to correct",
    "opt_out_sale_share": "Requests to opt out of sale/sharing",
    "limit_sensitive": "Requests to limit sensitive personal information",
    "restrict": "Requests to restrict (GDPR)",
    "object": "Requests to object (GDPR)",
    "portability": "Requests for portability (GDPR)",
}


def dsr_metrics(requests: pl.DataFrame, year: int | None = None, jurisdiction: str | None = "US-CA") -> pl.DataFrame:
    """Per request type and in total: received, complied with in whole or in part (completed), denied
    (rejected), withdrawn, pending (open), and the median and mean days to a substantive response
    (completions and denials with a known turnaround), for requests received in `year` (all when None)
    in `jurisdiction` (CCPA regs §7102 covers California consumers: US-CA by default; None = all).

    A California portability request is a request to know (Civ. Code §1798.130(a)(2)(B): the copy is
    delivered in a portable format), so it is counted among the requests to know. Every row names the
    year and jurisdiction the table covers (`year` null = every year, `jurisdiction` 'all').

    `requests` needs `request_type`, `status`, `received_date` and `turnaround_days` (the columns of
    `dsr_register`), and `jurisdiction` unless `jurisdiction` is None.
    """
    frame = requests
    if jurisdiction is not None:
        frame = frame.filter(pl.col("jurisdiction") == jurisdiction)
    if year is not None:
        frame = frame.filter(pl.col("received_date").dt.year() == year)
    if jurisdiction == "US-CA":
        frame = frame.with_columns(pl.col("request_type").replace({"portability": "access"}))
    responded = pl.col("status").is_in(["completed", "rejected"]) & pl.col("turnaround_days").is_not_null()
    aggs = [
        pl.len().alias("received"),
        (pl.col("status") == "completed").sum().alias("complied_in_whole_or_part"),
        (pl.col("status") == "rejected").sum().alias("denied"),
        (pl.col("status") == "withdrawn").sum().alias("withdrawn"),
        (pl.col("status") == "open").sum().alias("pending"),
        pl.col("turnaround_days").filter(responded).median().alias("median_days"),
        pl.col("turnaround_days").filter(responded).mean().round(1).alias("mean_days"),
    ]
    by_type = frame.group_by("request_type").agg(aggs)
    order = {t: i for i, t in enumerate(CCPA_REQUEST_LABELS)}
    by_type = by_type.with_columns(
        pl.col("request_type").replace_strict(CCPA_REQUEST_LABELS, default=pl.col("request_type")).alias("label"),
        pl.col("request_type").replace_strict(order, default=len(order)).alias("_order"),
    ).sort("_order", "request_type")
    total = frame.select(aggs).with_columns(
        pl.lit("all").alias("request_type"),
        pl.lit("All requests").alias("label"),
        pl.lit(len(order) + 1).alias("_order"),
    )
    columns = ["request_type", "label", "received", "complied_in_whole_or_part", "denied", "withdrawn", "pending"]
    columns += ["median_days", "mean_days"]
    out = pl.concat([by_type.select(columns), total.select(columns)], how="vertical_relaxed")
    return out.with_columns(
        pl.col(["received", "complied_in_whole_or_part", "denied", "withdrawn", "pending"]).cast(pl.Int64),
        pl.col(["median_days", "mean_days"]).cast(pl.Float64),
    ).select(
        pl.lit(year, dtype=pl.Int64).alias("year"),
        pl.lit(jurisdiction or "all", dtype=pl.String).alias("jurisdiction"),
        *columns,
    )
