"""Altair chart builders: pure functions from small, already aggregated frames to charts, and the
one theme every dashboard chart uses.

Every chart has a title, axis titles, tooltips, and a sentence with its numbers (`show` prints it
beside the chart and gives it to screen readers as the chart's description). Frames stay far below
Altair's 5,000-row limit because the queries aggregate in DuckDB; `_guard` fails loudly rather than
letting a chart silently refuse to draw if a frame ever grows past it.

Colours: the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies); "bad"
is vermillion and "good" is blue, never red against green; severities go from wine (critical) to grey
(info), each labelled in the legend; state colours come with a second cue (a shape or a text label).
Axis text is dark grey on white (contrast 12.6:1; WCAG asks at least 4.5:1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import altair as alt
import polars as pl

from compliance.schema import SEVERITIES

MAX_ROWS = 5_000
THEME = "capantra"
BACKGROUND = "#ffffff"
TEXT = "#1f2937"  # titles and axis titles
AXIS_TEXT = "#374151"  # tick labels and legend labels
GRID = "#e5e7eb"
FONT = "sans-serif"
MIN_CONTRAST = 4.5  # WCAG 2.x, normal-size text

# Okabe & Ito (2008), "Color Universal Design": eight colours told apart with any common deficiency.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
# Roles of a state, so that every page says "bad" and "good" the same way.
ROLE_COLOURS = {
    "critical": "#882255",  # wine
    "bad": "#D55E00",  # vermillion
    "warn": "#E69F00",  # orange
    "caution": "#F0E442",  # yellow
    "good": "#0072B2",  # blue
    "good_light": "#56B4E9",  # sky blue
    "info": "#56B4E9",  # sky blue (as good_light: never both in one scale)
    "neutral": "#9CA3AF",  # grey
}
ROLE_SHAPES = {
    "critical": "diamond",
    "bad": "triangle-up",
    "warn": "square",
    "caution": "square",
    "good": "circle",
    "good_light": "circle",
    "info": "triangle-down",
    "neutral": "cross",
}

SEVERITY_DOMAIN = list(reversed(SEVERITIES))  # most severe first
SEVERITY_ROLES = ["critical", "bad", "warn", "caution", "neutral"]


def state_scale(roles: dict[str, str]) -> alt.Scale:
    """A colour scale from each state's role ('bad', 'good', ...): the same meaning, the same colour, on every page."""
    return alt.Scale(domain=list(roles), range=[ROLE_COLOURS[r] for r in roles.values()])


def state_shapes(roles: dict[str, str]) -> alt.Scale:
    """The matching shape scale, so a state never relies on colour alone."""
    return alt.Scale(domain=list(roles), range=[ROLE_SHAPES[r] for r in roles.values()])


def categorical(domain: Sequence[str]) -> alt.Scale:
    """Distinct colour-blind-safe colours for up to eight unordered categories (greys beyond that)."""
    colours = [*OKABE_ITO, *["#6B7280", "#9CA3AF", "#4B5563", "#D1D5DB"] * 4][: len(domain)]
    return alt.Scale(domain=list(domain), range=colours)


def colour_by(field: str, title: str, scale: alt.Scale) -> dict[str, Any]:
    """Bars split by `field` in the colours of `scale`, stacked and listed in the scale's domain order:
    `bar(frame, ..., **colour_by(...))`, so the order is stated once, in the scale."""
    return {"color": field, "color_title": title, "color_scale": scale, "color_sort": list(scale.domain)}


