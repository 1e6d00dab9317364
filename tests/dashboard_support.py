"""Helpers shared by the dashboard tests (AppTest, headless browser, access log, OIDC sign-in): the app and
its pages, the small demo database they render, and a real `streamlit run` server with Chromium settings.
A helper module, not a test module, so no test file imports another."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from cli_support import free_port

from compliance.catalog import PAGES as CATALOG_PAGES

PAGES = [page.path for page in CATALOG_PAGES]  # compliance.catalog.PAGES is the one list
TIMEOUT = 120  # a cold page evaluates controls; warm reruns take a fraction of a second
ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
SERVER = ROOT / "dashboard" / "server.py"  # what `compliance serve` runs: app.py plus a warm-up at start
CHROMIUM = Path("/usr/bin/chromium")
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
SCREENSHOTS = ROOT / "artifacts" / "screenshots"  # for a person to look at
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.xdist_group("dashboard"),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: run `make browser-deps`"),
]


def build_small_demo(root: Path) -> Path:
    """A small demo export (seed 7, 20,000 audit events) ingested into `root/demo.duckdb`, once per session."""
    db = root / "demo.duckdb"
    if not db.exists():
        from compliance.demo import generate_demo
        from compliance.ingest.load import ingest

        generate_demo(root / "export", seed=7, scale=20_000)
        ingest([root / "export"], db)
    return db


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
def running_dashboard(
    env: Mapping[str, str], log: Path, cwd: Path = ROOT, port: int | None = None, script: Path = APP
) -> Iterator[str]:
    """`streamlit run <script>` (dashboard/app.py, or server.py as `compliance serve` runs it) on 127.0.0.1
    with `env`, run from `cwd` (whose .streamlit/ it reads); yields its URL once it answers, stops it
    afterwards. Its output goes to `log`."""
    port = port or free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script),
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


@contextmanager
def dashboard_on(db: Path, log: Path) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on the database `db` (control results kept in memory); yields its URL."""
    with running_dashboard(dict(os.environ, COMPLIANCE_DB=str(db), COMPLIANCE_DASHBOARD_PERSIST="0"), log) as url:
        yield url


def screenshot_whole_page(page: object, path: Path) -> None:
    """Streamlit scrolls inside its main container, so a full-page shot needs a viewport that tall."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    page.set_viewport_size({"width": 1440, "height": min(max(1000, height + 40), 16000)})
    page.wait_for_timeout(1500)  # let the charts redraw at the new size before the screenshot
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def settle(page: object) -> None:
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


def database_of_shares(path: Path, recipients: list[str]) -> Path:
    """A database whose only events are 3-record contact shares by emp_1 to each of `recipients`, one a day
    from 1 Mar 2025: hostile recipient names for the pages that list recipients (Security)."""
    from conftest import build_db_file

    from compliance.config.bundle import load_policy

    rows = [
        {"event_id": f"e{i}", "occurred_at": f"2025-03-0{i + 1} 10:00:00", "event_date": f"2025-03-0{i + 1}",
         "actor_id": "emp_1", "actor_type": "employee", "action": "share", "outcome": "success",
         "resource_type": "contact", "recipient": recipient, "categories": ["user.name"], "record_count": 3}
        for i, recipient in enumerate(recipients)
    ]  # fmt: skip
    return build_db_file(load_policy(), {"audit_events": rows}, path)


@contextmanager
def page_at(browser: object, url: str, **context_options: object) -> Iterator[object]:
    """A page of a fresh browser context (1440 x 1000, `context_options` added) on `url`, settled; the context is
    closed after."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, **context_options)
    try:
        page = context.new_page()
        page.goto(url, timeout=PAGE_SECONDS * 1000)
        settle(page)
        yield page
    finally:
        context.close()


@contextmanager
def chromium_browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (it cannot download its own browsers here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
