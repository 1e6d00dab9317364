"""The dashboard in a real browser: headless Chromium (Debian's, driven by Playwright) against
`streamlit run dashboard/app.py` on localhost, on the small demo database.

Every page must finish running with no exception box and no error alert, draw its charts, and leave
a screenshot in artifacts/screenshots/<page>.png for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from dashboard_support import (
    BROWSER_MARKS,
    PAGE_SECONDS,
    PAGES,
    SCREENSHOTS,
    page_at,
    screenshot_whole_page,
    settle,
)

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(demo_db: Path, serve_dashboard: Callable[[Path], AbstractContextManager[str]]) -> Iterator[str]:
    with serve_dashboard(demo_db) as url:
        yield url


@pytest.mark.parametrize("page_path", PAGES)
def test_page_in_a_browser(server: str, browser: object, page_path: str) -> None:
    name = Path(page_path).stem
    with page_at(browser, f"{server}/{'' if name == 'overview' else name}") as page:
        screenshot_whole_page(page, SCREENSHOTS / f"{name}.png")
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, errors.first.inner_text()
        if name not in ("evidence", "access_log", "triage"):  # tables, forms and downloads only
            charts = page.locator('[data-testid="stVegaLiteChart"]')
            assert charts.count() > 0, "no chart was drawn"
            # Vega draws into a canvas or svg; an Altair error would leave the container empty.
            assert page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').count()


def test_a_typed_date_applies_on_enter_and_the_link_copies(server: str, browser: object) -> None:
    """Typing an as-of date and pressing Enter applies it (URL, banner), and the copy button of the sidebar's
    "Copy link to this view" puts a link on the clipboard that pins the page, that date and the filters."""
    with page_at(browser, f"{server}/data_health", permissions=["clipboard-read", "clipboard-write"]) as page:
        newest = page.url.split("as_of=")[1][:10]
        wanted = f"{int(newest[:4]) - 1}{newest[4:]}"  # a year earlier: within the small demo's data
        box = page.get_by_placeholder("YYYY-MM-DD, then Enter")
        box.fill(wanted)
        box.press("Enter")
        page.wait_for_url(f"**as_of={wanted}**", timeout=PAGE_SECONDS * 1000)
        settle(page)
        assert page.get_by_text("Viewing as of").count() == 1
        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Copy link to this view").click()
        link = page.locator('[data-testid="stCode"]')  # in the popover, which opens over the page
        link.wait_for(timeout=PAGE_SECONDS * 1000)
        link.hover()
        link.get_by_role("button").first.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f"{server}/data_health?") and f"as_of={wanted}" in copied
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "as_of_typed.png"))