SEVERITY_SCALE = state_scale(dict(zip(SEVERITY_DOMAIN, SEVERITY_ROLES, strict=True)))
BY_SEVERITY = colour_by("severity:N", "Severity", SEVERITY_SCALE)  # bars split by severity, as every page draws them
STATUS_SCALE = state_scale({"alarm": "bad", "error": "critical", "info": "info", "skip": "neutral", "ok": "good"})
DSR_STATE_ROLES = {
    "Overdue": "bad",
    "Due soon": "warn",
    "On track": "good",
    "Awaiting verification": "good_light",
    "No deadline rule": "neutral",
}
DSR_STATE_SCALE = state_scale(DSR_STATE_ROLES)
DSR_STATE_SHAPES = state_shapes(DSR_STATE_ROLES)
# Each mechanism its own colour-blind-safe colour and a word in the cell; no safeguard is vermillion.
MECHANISMS = {
    "none_needed": ("#F7F7F7", "same"),
    "adequacy": ("#0072B2", "adequacy"),
    "dpf": ("#56B4E9", "DPF"),
    "sccs": ("#009E73", "SCCs"),
    "app8": ("#CC79A7", "APP 8"),
    "idta": ("#F0E442", "IDTA"),
    "NO SAFEGUARD": (ROLE_COLOURS["bad"], "NONE"),
    "jurisdiction unknown": ("#444444", "?"),
}
MECHANISM_SCALE = alt.Scale(domain=list(MECHANISMS), range=[v[0] for v in MECHANISMS.values()])
MECHANISM_DARK = ["#0072B2", "#444444"]  # cells whose word is written in white
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTH_FORMAT = "%b %Y"
DAY_FORMAT = "%d %b %Y"
COUNT_FORMAT = ",~f"  # 1,234 and 0.5: thousands separated, no trailing zeros
LOG_RATIO = 50  # a value axis turns to symlog when the largest bar is this many times the smallest

Tooltip = Sequence[alt.Tooltip | str]


def _theme() -> dict[str, Any]:
    axis = {
        "labelColor": AXIS_TEXT,
        "titleColor": TEXT,
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "gridColor": GRID,
        "domainColor": AXIS_TEXT,
        "tickColor": AXIS_TEXT,
        "labelFont": FONT,
        "titleFont": FONT,
    }
    return {
        "config": {
            "background": BACKGROUND,
            "font": FONT,
            "title": {"color": TEXT, "fontSize": 14, "anchor": "start", "font": FONT},
            "axis": axis,
            "axisQuantitative": {"format": COUNT_FORMAT},
            "legend": {
                "labelColor": AXIS_TEXT,
                "titleColor": TEXT,
                "labelFontSize": 12,
                "titleFontSize": 12,
                "labelFont": FONT,
                "titleFont": FONT,
            },
            "text": {"color": TEXT, "fontSize": 11},
            "range": {"category": OKABE_ITO},
            "view": {"stroke": None},
        }
    }


alt.theme.register(THEME, enable=True)(_theme)


def contrast_ratio(foreground: str, background: str = BACKGROUND) -> float:
    """WCAG 2.x contrast ratio of two '#rrggbb' colours (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def show(chart: alt.TopLevelMixin, summary: str, container: Any = None) -> None:
    """Draw `chart` in the project's theme with `summary` (a sentence with its numbers) under it, also
    given to screen readers as the chart's description."""
    import streamlit as st

    where = container if container is not None else st
    # theme=None: Streamlit's own chart theme would replace this one (and its grey axis text).
    where.altair_chart(chart.properties(description=summary), theme=None, width="stretch")
    where.caption(summary)


# --- text alternatives ----------------------------------------------------------------------------


