"""Altair chart builders: pure functions from small, already aggregated frames to charts.

Every chart has a title, axis titles and tooltips. Frames stay far below Altair's 5,000-row limit
because the queries aggregate in DuckDB; `_guard` fails loudly rather than letting a chart silently
refuse to draw if a frame ever grows past it.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from compliance.schema import SEVERITIES

MAX_ROWS = 5_000
SEVERITY_DOMAIN = list(reversed(SEVERITIES))  # most severe first
SEVERITY_SCALE = alt.Scale(domain=SEVERITY_DOMAIN, range=["#7f1d1d", "#dc2626", "#f97316", "#eab308", "#94a3b8"])
DSR_STATE_SCALE = alt.Scale(
    domain=["Overdue", "Due soon", "On track", "Awaiting verification", "No deadline rule"],
    range=["#dc2626", "#f97316", "#16a34a", "#60a5fa", "#94a3b8"],
)
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

Tooltip = Sequence[alt.Tooltip | str]


def _guard(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.height > MAX_ROWS:
        raise ValueError(f"{frame.height} rows is too many for one chart: aggregate in SQL first")
    return frame


def _fit(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Fit the width to the container but keep the requested plot height: Streamlit's default
    ('fit' both ways) squeezes the plot to make room for legends and long axis labels."""
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def _unfit(chart: alt.Chart) -> alt.Chart:
    """A copy without autosize, so it can be a layer (only the top-level chart may size itself)."""
    layer = chart.copy()
    layer.autosize = alt.Undefined
    return layer


ROW = alt.Step(22)  # the height of one category row in horizontal bars and heat maps


def _color(
    field: str, title: str, scale: alt.Scale | None = None, sort: Sequence[str] | None = None, columns: int = 3
) -> alt.Color:
    kwargs = {"title": title, "legend": alt.Legend(orient="bottom", columns=columns, labelLimit=220)}
    if scale is not None:
        kwargs["scale"] = scale
    if sort is not None:
        kwargs["sort"] = list(sort)
    return alt.Color(field, **kwargs)


def bar(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    tooltip: Tooltip,
    color: str | None = None,
    color_title: str = "",
    color_scale: alt.Scale | None = None,
    color_sort: Sequence[str] | None = None,
    horizontal: bool = False,
    sort: Sequence[str] | str | None = None,
    height: int | alt.Step | None = None,
    normalize: bool = False,
    legend_columns: int = 3,
) -> alt.Chart:
    """A (stacked, when `color` is given) bar chart; encodings use Altair shorthand ('field:Q').
    Horizontal bars get one fixed-height row per category unless `height` says otherwise."""
    order = alt.Undefined if sort is None else sort
    # Category labels stay horizontal: section ids and short names read better than rotated text.
    cat_axis = (
        alt.X(x, title=x_title, sort=order, axis=alt.Axis(labelAngle=0, labelOverlap="greedy"))
        if not horizontal
        else alt.Y(y, title=y_title, sort=order, axis=alt.Axis(labelLimit=260))
    )
    # Bars count things: whole-number ticks, or shares when normalised.
    axis = alt.Axis(format="%") if normalize else alt.Axis(tickMinStep=1)
    stack = "normalize" if normalize else alt.Undefined
    val_axis = (
        alt.Y(y, title=y_title, axis=axis, stack=stack)
        if not horizontal
        else alt.X(x, title=x_title, axis=axis, stack=stack)
    )
    enc = {"x": cat_axis if not horizontal else val_axis, "y": val_axis if not horizontal else cat_axis}
    if color:
        enc["color"] = _color(color, color_title, color_scale, color_sort, legend_columns)
    height = height if height is not None else (ROW if horizontal else 240)
    return _fit(alt.Chart(_guard(frame), title=title, height=height).mark_bar().encode(**enc, tooltip=list(tooltip)))


