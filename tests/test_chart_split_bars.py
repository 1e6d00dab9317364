"""charts.show_split_bars: a bar chart split by colour, drawn with the sentence its own fields give (the
totals per bar or per period, then per colour group), as the DSR, Overview, Retention, Data health and
Access pages show them."""

from __future__ import annotations

from datetime import date
from typing import Any

import altair as alt
import polars as pl
import pytest

from dashboard import charts

REQUESTS = pl.DataFrame(
    {"type": ["access", "access", "delete", "correct"], "state": ["Overdue", "On track", "On track", "Due soon"],
     "n": [2, 5, 1, 1]}
)  # fmt: skip
WEEKLY = pl.DataFrame(
    {"week": [date(2025, 3, 3), date(2025, 3, 10), date(2025, 3, 10)], "detector": ["a", "a", "b"], "n": [1, 4, 2]}
)
CASES = {
    "per bar, in the colour order": (
        REQUESTS,
        {"noun": "open requests", "by_noun": "types", "horizontal": True, "x": "n:Q", "y": "type:N"}
        | {"color": "state:N", "color_title": "State", "color_sort": ["Overdue", "Due soon", "On track"]},
        "9 open requests in 3 types: access 7, correct 1, delete 1. By state: Overdue 2, Due soon 1, On track 6.",
    ),
    "per period, largest group first": (
        WEEKLY,
        {"noun": "access alarms", "x": "week:T", "y": "n:Q", "time_unit": charts.WEEK}
        | {"color": "detector:N", "color_title": "Detector"},
        "7 access alarms from the week of 03 Mar 2025 to the week of 10 Mar 2025, in 2 weeks with any; the most, 6, "
        "in the week of 10 Mar 2025. By detector: a 5, b 2.",
    ),
}


class Recorder:
    """Stands in for a Streamlit container: keeps the chart's spec and the caption under it."""

    def __init__(self) -> None:
        self.specs: list[dict[str, Any]] = []
        self.captions: list[str] = []

    def altair_chart(self, chart: alt.TopLevelMixin, **_: object) -> None:
        self.specs.append(chart.to_dict())

    def caption(self, text: str) -> None:
        self.captions.append(text)


@pytest.mark.parametrize("case", CASES)
def test_a_split_bar_says_its_totals_then_each_colour_group(case: str) -> None:
    frame, options, sentence = CASES[case]
    shown = Recorder()
    charts.show_split_bars(frame, container=shown, title="t", x_title="x", y_title="y", tooltip=[], **options)
    assert shown.captions == [sentence]
    assert shown.specs[0]["description"] == sentence  # the same sentence for screen readers
