"""The dashboard in a real browser: headless Chromium (Debian's, driven by Playwright) against
`streamlit run dashboard/app.py` on localhost, on the small demo database.

Every page must finish running with no exception box and no error alert, draw its charts, and leave
a screenshot in artifacts/screenshots/<page>.png for a person to look at.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from test_dashboard_apptest import PAGES, build_small_demo

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_SECONDS = 60
PAGE_SECONDS = 180  # a cold Overview evaluates every control before it settles

pytestmark = [
    pytest.mark.browser,
    pytest.mark.xdist_group("dashboard"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `make browser-deps`"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the server and anything it started (its own process group), politely first."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def running_dashboard(env: Mapping[str, str], log: Path, cwd: Path = ROOT, port: int | None = None) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on 127.0.0.1 with `env`, run from `cwd` (whose .streamlit/ it
    reads); yields its URL once it answers, stops it afterwards. Its output goes to `log`."""
    port = port or _free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = build_small_demo(tmp_path_factory.getbasetemp() / "dashboard-demo")
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    with running_dashboard(dict(os.environ, COMPLIANCE_DB=str(db), COMPLIANCE_DASHBOARD_PERSIST="0"), log) as url:
        yield url


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def _settle(page: object) -> None:
    """Wait until the script run is over (the app says `notRunning`) and no placeholder is left, for a while."""
    deadline = time.monotonic() + PAGE_SECONDS
    quiet_since = None
    while time.monotonic() < deadline:
        state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        busy = state != "notRunning" or page.locator('[data-testid="stSkeleton"], [data-testid="stSpinner"]').count()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 1.5:
            return
        page.wait_for_timeout(250)
    pytest.fail(f"the page was still running after {PAGE_SECONDS} s")


@pytest.mark.parametrize("page_path", PAGES)
def test_page_in_a_browser(server: str, browser: object, page_path: str) -> None:
    name = Path(page_path).stem
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{server}/{'' if name == 'overview' else name}", timeout=PAGE_SECONDS * 1000)
        _settle(page)
        # Streamlit scrolls inside its main container, so a full-page shot needs a viewport that tall.
        height = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
        page.set_viewport_size({"width": 1440, "height": min(max(1000, height + 40), 16000)})
        page.wait_for_timeout(1500)  # let the charts redraw at the new size before the screenshot
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        exceptions = page.locator('[data-testid="stException"]')
        assert exceptions.count() == 0, exceptions.first.inner_text()
        errors = page.locator('[data-testid="stAlertContentError"]')
        assert errors.count() == 0, errors.first.inner_text()
        if name not in ("evidence", "access_log", "triage"):  # tables, forms and downloads only
            charts = page.locator('[data-testid="stVegaLiteChart"]')
            assert charts.count() > 0, "no chart was drawn"
            # Vega draws into a canvas or svg; an Altair error would leave the container empty.
            assert page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg').count()
    finally:
        context.close()


def test_a_typed_date_applies_on_enter_and_the_link_copies(server: str, browser: object) -> None:
    """Typing an as-of date and pressing Enter applies it (URL, banner), and the sidebar's copy button
    puts a link on the clipboard that pins the page, that date and the filters."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    try:
        page.goto(f"{server}/data_health", timeout=PAGE_SECONDS * 1000)
        _settle(page)
        newest = page.url.split("as_of=")[1][:10]
        wanted = f"{int(newest[:4]) - 1}{newest[4:]}"  # a year earlier: within the small demo's data
        box = page.get_by_placeholder("YYYY-MM-DD, then Enter")
        box.fill(wanted)
        box.press("Enter")
        page.wait_for_url(f"**as_of={wanted}**", timeout=PAGE_SECONDS * 1000)
        _settle(page)
        assert page.get_by_text("Viewing as of").count() == 1
        link = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]')
        link.hover()
        link.get_by_role("button").first.click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith(f"{server}/data_health?") and f"as_of={wanted}" in copied
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "as_of_typed.png"))
    finally:
        context.close()
