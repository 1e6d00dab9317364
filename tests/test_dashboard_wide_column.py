"""dashboard.format: a table's long-text column is named by its source column, so it keeps its room under any label."""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboard import format as fmt

FRAME = pl.DataFrame({"resource": [f"actor:{i}" for i in range(40)], "reason": ["a long reason"] * 40})


class _Page:
    """Stands in for a Streamlit container: keeps what each table call was given."""

    column_config = st.column_config

    def __init__(self) -> None:
        self.calls: list[tuple[pl.DataFrame, dict[str, Any]]] = []

    def dataframe(self, frame: pl.DataFrame, **options: Any) -> None:
        self.calls.append((frame, options))


def _widths(options: dict[str, Any]) -> dict[str, str | None]:
    return {label: config.get("width") for label, config in options["column_config"].items()}


def test_grid_gives_the_relabelled_reason_column_the_room() -> None:
    page = _Page()
    fmt.grid(FRAME, {"resource": "Resource", "reason": "Finding"}, container=page, wide="reason", key="k")
    frame, options = page.calls[0]
    assert frame.columns == ["Resource", "Finding"]
    assert _widths(options) == {"Finding": "large"}
    assert options["key"] == "k"


def test_show_findings_widens_the_reason_under_the_callers_label(monkeypatch) -> None:
    # The security page lists informational findings under "Finding": the width must follow that label.
    page = _Page()
    monkeypatch.setattr(fmt, "st", page)
    fmt.show_findings(FRAME, fmt.Identities(reveal=True), {"resource": "Resource", "reason": "Finding"})
    frame, options = page.calls[0]
    assert frame.columns == ["Resource", "Finding"]
    assert _widths(options) == {"Finding": "large"}


def test_blank_grid_resolves_the_label_before_relabelling() -> None:
    page = _Page()
    fmt.blank_grid(FRAME, {"reason": "Why", "resource": "Resource"}, container=page, wide="reason")
    frame, options = page.calls[0]
    assert frame.columns == ["Why", "Resource"]
    assert _widths(options) == {"Why": "large"}
