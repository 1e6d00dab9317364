"""OpenID Connect sign-in through Streamlit's st.login, against a provider the test starts on 127.0.0.1
(tests/oidc_provider.py), in headless Chromium, under dashboard/server.py (what `compliance serve` runs:
an `st.App` whose own Starlette routes must still carry the /oauth2callback) and a plain
`streamlit run dashboard/app.py`.

The provider's groups become dashboard roles (`[compliance.oidc.role_groups]` in secrets.toml); a
user whose groups map to no role is refused; both sign-ins are in the access log with method `oidc`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import build_db
from dashboard_support import (
    APP,
    BROWSER_MARKS,
    PAGE_SECONDS,
    SERVER,
    chromium_browser,
    free_port,
    running_dashboard,
    settle,
)
from oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider

from compliance.access_log import read_log
from compliance.config.bundle import load_policy

pytestmark = BROWSER_MARKS
USERS = {
    "olga": {"email": "olga@example.com", "name": "Olga", "groups": ["privacy-investigators", "privacy-admins"]},
    "nora": {"email": "nora@example.com", "name": "Nora", "groups": ["marketing"]},
}


def _secrets(port: int, issuer: str) -> str:
    return f"""
[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "test-cookie-secret-0123456789abcdef0123456789"

[auth.testidp]
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ scope = "openid email profile groups" }}

[compliance.oidc]
roles_claim = "groups"
name_claim = "email"

[compliance.oidc.role_groups]
investigator = ["privacy-investigators"]
admin = ["privacy-admins"]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with Provider(USERS) as p:
        yield p


@pytest.fixture(scope="module", params=[SERVER, APP], ids=["server.py", "app.py"])
def server(
    request: pytest.FixtureRequest, provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    # The server runs in a folder of its own, whose .streamlit/secrets.toml names the test provider.
    home = tmp_path_factory.mktemp("oidc-server")
    db = home / "audit.duckdb"
    event = {"event_id": "e1", "occurred_at": "2025-03-01 10:00:00", "event_date": "2025-03-01", "actor_id": "emp_1",
             "actor_type": "employee", "action": "read", "outcome": "success", "resource_type": "contact"}  # fmt: skip
    con = duckdb.connect(str(db))
    try:
        build_db(load_policy(), {"audit_events": [event]}, con)
    finally:
        con.close()
    port = free_port()
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(_secrets(port, provider.issuer))
    log_path = home / "access-log.jsonl"
    env = dict(
        os.environ,
        COMPLIANCE_DB=str(db),
        COMPLIANCE_AUTH="required",
        COMPLIANCE_USERS=str(home / "no-local-accounts.json"),
        COMPLIANCE_ACCESS_LOG=str(log_path),
        COMPLIANCE_PSEUDONYM_KEY="oidc-test-key-0123456789abcdef0123456789",
    )
    with running_dashboard(env, home / "server.log", cwd=home, port=port, script=request.param) as url:
        yield url, log_path


def _sign_in_with_provider(browser: object, url: str, expect: str) -> object:
    """A fresh browser signs in through the provider; returns once the dashboard shows `expect`."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(url, timeout=PAGE_SECONDS * 1000)
    settle(page)
    page.get_by_role("button", name="Sign in with testidp").click()
    # Dashboard -> provider's /authorize -> /oauth2callback -> dashboard: wait for the far end, not the URL.
    page.get_by_text(expect).first.wait_for(timeout=PAGE_SECONDS * 1000)
    settle(page)
    return page


def test_sign_in_through_an_oidc_provider_maps_groups_to_roles(server: tuple[str, Path], provider: Provider) -> None:
    url, log_path = server
    with chromium_browser() as browser:
        provider.user = "olga"
        page = _sign_in_with_provider(browser, url, "Signed in as")
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "Signed in as olga@example.com (oidc)" in sidebar
        assert "roles: investigator, admin" in sidebar
        page.locator('[data-testid="stSidebarNav"]').get_by_text("Access log", exact=True).click()
        page.get_by_text("Review (control access.dashboard_log_review)").wait_for(timeout=PAGE_SECONDS * 1000)
        settle(page)
        assert "Refused" not in page.locator('[data-testid="stMain"]').inner_text()

        provider.user = "nora"
        page = _sign_in_with_provider(browser, url, "holds no dashboard role")
        assert "holds no dashboard role" in page.locator('[data-testid="stMain"]').inner_text()
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
    assert {"/authorize", "/token", "/jwks"} <= set(provider.requests)
    log = read_log(log_path)
    olga = log.filter(pl.col("user") == "olga@example.com")
    assert olga["event"].to_list()[0] == "sign_in"
    assert olga["method"].unique().to_list() == ["oidc"]
    assert olga["roles"][0].to_list() == ["admin", "investigator"]
    assert "access_log" in olga.filter(pl.col("event") == "page_view")["page"].to_list()
    nora = log.filter(pl.col("user") == "nora@example.com")
    # Authenticated by the provider, then refused: her groups grant no role.
    assert nora["event"].to_list() == ["sign_in", "refusal"] and nora["roles"][0].to_list() == []