def heatmap(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    color: str,
    title: str,
    x_title: str,
    y_title: str,
    color_title: str,
    tooltip: Tooltip,
    x_sort: Sequence[str] | str | None = None,
    y_sort: Sequence[str] | str | None = None,
    color_scale: alt.Scale | None = None,
    height: int | alt.Step | None = None,
    x_angle: int = 0,
) -> alt.Chart:
    """Rectangles on two axes; one fixed-height row per `y` category unless `height` says otherwise."""
    scale = color_scale or alt.Scale(scheme="blues")
    chart = (
        alt.Chart(_guard(frame), title=title, height=height if height is not None else ROW, width="container")
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                x,
                title=x_title,
                sort=alt.Undefined if x_sort is None else x_sort,
                axis=alt.Axis(labelAngle=x_angle, labelOverlap="greedy"),
            ),
            y=alt.Y(y, title=y_title, sort=alt.Undefined if y_sort is None else y_sort, axis=alt.Axis(labelLimit=260)),
            color=alt.Color(color, title=color_title, scale=scale, legend=alt.Legend(orient="bottom")),
            tooltip=list(tooltip),
        )
    )
    return _fit(chart)


def line(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    title: str,
    x_title: str,
    y_title: str,
    tooltip: Tooltip,
    color: str | None = None,
    color_title: str = "",
    height: int = 260,
) -> alt.Chart:
    enc = {"x": alt.X(x, title=x_title), "y": alt.Y(y, title=y_title), "tooltip": list(tooltip)}
    if color:
        enc["color"] = _color(color, color_title)
    return _fit(alt.Chart(_guard(frame), title=title, height=height).mark_line(point=True).encode(**enc))


def hours_heatmap(frame: pl.DataFrame, *, title: str, value: str, value_title: str, hour: str) -> alt.Chart:
    """Weekday (rows, Monday first) by hour of day (0-24, every hour drawn, so empty nights show as
    empty); `frame` has iso_weekday 1..7 and `hour`."""
    labelled = frame.with_columns(
        pl.col("iso_weekday")
        .replace_strict(dict(enumerate(WEEKDAYS, start=1)), return_dtype=pl.String)
        .alias("weekday"),
        (pl.col(hour) + 1).alias("_hour_end"),
    )
    return _fit(
        alt.Chart(_guard(labelled), title=title, height=alt.Step(26))
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                f"{hour}:Q",
                title="Hour of day (local)",
                scale=alt.Scale(domain=[0, 24], nice=False),
                axis=alt.Axis(values=list(range(0, 25, 2))),
            ),
            x2="_hour_end:Q",
            y=alt.Y("weekday:O", title="Weekday", scale=alt.Scale(domain=WEEKDAYS)),  # empty weekends too
            color=alt.Color(
                f"{value}:Q",
                title=value_title,
                scale=alt.Scale(scheme="blues", domainMin=0),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("weekday:N", title="Weekday"),
                alt.Tooltip(f"{hour}:Q", title="Hour"),
                alt.Tooltip("events:Q", title="Events", format=","),
                alt.Tooltip("records:Q", title="Records", format=","),
            ],
        )
    )


