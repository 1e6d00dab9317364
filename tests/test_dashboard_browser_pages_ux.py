"""Issue 18's Overview, DSR and Retention changes in a real browser (headless Chromium), on the small demo and on
tests/stale_bundle.py (a DSR export ending 62 days before the as-of date). Screenshots go to
artifacts/screenshots/ux-<database>-<page>.png for a person to look at."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from dashboard_support import (
    BROWSER_MARKS,
    SCREENSHOTS,
    page_at,
    screenshot_whole_page,
    settle,
)

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module", params=["demo", "stale"])
def server(
    request: pytest.FixtureRequest, serve_dashboard: Callable[[Path], AbstractContextManager[str]]
) -> Iterator[tuple[str, str]]:
    db = request.getfixturevalue("demo_db" if request.param == "demo" else "stale_db")
    with serve_dashboard(db) as url:
        yield request.param, url


def _shoot(page: object, name: str) -> Path:
    path = SCREENSHOTS / f"ux-{name}.png"
    screenshot_whole_page(page, path)
    assert page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    return path


def _click_row(page: object, grid: object, row: int) -> None:
    """Click the row-selection cell of a data row (0 = the first; Glide draws rows 35 px high on a canvas)."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 35 * row + 17)  # below the header row
    settle(page)


@pytest.mark.parametrize("page_name", ["overview", "retention"])
def test_pages_in_a_browser(server: tuple[str, str], browser: object, page_name: str) -> None:
    db, url = server
    with page_at(browser, f"{url}/{'' if page_name == 'overview' else page_name}") as page:
        body = page.locator('[data-testid="stMain"]').inner_text()
        if page_name == "overview":
            assert "Top open problems, by policy section" in body and "Section to drill into" in body
            assert ("dsr: ends 2025-03-31, 62 days before" in body) == (db == "stale")
        else:
            assert "Records that need action" in body and "Days overdue" in body
        _shoot(page, f"{db}-{page_name}")


def _explained(page: object) -> str:
    """The request picked in "Explain the deadline of request" (the combobox's value)."""
    return page.locator('[data-testid="stSelectbox"]').last.locator("input").input_value()


def test_dsr_in_a_browser(server: tuple[str, str], browser: object) -> None:
    """Stale data said where the numbers are, the turnaround table whole, a row click explaining its request."""
    db, url = server
    with page_at(browser, f"{url}/dsr") as page:
        body = page.locator('[data-testid="stMain"]').inner_text()
        if db == "stale":
            assert "ends on 2025-03-31, 62 days before the as-of date" in body
            assert "No request is open" in body
            assert not page.locator('[data-testid="stAlertContentSuccess"]').count(), "good news on stale data"
        turnaround = page.locator('[data-testid="stTable"]').first
        assert "Closed on time" in turnaround.inner_text()
        widths = turnaround.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1] + 1, f"the turnaround table overflows: {widths}"
        _shoot(page, f"{db}-dsr")
        first = _explained(page)  # the first row's request, explained by default
        _click_row(page, page.locator('[data-testid="stDataFrame"]').last, 1)
        second = _explained(page)
        assert second and second != first, "a click on the second row explains the second request"
        assert f"{second} · " in page.locator('[data-testid="stMain"]').inner_text()
        _shoot(page, f"{db}-dsr-clicked")
