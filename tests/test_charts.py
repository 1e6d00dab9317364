"""The chart specs (dashboard/charts.py): theme contrast, colour-blind-safe palettes, severity colours,
true time axes, small counts visible, and the sentences that go beside each chart.

Charts are not drawn here (that is tests/test_dashboard_browser.py): these check the Vega-Lite specs.
"""

from __future__ import annotations

import itertools
from datetime import date

import altair as alt
import polars as pl
import pytest

from dashboard import charts

# Viénot, Brettel & Mollon (1999): protanopia and deuteranopia as 3x3 matrices on linear RGB.
DEFICIENCIES = {
    "protanopia": [[0.11238, 0.88762, 0.0], [0.11238, 0.88762, 0.0], [0.00401, -0.00401, 1.0]],
    "deuteranopia": [[0.29275, 0.70725, 0.0], [0.29275, 0.70725, 0.0], [-0.02234, 0.02234, 1.0]],
}
MIN_DELTA_E = 15  # CIE76 colour difference: the old transfer mechanisms' six greens were 10.5 apart


def _linear(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _lab(colour: str, deficiency: str | None) -> tuple[float, float, float]:
    """CIE L*a*b* of `colour` as seen with `deficiency` (simulated on linear RGB)."""
    rgb = [_linear(int(colour.lstrip("#")[i : i + 2], 16) / 255) for i in (0, 2, 4)]
    if deficiency:
        m = DEFICIENCIES[deficiency]
        rgb = [min(max(sum(m[r][k] * rgb[k] for k in range(3)), 0.0), 1.0) for r in range(3)]
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _closest_pair(colours: list[str], deficiency: str | None) -> float:
    seen = [_lab(c, deficiency) for c in colours]
    return min(sum((a - b) ** 2 for a, b in zip(p, q, strict=True)) ** 0.5 for p, q in itertools.combinations(seen, 2))


def _spec(chart: alt.TopLevelMixin) -> dict:
    return chart.to_dict()  # validates against the Vega-Lite schema; the theme's config is merged in


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_the_theme_axis_and_legend_text_meets_wcag_contrast() -> None:
    spec = _spec(charts.bar(pl.DataFrame({"a": ["x"], "n": [1]}), x="a:N", y="n:Q", title="t", x_title="A",
                            y_title="N", tooltip=["a"]))  # fmt: skip
    config = spec["config"]
    for colour in (config["axis"]["labelColor"], config["axis"]["titleColor"], config["legend"]["labelColor"],
                   config["title"]["color"]):  # fmt: skip
        assert charts.contrast_ratio(colour, config["background"]) >= charts.MIN_CONTRAST, colour
    # The ratio itself, against WCAG's own examples: black on white 21:1, #777 on white about 4.48:1.
    assert charts.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert charts.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize("deficiency", [None, "protanopia", "deuteranopia"])
@pytest.mark.parametrize(
    "scale",
    [
        charts.SEVERITY_SCALE,
        charts.STATUS_SCALE,
        charts.DSR_STATE_SCALE,
        charts.categorical(list("abcdef")),
        charts.MECHANISM_SCALE,
    ],
    ids=["severity", "status", "dsr-state", "six-categories", "transfer-mechanisms"],
)
def test_palettes_stay_distinct_with_colour_vision_deficiencies(scale: alt.Scale, deficiency: str | None) -> None:
    assert _closest_pair(list(scale.range), deficiency) >= MIN_DELTA_E


def test_the_old_six_greens_would_have_failed() -> None:
    greens = ["#bbf7d0", "#86efac", "#4ade80", "#22c55e", "#16a34a", "#15803d"]
    assert _closest_pair(greens, None) < MIN_DELTA_E


def test_critical_and_high_are_different_hues_and_both_labelled() -> None:
    colours = dict(zip(charts.SEVERITY_SCALE.domain, charts.SEVERITY_SCALE.range, strict=True))
    assert list(colours) == ["critical", "high", "medium", "low", "info"]
    assert min(_closest_pair([colours["critical"], colours["high"]], d) for d in (None, *DEFICIENCIES)) >= 30
    frame = pl.DataFrame({"section": ["5", "5"], "severity": ["critical", "high"], "alarms": [1, 2]})
    spec = _spec(charts.bar(frame, x="section:N", y="alarms:Q", color="severity:N", color_title="Severity",
                            color_scale=charts.SEVERITY_SCALE, title="t", x_title="S", y_title="A", tooltip=[]))  # fmt: skip
    color = _layers(spec)[0]["encoding"]["color"]
    assert color["title"] == "Severity" and color["legend"] is not None


def test_no_state_scale_pairs_red_with_green() -> None:
    def hue_family(colour: str) -> str:
        r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
        if g > r + 30 and g > b + 10:
            return "green"
        if r > g + 60 and r > b + 60:
            return "red"
        return "other"

    for scale in (charts.STATUS_SCALE, charts.DSR_STATE_SCALE, charts.SEVERITY_SCALE):
        families = {hue_family(c) for c in scale.range}
        assert not {"red", "green"} <= families, scale.range


def test_a_month_axis_is_a_true_time_axis() -> None:
    frame = pl.DataFrame({"month": [date(2016, 3, 1), date(2025, 1, 1)], "alarms": [2, 3]})
    spec = _spec(charts.bar(frame, x="month:T", y="alarms:Q", time_unit="yearmonth", title="t", x_title="Month",
                            y_title="Alarms", tooltip=[]))  # fmt: skip
    x = _layers(spec)[0]["encoding"]["x"]
    assert x["type"] == "temporal" and x["timeUnit"] == "yearmonth"  # 2016-03 and 2025-01 are years apart
    assert x["axis"]["format"] == charts.MONTH_FORMAT
    text_x = _layers(spec)[1]["encoding"]["x"]
    assert text_x["timeUnit"] == "yearmonth" and text_x["bandPosition"] == 0.5  # the label over its bar's middle


def test_counts_are_written_on_the_bars_and_a_wide_spread_turns_to_a_log_scale() -> None:
    frame = pl.DataFrame({"state": ["within", "past"], "records": [3000, 5]})
    spec = _spec(charts.bar(frame, x="records:Q", y="state:N", horizontal=True, title="t", x_title="Records",
                            y_title="State", tooltip=[]))  # fmt: skip
    bars, text = _layers(spec)
    assert bars["encoding"]["x"]["scale"]["type"] == "symlog"
    assert bars["encoding"]["x"]["title"] == "Records (log scale)"
    assert text["mark"]["type"] == "text" and text["encoding"]["text"]["field"] == "records"
    even = pl.DataFrame({"state": ["a", "b"], "records": [30, 50]})
    plain = _layers(_spec(charts.bar(even, x="records:Q", y="state:N", horizontal=True, title="t", x_title="R",
                                     y_title="S", tooltip=[])))[0]  # fmt: skip
    assert "scale" not in plain["encoding"]["x"]


def test_grouped_bars_show_a_small_group_beside_a_large_one() -> None:
    frame = pl.DataFrame({"cat": ["a", "a"], "state": ["Within", "Past"], "records": [3000, 5]})
    spec = _spec(charts.bar(frame, x="records:Q", y="cat:N", color="state:N", grouped=True, horizontal=True,
                            title="t", x_title="R", y_title="C", tooltip=[]))  # fmt: skip
    bars, text = _layers(spec)
    assert bars["encoding"]["yOffset"]["field"] == "state" and bars["encoding"]["x"]["stack"] is None
    assert bars["encoding"]["x"]["scale"]["type"] == "symlog"
    assert text["encoding"]["yOffset"]["field"] == "state"


def test_dots_carry_the_state_as_shape_as_well_as_colour() -> None:
    frame = pl.DataFrame({"days": [-3, 5], "j": ["EU", "UK"], "state": ["Overdue", "On track"]})
    spec = _spec(charts.dots(frame, x="days:Q", y="j:N", color="state:N", title="t", x_title="d", y_title="j",
                             color_title="State", tooltip=[], color_scale=charts.DSR_STATE_SCALE,
                             shape_scale=charts.DSR_STATE_SHAPES, rule_at=0))  # fmt: skip
    enc = _layers(spec)[0]["encoding"]
    assert enc["shape"]["field"] == enc["color"]["field"] == "state"
    assert enc["shape"]["title"] == enc["color"]["title"]  # one legend for both


def test_heatmap_cells_can_carry_words() -> None:
    frame = pl.DataFrame({"r": ["EU"], "j": ["US"], "basis": ["NO SAFEGUARD"], "word": ["NONE"]})
    spec = _spec(charts.heatmap(frame, x="r:N", y="j:N", color="basis:N", text="word:N", title="t", x_title="R",
                                y_title="J", color_title="M", tooltip=[]))  # fmt: skip
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["rect", "text"]


def test_summaries_state_the_numbers() -> None:
    frame = pl.DataFrame(
        {"section": ["5", "5", "8", "9", "2", "3", "4"], "sev": ["high", "critical", "low", "high", "low", "low", "low"],
         "n": [120, 10, 9, 4, 1, 1, 2]}
    )  # fmt: skip
    assert charts.count_summary(frame, by="section", value="n", noun="open alarms", by_noun="sections", top=3) == (
        "147 open alarms in 6 sections: 5 130, 8 9, 9 4, and 3 more with 4."
    )
    assert charts.breakdown(frame, by="sev", value="n", order=charts.SEVERITY_DOMAIN) == "critical 10, high 124, low 13"
    months = pl.DataFrame({"month": [date(2016, 3, 1), date(2025, 1, 1), date(2025, 2, 1)], "n": [1, 6, 0]})
    assert charts.series_summary(months, when="month", value="n", noun="requests") == (
        "7 requests from Mar 2016 to Feb 2025, in 2 months with any; the most, 6, in Jan 2025."
    )
    assert (
        charts.count_summary(frame.head(0), by="section", value="n", noun="alarms", by_noun="sections") == "No alarms."
    )


def test_show_gives_the_summary_to_screen_readers(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[tuple[str, object]] = []

    class Recorder:
        def altair_chart(self, chart: alt.TopLevelMixin, **kwargs: object) -> None:
            drawn.append(("chart", chart.to_dict()["description"], kwargs["theme"]))

        def caption(self, text: str) -> None:
            drawn.append(("caption", text))

    chart = charts.bar(pl.DataFrame({"a": ["x"], "n": [1]}), x="a:N", y="n:Q", title="t", x_title="A", y_title="N",
                       tooltip=[])  # fmt: skip
    charts.show(chart, "1 alarm in 1 section: x 1.", Recorder())
    assert drawn == [("chart", "1 alarm in 1 section: x 1.", None), ("caption", "1 alarm in 1 section: x 1.")]


def test_a_short_time_axis_is_widened_and_one_period_is_said_plainly() -> None:
    """One week of alarms: Vega-Lite would stretch its bar over the whole chart, every tick the same day; the axis
    spans MIN_TIME_UNITS days around it instead, and the summary names the week once."""
    weekly = pl.DataFrame({"week": [date(2025, 5, 12)], "alarms": [1], "detector": ["off hours"]})
    chart = charts.bar(
        weekly, x="week:T", y="alarms:Q", time_unit="yearmonthdate", color="detector:N", title="t", x_title="Week",
        y_title="Alarms", tooltip=[],
    )  # fmt: skip
    domain = chart.to_dict()["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain == [{"year": 2025, "month": 5, "date": 9}, {"year": 2025, "month": 5, "date": 16}]
    assert charts.series_summary(weekly, when="week", value="alarms", noun="access alarms", unit="week") == (
        "Access alarms: 1, all in the week of 12 May 2025."
    )
    months = pl.DataFrame({"month": [date(2025, 1, 1), date(2025, 3, 1)], "n": [2, 1]})
    chart = charts.bar(months, x="month:T", y="n:Q", time_unit="yearmonth", title="t", x_title="M", y_title="N",
                       tooltip=[])  # fmt: skip
    domain = chart.to_dict()["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain == [{"year": 2024, "month": 11, "date": 1}, {"year": 2025, "month": 6, "date": 1}]
    # A long series keeps Vega-Lite's own domain (the data's span).
    years = pl.DataFrame({"month": [date(2016, 3, 1), date(2025, 1, 1)], "n": [1, 6]})
    chart = charts.bar(years, x="month:T", y="n:Q", time_unit="yearmonth", title="t", x_title="M", y_title="N",
                       tooltip=[])  # fmt: skip
    assert "scale" not in chart.to_dict()["layer"][0]["encoding"]["x"]


def test_a_weekly_bar_spans_its_week() -> None:
    """Weeks start on the frame's dates (Mondays here): each bar runs from that day to the next week's start,
    not one day wide, and its total is written over the middle of the week."""
    weekly = pl.DataFrame(
        {
            "week": [date(2025, 5, 12), date(2025, 5, 12), date(2025, 6, 2)],
            "alarms": [1, 2, 4],
            "detector": ["a", "b", "a"],
        }
    )
    spec = _spec(charts.bar(weekly, x="week:T", y="alarms:Q", time_unit=charts.WEEK, color="detector:N", title="t",
                            x_title="Week", y_title="Alarms", tooltip=[]))  # fmt: skip
    bars, text = _layers(spec)
    assert bars["encoding"]["x"]["type"] == "temporal" and "timeUnit" not in bars["encoding"]["x"]
    assert bars["encoding"]["x2"]["field"] == "week_end_" and bars["mark"]["orient"] == "vertical"
    first = spec["datasets"][spec["data"]["name"]][0]
    assert (first["week"], first["week_end_"], first["week_mid_"]) == (
        "2025-05-12T00:00:00", "2025-05-19T00:00:00", "2025-05-15T12:00:00"
    )  # fmt: skip
    assert text["encoding"]["x"]["field"] == "week_mid_" and text["encoding"]["y"]["aggregate"] == "sum"
    # Three weeks of data: the axis is widened by whole weeks, to the end of the week after the last.
    domain = bars["encoding"]["x"]["scale"]["domain"]
    assert domain == [{"year": 2025, "month": 5, "date": 5}, {"year": 2025, "month": 6, "date": 16}]