def _label(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime(DAY_FORMAT)
    if isinstance(value, date):
        return value.strftime(DAY_FORMAT)
    return str(value)


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def count_summary(frame: pl.DataFrame, *, by: str, value: str, noun: str, by_noun: str, top: int = 5) -> str:
    """'147 alarms in 6 policy sections: 5 130, 8 9, ... .' (largest first, the smallest ones named too)."""
    if frame.height == 0:
        return f"No {noun}."
    totals = frame.group_by(by).agg(pl.col(value).sum()).sort([value, by], descending=[True, False], nulls_last=True)
    parts = [f"{_label(k)} {_num(v)}" for k, v in totals.head(top).iter_rows()]
    rest = totals.height - top
    more = f", and {rest} more with {_num(totals.tail(rest)[value].sum())}" if rest > 0 else ""
    return f"{_num(totals[value].sum())} {noun} in {totals.height} {by_noun}: {', '.join(parts)}{more}."


def breakdown(frame: pl.DataFrame, *, by: str, value: str, order: Sequence[str] | None = None) -> str:
    """'critical 3, high 10, medium 2': each group's total, in `order` (else largest first)."""
    totals = frame.group_by(by).agg(pl.col(value).sum())
    if order is not None:
        rank = {k: i for i, k in enumerate(order)}
        rows = sorted(totals.iter_rows(), key=lambda r: rank.get(r[0], len(rank)))
    else:
        rows = list(totals.sort([value, by], descending=[True, False]).iter_rows())
    return ", ".join(f"{_label(k)} {_num(v)}" for k, v in rows)


def series_summary(frame: pl.DataFrame, *, when: str, value: str, noun: str, unit: str = "month") -> str:
    """'42 requests from Mar 2016 to Dec 2025 in 14 months with any; peak 9 in Jun 2025.'"""
    if frame.height == 0:
        return f"No {noun}."
    totals = frame.group_by(when).agg(pl.col(value).sum()).sort(when)
    fmt = MONTH_FORMAT if unit == "month" else DAY_FORMAT
    first, last = totals[when].min(), totals[when].max()
    peak = totals.sort([value, when], descending=[True, False]).row(0)

    def show_when(d: object) -> str:
        text = d.strftime(fmt) if isinstance(d, date | datetime) else str(d)
        return f"the week of {text}" if unit == "week" else text

    periods = totals.filter(pl.col(value) > 0).height
    if first == last:  # one period: no range, no peak to name (and no "1 access alarms")
        return f"{noun[:1].upper()}{noun[1:]}: {_num(totals[value].sum())}, all in {show_when(first)}."
    return (
        f"{_num(totals[value].sum())} {noun} from {show_when(first)} to {show_when(last)}, in "
        f"{periods} {unit}{'' if periods == 1 else 's'} with any; the most, {_num(peak[1])}, in {show_when(peak[0])}."
    )


MIN_TIME_UNITS = 6  # a time axis spans at least this many months (or days), so one bar is not the whole chart


WEEK = "week"  # a bar per week, drawn from its first day (the frame's date) over the seven days


def _shift(day: date, units: int, time_unit: str) -> date:
    if time_unit == WEEK:
        return day + timedelta(weeks=units)
    if time_unit != "yearmonth":
        return day + timedelta(days=units)
    months = day.year * 12 + day.month - 1 + units
    return date(months // 12, months % 12 + 1, 1)


def _time_domain(frame: pl.DataFrame, field: str, time_unit: str) -> alt.Scale | Any:
    """A time axis over a short span (one week of alarms, two months of requests) widened around the data to
    MIN_TIME_UNITS units: Vega-Lite otherwise stretches a single bar over the whole width, with the same day
    as every tick."""
    values = frame[field].drop_nulls() if field in frame.columns else pl.Series([])
    if values.is_empty() or not isinstance(values[0], date):
        return alt.Undefined
    lo, hi = (d.date() if isinstance(d, datetime) else d for d in (values.min(), values.max()))
    if time_unit == "yearmonth":
        lo, hi = lo.replace(day=1), hi.replace(day=1)
        units = (hi.year - lo.year) * 12 + hi.month - lo.month
    elif time_unit == WEEK:
        units = (hi - lo).days // 7
    else:
        units = (hi - lo).days
    if units >= MIN_TIME_UNITS:
        return alt.Undefined
    pad = (MIN_TIME_UNITS - units) // 2
    start, end = _shift(lo, -pad, time_unit), _shift(hi, pad + 1, time_unit)  # the last bar spans its unit
    return alt.Scale(domain=[alt.DateTime(year=d.year, month=d.month, date=d.day) for d in (start, end)])


def _week_spans(frame: pl.DataFrame, field: str) -> pl.DataFrame:
    """`frame` with each week's end (seven days after its start in `field`) and middle, for bars and labels."""
    start = pl.col(field).cast(pl.Datetime("ms"))
    return frame.with_columns(
        (start + pl.duration(days=7)).alias("week_end_"), (start + pl.duration(hours=84)).alias("week_mid_")
    )


def _positive_spread(values: Iterable[float | None]) -> float:
    positive = [v for v in values if v is not None and v > 0]
    return max(positive) / min(positive) if positive else 1.0


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


def _field(shorthand: str) -> str:
    return shorthand.split(":")[0]


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
    time_unit: str | None = None,
    labels: bool = True,
    log: bool | None = None,
    grouped: bool = False,
) -> alt.Chart | alt.LayerChart:
    """A (stacked, when `color` is given) bar chart; encodings use Altair shorthand ('field:Q').

    Horizontal bars get one fixed-height row per category unless `height` says otherwise. With
    `time_unit` ('yearmonth', 'yearmonthdate', or WEEK for dates that start a week) the category axis is a
    true time axis: months without data are gaps, not neighbours; a week's bar spans its seven days. `labels` writes each bar's total at its end, so a
    bar of 5 next to one of 3,000 still reads; `log` (default: when the largest bar is over
    LOG_RATIO times the smallest, for unstacked bars) draws the values on a symlog scale and says so
    in the axis title. `grouped` puts the `color` groups side by side instead of stacked, each with its
    own label: 12 rejected rows next to 400,000 loaded stay visible.
    """
    cat_field, val_field = (_field(y), _field(x)) if horizontal else (_field(x), _field(y))
    stacked = color is not None and not grouped
    if log is None:  # a log scale would distort stacked segments
        log = not normalize and not stacked and _positive_spread(frame[val_field] if frame.height else []) > LOG_RATIO
    order = alt.Undefined if sort is None else sort
    if time_unit == WEEK:  # Vega-Lite's own weeks start on Sunday: the frame's week starts say where bars go
        frame = _week_spans(frame, cat_field)
    if time_unit:
        fmt = MONTH_FORMAT if time_unit == "yearmonth" else DAY_FORMAT
        cat_axis = alt.X(
            cat_field,
            type="temporal",
            timeUnit=alt.Undefined if time_unit == WEEK else time_unit,
            title=x_title,
            axis=alt.Axis(format=fmt),
            scale=_time_domain(frame, cat_field, time_unit),
        )
    elif not horizontal:
        # Category labels stay horizontal: section ids and short names read better than rotated text.
        cat_axis = alt.X(x, title=x_title, sort=order, axis=alt.Axis(labelAngle=0, labelOverlap="greedy"))
    else:
        cat_axis = alt.Y(y, title=y_title, sort=order, axis=alt.Axis(labelLimit=260))
    # Bars count things: whole-number ticks, or shares when normalised.
    axis = alt.Axis(format="%") if normalize else alt.Axis(tickMinStep=1, format=COUNT_FORMAT)
    stack = "normalize" if normalize else (None if grouped else alt.Undefined)
    scale = alt.Scale(type="symlog") if log else alt.Undefined
    val_title = (x_title if horizontal else y_title) + (" (log scale)" if log else "")
    val_axis = (
        alt.X(x, title=val_title, axis=axis, stack=stack, scale=scale)
        if horizontal
        else alt.Y(y, title=val_title, axis=axis, stack=stack, scale=scale)
    )
    enc = {"x": val_axis if horizontal else cat_axis, "y": cat_axis if horizontal else val_axis}
    if color:
        enc["color"] = _color(color, color_title, color_scale, color_sort, legend_columns)
    if time_unit == WEEK:
        enc["x2"] = alt.X2("week_end_")
    if color and grouped:
        offset = alt.YOffset if horizontal else alt.XOffset
        enc["yOffset" if horizontal else "xOffset"] = offset(
            color, sort=list(color_sort) if color_sort else alt.Undefined
        )
    height = height if height is not None else (ROW if horizontal else 240)
    if grouped and horizontal and height is ROW:
        height = alt.Step(14)  # one step per bar of a group
    # A ranged bar (x to x2) has no orientation of its own: vertical stacks the counts; 1 px between weeks.
    bar_mark = {"orient": "vertical", "x2Offset": -1} if time_unit == WEEK else {}
    bars = (
        alt.Chart(_guard(frame), title=title, height=height).mark_bar(**bar_mark).encode(**enc, tooltip=list(tooltip))
    )
    if not labels or normalize or frame.height == 0:
        return _fit(bars)
    if grouped and color:
        # Grouped: each bar its own label, at the same offset as its bar.
        text_enc = {"x": enc["x"], "y": enc["y"], "text": alt.Text(f"{val_field}:Q", format=COUNT_FORMAT)}
        text_enc["yOffset" if horizontal else "xOffset"] = enc["yOffset" if horizontal else "xOffset"]
    mark = (
        {"align": "left", "dx": 3, "baseline": "middle"}
        if horizontal
        else {"align": "center", "dy": -4, "baseline": "bottom"}
    )
    if grouped and color:
        text = alt.Chart(_guard(frame)).mark_text(color=TEXT, fontSize=11, **mark).encode(**text_enc)
        return _fit(alt.layer(_unfit(bars), text))
    # One total per bar at its end (the stack's sum), in the axis text colour; on a time axis, over the
    # middle of the bar's month or day (a bar spans its whole time unit).
    cat_x = (
        enc["x"]
        if not time_unit
        else alt.X("week_mid_", type="temporal", scale=_time_domain(frame, cat_field, time_unit))
        if time_unit == WEEK
        else alt.X(
            cat_field,
            type="temporal",
            timeUnit=time_unit,
            bandPosition=0.5,
            scale=_time_domain(frame, cat_field, time_unit),
        )
    )
    text_enc = {
        "x": alt.X(f"sum({val_field}):Q", stack=None, scale=scale) if horizontal else cat_x,
        "y": enc["y"] if horizontal else alt.Y(f"sum({val_field}):Q", stack=None, scale=scale),
        "text": alt.Text(f"sum({val_field}):Q", format=COUNT_FORMAT),
    }
    text = alt.Chart(_guard(frame)).mark_text(color=TEXT, fontSize=11, **mark).encode(**text_enc)
    return _fit(alt.layer(_unfit(bars), text))


SUMMARY_UNITS = {WEEK: "week", "yearmonth": "month", "yearmonthdate": "day"}  # series_summary's unit per time unit


def show_split_bars(
    frame: pl.DataFrame,
    *,
    noun: str,
    by_noun: str = "",
    top: int = 5,
    order: Sequence[str] | None = None,
    container: Any = None,
    **bar_options: Any,
) -> None:
    """`bar(frame, **bar_options)` split by its `color`, shown with the sentence its fields give: the totals per
    bar (`count_summary`, or `series_summary` on a time axis), then "By <colour title>: " each colour group's
    total, in `order` (default the bars' `color_sort`)."""
    category, value = (_field(bar_options[k]) for k in (("y", "x") if bar_options.get("horizontal") else ("x", "y")))
    time_unit = bar_options.get("time_unit")
    lead = (
        series_summary(frame, when=category, value=value, noun=noun, unit=SUMMARY_UNITS[time_unit])
        if time_unit
        else count_summary(frame, by=category, value=value, noun=noun, by_noun=by_noun, top=top)
    )
    groups = breakdown(
        frame,
        by=_field(bar_options["color"]),
        value=value,
        order=bar_options.get("color_sort") if order is None else order,
    )
    show(bar(frame, **bar_options), f"{lead} By {bar_options['color_title'].lower()}: {groups}.", container)


def _text_colour(color: str, scale: alt.Scale, dark_cells: Sequence[str]) -> alt.Color | alt.ColorValue:
    """White text on the cells whose fill is in `dark_cells`, the theme's text colour elsewhere."""
    dark = [d for d, c in zip(scale.domain, scale.range, strict=False) if c in dark_cells] if dark_cells else []
    if not dark:
        return alt.ColorValue(TEXT)
    field = _field(color)
    return alt.Color(
        field, type="nominal", legend=None, scale=alt.Scale(domain=list(scale.domain), range=[
            "#ffffff" if d in dark else TEXT for d in scale.domain
        ])
    )  # fmt: skip


def _heat_legend(color: str) -> alt.Legend:
    # A quantitative colour counts things: whole-number ticks (a gradient legend otherwise reads 0.5 records).
    if color.endswith(":Q"):
        return alt.Legend(orient="bottom", format=COUNT_FORMAT, tickMinStep=1)
    return alt.Legend(orient="bottom")


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
    text: str | None = None,
    dark_cells: Sequence[str] = (),
) -> alt.Chart | alt.LayerChart:
    """Rectangles on two axes; one fixed-height row per `y` category unless `height` says otherwise.
    `text` (a column) is written in each cell: the state in words, not only in colour; in white on
    dark cells (`dark_cells`: colours of the colour scale's range that need it)."""
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
            color=alt.Color(color, title=color_title, scale=scale, legend=_heat_legend(color)),
            tooltip=list(tooltip),
        )
    )
    if text is None:
        return _fit(chart)
    words = (
        alt.Chart(_guard(frame))
        .mark_text(color=TEXT, fontSize=11)
        .encode(
            x=alt.X(x, sort=alt.Undefined if x_sort is None else x_sort),
            y=alt.Y(y, sort=alt.Undefined if y_sort is None else y_sort),
            text=alt.Text(text),
            color=_text_colour(color, scale, dark_cells),
            tooltip=list(tooltip),
        )
    )
    # The words' colour scale is their own (white or dark), not the cells' one.
    return _fit(alt.layer(_unfit(chart), words).resolve_scale(color="independent"))


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
        .mark_bar(color=ROLE_COLOURS["good_light"])
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
                scale=alt.Scale(domain=list(series.values()), range=[ROLE_COLOURS["good"], ROLE_COLOURS["warn"], TEXT]),
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
            x=alt.X(f"{day}:T", title="Day (UTC)", axis=alt.Axis(format=DAY_FORMAT)),
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
    shape_scale: alt.Scale | None = None,
    rule_at: float | None = None,
) -> alt.Chart:
    """One mark per item (e.g. per open request), one row per `y` category, with an optional vertical
    rule (e.g. at 0 days left). The state is both the colour and the shape (one legend for both)."""
    shape_kwargs = {"title": color_title, "legend": alt.Legend(orient="bottom", columns=3, labelLimit=220)}
    if shape_scale is not None:
        shape_kwargs["scale"] = shape_scale
    dot = (
        alt.Chart(_guard(frame), title=title, height=alt.Step(30))
        .mark_point(size=90, opacity=0.85, filled=True)
        .encode(
            x=alt.X(x, title=x_title),
            y=alt.Y(y, title=y_title),
            color=_color(color, color_title, color_scale),
            shape=alt.Shape(color, **shape_kwargs),
            tooltip=list(tooltip),
        )
    )
    if rule_at is None:
        return _fit(dot)
    rule = alt.Chart(pl.DataFrame({"at": [rule_at]})).mark_rule(color=TEXT, strokeDash=[6, 3]).encode(x="at:Q")
    return _fit(alt.layer(dot, rule))


def with_day_rules(chart: alt.Chart, days: pl.DataFrame, *, day: str, label: str, label_title: str) -> alt.LayerChart:
    """`chart` (with a temporal x) with a red vertical rule on each of `days` (e.g. alarm days)."""
    rules = (
        alt.Chart(_guard(days))
        .mark_rule(color=ROLE_COLOURS["bad"], size=2)
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
        .mark_rule(color=TEXT, strokeDash=[6, 3], size=2)
        .encode(x="limit:Q", tooltip=[alt.Tooltip("limit:Q", title="Limit")])
    )
    return _fit(alt.layer(_unfit(bars), rule))