def volume_vs_baseline(daily: pl.DataFrame, *, title: str, peer_label: str) -> alt.LayerChart:
    """Bars of the actor's daily records, with lines for their own baseline median and their peers'
    median and high quantile. `daily`: activity_date, records, baseline_median_records,
    peer_median_records, peer_quantile_records."""
    series = {
        "baseline_median_records": "Own baseline median",
        "peer_median_records": "Peers' median",
        "peer_quantile_records": peer_label,
    }
    lines_frame = (
        daily.unpivot(index="activity_date", on=list(series), variable_name="series", value_name="value")
        .drop_nulls("value")
        .with_columns(pl.col("series").replace_strict(series))
    )
    x = alt.X("activity_date:T", title="Day (UTC)")
    bars = (
        alt.Chart(_guard(daily), title=title, height=260)
        .mark_bar(color="#2563eb", opacity=0.7)
        .encode(
            x=x,
            y=alt.Y("records:Q", title="Records touched per day"),
            tooltip=[
                alt.Tooltip("activity_date:T", title="Day"),
                alt.Tooltip("records:Q", title="Records", format=","),
                alt.Tooltip("baseline_median_records:Q", title="Own baseline median", format=",.1f"),
                alt.Tooltip("peer_median_records:Q", title="Peers' median", format=",.1f"),
                alt.Tooltip("peer_quantile_records:Q", title=peer_label, format=",.1f"),
            ],
        )
    )
    lines = (
        alt.Chart(_guard(lines_frame))
        .mark_line(strokeDash=[4, 2], point=True)
        .encode(
            x=x,
            y="value:Q",
            color=alt.Color(
                "series:N",
                title="Compared with",
                scale=alt.Scale(domain=list(series.values()), range=["#16a34a", "#f97316", "#dc2626"]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("activity_date:T", title="Day"),
                alt.Tooltip("series:N", title="Series"),
                alt.Tooltip("value:Q", title="Records", format=",.1f"),
            ],
        )
    )
    return _fit(alt.layer(bars, lines))


def day_heatmap(
    frame: pl.DataFrame,
    *,
    day: str,
    y: str,
    value: str,
    title: str,
    y_title: str,
    value_title: str,
    tooltip: Tooltip,
    span_days: int = 1,
) -> alt.Chart:
    """One cell per (row, day), exactly `span_days` wide, so a day without data shows as a gap."""
    spans = frame.with_columns((pl.col(day) + pl.duration(days=span_days)).alias("_next_day"))
    return _fit(
        alt.Chart(_guard(spans), title=title, height=ROW)
        .mark_rect()
        .encode(
            x=alt.X(f"{day}:T", title="Day (UTC)"),
            x2="_next_day:T",
            y=alt.Y(f"{y}:N", title=y_title, axis=alt.Axis(labelLimit=260)),
            color=alt.Color(
                f"{value}:Q", title=value_title, scale=alt.Scale(scheme="blues"), legend=alt.Legend(orient="bottom")
            ),
            tooltip=list(tooltip),
        )
    )


def dots(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    color: str,
    title: str,
    x_title: str,
    y_title: str,
    color_title: str,
    tooltip: Tooltip,
    color_scale: alt.Scale | None = None,
    rule_at: float | None = None,
) -> alt.Chart:
    """One dot per item (e.g. per open request), one row per `y` category, with an optional vertical
    rule (e.g. at 0 days left)."""
    dot = (
        alt.Chart(_guard(frame), title=title, height=alt.Step(30))
        .mark_circle(size=90, opacity=0.8)
        .encode(
            x=alt.X(x, title=x_title),
            y=alt.Y(y, title=y_title),
            color=_color(color, color_title, color_scale),
            tooltip=list(tooltip),
        )
    )
    if rule_at is None:
        return _fit(dot)
    rule = alt.Chart(pl.DataFrame({"at": [rule_at]})).mark_rule(color="#7f1d1d", strokeDash=[6, 3]).encode(x="at:Q")
    return _fit(alt.layer(dot, rule))


def with_day_rules(chart: alt.Chart, days: pl.DataFrame, *, day: str, label: str, label_title: str) -> alt.LayerChart:
    """`chart` (with a temporal x) with a red vertical rule on each of `days` (e.g. alarm days)."""
    rules = (
        alt.Chart(_guard(days))
        .mark_rule(color="#dc2626", size=2)
        .encode(
            x=f"{day}:T",
            tooltip=[alt.Tooltip(f"{day}:T", title="Day"), alt.Tooltip(f"{label}:N", title=label_title)],
        )
    )
    return _fit(alt.layer(_unfit(chart), rules))


def against_limit(
    frame: pl.DataFrame,
    *,
    x: str,
    y: str,
    limit: float,
    title: str,
    x_title: str,
    y_title: str,
    tooltip: Tooltip,
    color: str,
    color_title: str,
    color_scale: alt.Scale | None = None,
) -> alt.Chart:
    """Horizontal bars (one per item) against a dashed rule at the legal limit."""
    bars = bar(
        frame,
        x=x,
        y=y,
        title=title,
        x_title=x_title,
        y_title=y_title,
        tooltip=tooltip,
        color=color,
        color_title=color_title,
        color_scale=color_scale,
        horizontal=True,
    )
    rule = (
        alt.Chart(pl.DataFrame({"limit": [limit]}))
        .mark_rule(color="#7f1d1d", strokeDash=[6, 3], size=2)
        .encode(x="limit:Q", tooltip=[alt.Tooltip("limit:Q", title="Limit")])
    )
    return _fit(alt.layer(_unfit(bars), rule))
