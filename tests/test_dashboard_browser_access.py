"""Sign-in, the access log and safe rendering in a real browser (headless Chromium against
`streamlit run dashboard/app.py` with sign-in required), on a database whose export carries hostile text.

A scripted session signs in (after a failed attempt under a formula-shaped user name), opens two
pages through the navigation, downloads the access log as an admin, and signs out; the access log
then holds exactly those rows. Recipient names written as Markdown images, `javascript:` links and
HTML appear as literal text, and no request reaches the beacon they point at.
"""

from __future__ import annotations

import csv
import http.server
import io
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from dashboard_support import (
    BROWSER_MARKS,
    PAGE_SECONDS,
    chromium_browser,
    database_of_shares,
    running_dashboard,
    settle,
)

from compliance.access_log import read_log, verify_chain
from compliance.accounts import add_account

pytestmark = BROWSER_MARKS
PASSWORD = "a long enough password"
FORMULA_USER = '=HYPERLINK("http://127.0.0.1/x","y")'


class Beacon(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        Beacon.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def beacon() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


def _payloads(port: int) -> list[str]:
    return [
        f"![beacon](http://127.0.0.1:{port}/markdown.png)",
        "[click me](javascript:alert(1))",
        f"<img src=http://127.0.0.1:{port}/html.png>",
        ":red[styled] **bold** $x^2$",
    ]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory, beacon: int) -> Path:
    """Share events to recipients named with Markdown, HTML and a formula (the Security page lists them)."""
    path = tmp_path_factory.mktemp("hostile") / "hostile.duckdb"
    return database_of_shares(path, [*_payloads(beacon), "=cmd|' /C calc'!A0"])


@pytest.fixture(scope="module")
def server(hostile_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    state = tmp_path_factory.mktemp("state")
    users = state / "users.json"
    add_account("adam", PASSWORD, ["admin", "auditor"], users)
    log_path = state / "access-log.jsonl"
    env = dict(
        os.environ,
        COMPLIANCE_DB=str(hostile_db),
        COMPLIANCE_AUTH="required",
        COMPLIANCE_USERS=str(users),
        COMPLIANCE_ACCESS_LOG=str(log_path),
        COMPLIANCE_PSEUDONYM_KEY="browser-test-key-0123456789abcdef0123",
    )
    with running_dashboard(env, state / "server.log") as url:
        yield url, log_path


def _sign_in(page: object, user: str, password: str) -> None:
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def _go(page: object, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    settle(page)


def test_a_scripted_session_is_logged_and_hostile_text_stays_text(server: tuple[str, Path], beacon: int) -> None:
    url, log_path = server
    with chromium_browser() as browser:
        context = browser.new_context(viewport={"width": 1440, "height": 1400}, accept_downloads=True)
        page = context.new_page()
        page.goto(url, timeout=PAGE_SECONDS * 1000)
        settle(page)
        assert "sign in" in page.locator("h1").first.inner_text()
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no page before sign-in
        _sign_in(page, FORMULA_USER, "not the password")
        assert "Wrong user name or password" in page.locator('[data-testid="stAlertContentError"]').inner_text()
        _sign_in(page, "adam", PASSWORD)
        assert "Signed in as adam" in page.locator('[data-testid="stSidebar"]').inner_text()

        _go(page, "Security & transfers")
        text = page.locator('[data-testid="stMain"]').inner_text()
        for payload in _payloads(beacon):
            assert payload in text, f"{payload!r} was not shown as literal text"
        assert page.locator('[data-testid="stMain"] a[href^="javascript:"]').count() == 0
        assert page.locator(f'[data-testid="stMain"] img[src*="{beacon}"]').count() == 0
        page.wait_for_timeout(1000)
        assert Beacon.hits == [], f"the browser fetched {Beacon.hits}"

        _go(page, "Access log")
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the access log (CSV)").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(exported)))
        assert "'" + FORMULA_USER in [r["user"] for r in rows]  # neutralised, not a live formula
        assert FORMULA_USER not in [r["user"] for r in rows]

        page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
        settle(page)
        assert "sign in" in page.locator("h1").first.inner_text()

    log = read_log(log_path)
    assert verify_chain(log_path) == []
    events = log.select("user", "event", "page", "what").rows()
    assert events[0] == (FORMULA_USER, "sign_in_failed", "sign-in", None)
    assert events[1] == ("adam", "sign_in", "sign-in", None)
    views = [e[2] for e in events if e[1] == "page_view"]
    assert views == ["overview", "security", "access_log"]
    assert ("adam", "download", "access_log", "dashboard-access-log.csv") in events
    assert events[-1][:2] == ("adam", "sign_out")
    assert set(log.filter(pl.col("user") == "adam")["method"].to_list()) == {"local"}
    first_view = log.filter(pl.col("event") == "page_view").row(0, named=True)
    assert '"as_of": "2025-03-' in first_view["detail"]
