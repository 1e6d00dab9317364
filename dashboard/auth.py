"""Who is using the dashboard, what their roles allow, and the access log of what they did.

Sign-in is mandatory whenever the server listens beyond this machine (any `server.address` that
is not a loopback address, or `COMPLIANCE_AUTH=required`, which `compliance serve --address` sets).
On 127.0.0.1 alone the dashboard runs open, as the machine's user with every role, and says so on
every page. Two ways to sign in:

- OpenID Connect (Okta, Entra ID, Google, any provider) through Streamlit's `st.login`, configured in
  `.streamlit/secrets.toml` (`[auth]`, see .streamlit/secrets.example.toml); roles come from a claim
  of the ID token (`[compliance.oidc] roles_claim`, groups mapped to roles by `role_groups`);
- local accounts with argon2 password hashes (`compliance users add/remove/list`).

Pages ask `can(action)` before showing something and `require_role(action, what)` before doing it
(a refusal is logged and explained); `reveal_toggle` and `download_button` do both for the two
actions that expose identifiers, and log what was revealed or downloaded.
"""

from __future__ import annotations

import csv
import getpass
import io
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from compliance.access_log import AccessLog, log_path_for, recent_failures
from compliance.accounts import ROLES, AccountError, allowed, is_loopback, load_accounts, verify_password
from compliance.paths import DEMO_DB
from compliance.spreadsheet import safe_csv

AUTH_ENV = "COMPLIANCE_AUTH"  # "required": sign-in even on 127.0.0.1
DB_ENV = "COMPLIANCE_DB"
_USER_KEY = "_auth_user"
LOCKOUT_FAILURES, LOCKOUT_MINUTES = 5, 15  # failed sign-ins of one user name within the window lock it


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]
    method: str  # "local" (accounts file), "oidc" (identity provider) or "open" (127.0.0.1 without sign-in)


def access_log() -> AccessLog:
    """The log beside the audit database (`COMPLIANCE_ACCESS_LOG` overrides)."""
    return AccessLog(log_path_for(os.environ.get(DB_ENV) or DEMO_DB))


def sign_in_required() -> bool:
    return os.environ.get(AUTH_ENV) == "required" or not is_loopback(st.get_option("server.address"))


def _oidc_providers() -> list[str]:
    """Provider names configured under `[auth]` in secrets.toml (`[auth.NAME]` tables, or one unnamed)."""
    try:
        auth = st.secrets.get("auth")
    except (FileNotFoundError, KeyError, OSError):
        return []
    if not auth:
        return []
    named = [k for k, v in auth.items() if isinstance(v, Mapping)]
    return named or (["default"] if "client_id" in auth else [])


def _oidc_settings() -> Mapping[str, Any]:
    try:
        return (st.secrets.get("compliance") or {}).get("oidc") or {}
    except (FileNotFoundError, KeyError, OSError):
        return {}


def roles_from_claims(claims: Mapping[str, Any], settings: Mapping[str, Any]) -> tuple[str, ...]:
    """Roles from the ID token's group claim: each group mapped through `role_groups` (role -> groups),
    or taken as a role name when no mapping is configured. No known group: no role, no access."""
    raw = claims.get(settings.get("roles_claim", "groups")) or []
    # A provider's claim is a group name or a list of them; anything else (a number, an object) grants nothing.
    groups = [raw] if isinstance(raw, str) else [g for g in raw if isinstance(g, str)] if isinstance(raw, list) else []
    mapping = settings.get("role_groups") or {}
    if mapping:
        return tuple(r for r in ROLES if set(groups) & set(mapping.get(r, [])))
    return tuple(r for r in ROLES if r in groups)


def _oidc_user() -> User | None:
    if not _oidc_providers() or not getattr(st.user, "is_logged_in", False):
        return None
    claims = st.user.to_dict()
    settings = _oidc_settings()
    name = str(claims.get(settings.get("name_claim", "email")) or claims.get("sub") or "unknown")
    return User(name, roles_from_claims(claims, settings), "oidc")


def current_user() -> User | None:
    """The signed-in user of this session (None before sign-in); everyone, as admin, when open."""
    if not sign_in_required():
        return User(f"local:{getpass.getuser()}", ROLES, "open")
    user = st.session_state.get(_USER_KEY)
    if user is None and (user := _oidc_user()) is not None:
        st.session_state[_USER_KEY] = user
        log("sign_in", user=user)
    return user


def log(event: str, *, user: User | None = None, **fields: Any) -> None:
    """Append an event of this session's user (or `user`) to the access log."""
    who = user or current_user()
    if who is None:
        return
    fields.setdefault("page", st.session_state.get("_page"))
    access_log().append(who.name, event, method=who.method, roles=who.roles, **fields)


def can(action: str) -> bool:
    """May the current user do `action` (compliance.accounts.PERMISSIONS: reveal, download_real_ids, ...)?"""
    user = current_user()
    return user is not None and allowed(user.roles, action)


def require_role(action: str, what: str) -> bool:
    """True when allowed; otherwise log the refusal, explain it on the page and return False."""
    if can(action):
        return True
    log("refusal", what=f"{action}: {what}")
    from compliance.accounts import PERMISSIONS

    needed = " or ".join(sorted(PERMISSIONS.get(action, ())))
    st.warning(f"Refused: {what} needs the {needed} role. The refusal is recorded in the access log.")
    return False


def reveal_toggle(label: str, *, key: str, what: str, help: str | None = None) -> bool:
    """A toggle that shows real identifiers; only the investigator role may switch it on.

    `what` names what is revealed without naming the person (e.g. the pseudonym); each distinct
    reveal is logged once per session.
    """
    permitted = can("reveal")
    on = st.toggle(label, key=key, disabled=not permitted, help=help if permitted else "Needs the investigator role.")
    if not on:
        st.session_state.pop(f"_revealed_{key}", None)
        return False
    if not require_role("reveal", f"revealing {what}"):
        return False
    if st.session_state.get(f"_revealed_{key}") != what:
        log("reveal", what=what)
        st.session_state[f"_revealed_{key}"] = what
    return True


def download_button(
    label: str,
    data: Callable[[], bytes | str] | bytes | str,
    *,
    file_name: str,
    mime: str,
    key: str,
    real_ids: bool = False,
    rows: int | None = None,
    **button: Any,
) -> bool:
    """`st.download_button` that logs the download when the file is produced; real ids need the auditor role.

    `data` may be a function (produced only on click). CSV data must come from
    `compliance.spreadsheet.safe_csv` (or `render_findings`), which neutralise formulas.
    """
    action = "download_real_ids" if real_ids else "download_pseudonymised"
    if not can(action):
        return require_role(action, f"downloading {file_name}")
    user, page = current_user(), st.session_state.get("_page")
    journal = access_log()
    # What this run offers (file name, real ids or not): a deferred file's name is not in the page's
    # elements, and tests and the triage/evidence additions read it here.
    st.session_state.setdefault("_downloads_offered", {})[key] = {"file_name": file_name, "real_ids": real_ids}

    def produce() -> bytes | str:
        payload = data() if callable(data) else data
        if user is not None:  # on Streamlit's download thread: no session state, so captured above
            journal.append(
                user.name,
                "download",
                method=user.method,
                roles=user.roles,
                page=page,
                what=file_name,
                real_ids=real_ids,
                rows=rows if rows is not None else count_rows(payload, mime),
            )
        return payload

    return st.download_button(label, data=produce, file_name=file_name, mime=mime, key=key, **button)


def csv_download(label: str, frame: pl.DataFrame, *, file_name: str, key: str) -> bool:
    """`frame` offered as a CSV file (`download_button`), its cells neutralised by `safe_csv`."""
    return download_button(label, safe_csv(frame), file_name=file_name, mime="text/csv", key=key)


def count_rows(payload: bytes | str, mime: str) -> int | None:
    """Data rows in a CSV, JSON Lines or Parquet file (the access review counts real-id rows downloaded)."""
    try:
        if mime == "application/vnd.apache.parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(
                io.BytesIO(payload if isinstance(payload, bytes) else payload.encode())
            ).metadata.num_rows
        text = payload.decode("utf-8") if isinstance(payload, bytes) else payload
        if mime == "text/csv":
            return max(sum(1 for _ in csv.reader(io.StringIO(text))) - 1, 0)
        if mime == "application/x-ndjson":
            return sum(1 for line in text.splitlines() if line.strip())
    except (ValueError, OSError, csv.Error):
        return None
    return None


# --- the sign-in gate -------------------------------------------------------------------------


def _local_sign_in() -> None:
    with st.form("sign_in"):
        username = st.text_input("User name", key="sign_in_user")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if not submitted:
        return
    name = username[:128] or "(empty)"
    journal = access_log()
    if recent_failures(journal.path, name, LOCKOUT_MINUTES) >= LOCKOUT_FAILURES:
        # Password guessing: the account is locked for a while, whatever the password (the log counts).
        journal.append(name, "refusal", method="local", page="sign-in", what="sign-in locked after failed attempts")
        st.error(f"Too many failed sign-ins for this user: try again in {LOCKOUT_MINUTES} minutes.")
        return
    try:
        account = verify_password(username, password)
    except AccountError:
        account = None
    if account is None:
        journal.append(name, "sign_in_failed", method="local", page="sign-in")
        st.error("Wrong user name or password.")
        return
    user = User(account.username, account.roles, "local")
    st.session_state[_USER_KEY] = user
    log("sign_in", user=user, page="sign-in")
    st.rerun()


def gate() -> User:
    """The signed-in user, or the sign-in page and a stop. Call before any page renders data."""
    user = current_user()
    if user is not None:
        if not user.roles:
            log("refusal", user=user, what="no role: the identity provider's groups map to no dashboard role")
            st.error("You are signed in, but your account holds no dashboard role. Ask an admin for one.")
            st.stop()
        return user
    st.title("Capantra privacy audit: sign in")
    st.caption("This dashboard shows personal data. Sign-in is required; every view, reveal and download is logged.")
    providers = _oidc_providers()
    for provider in providers:
        label = "Sign in with your identity provider" if provider == "default" else f"Sign in with {provider}"
        if st.button(label, key=f"oidc_{provider}", type="primary"):
            if provider == "default":
                st.login()
            else:
                st.login(provider)
    try:
        has_accounts = bool(load_accounts())
    except AccountError as exc:
        has_accounts = False
        st.error(str(exc))
    if has_accounts:
        _local_sign_in()
    elif not providers:
        st.error(
            "No way to sign in is configured: add an account with `compliance users add NAME --role admin`, "
            "or an identity provider in .streamlit/secrets.toml."
        )
    st.stop()
    raise AssertionError("unreachable")  # st.stop() raises


def sign_out() -> None:
    user = st.session_state.pop(_USER_KEY, None)
    if user is not None:
        access_log().append(user.name, "sign_out", method=user.method, roles=user.roles)
        if user.method == "oidc":
            st.logout()


def banner(user: User) -> None:
    """Who is signed in (sidebar), and on every page the warning that an open dashboard has no sign-in."""
    if user.method == "open":
        st.warning(
            "Demo mode: no sign-in. This dashboard listens on 127.0.0.1 only, and anyone using this machine "
            "acts with every role. Views, reveals and downloads are still logged.",
            icon=":material/lock_open:",
        )
        return
    st.sidebar.caption(f"Signed in as {user.name} ({user.method}); roles: {', '.join(user.roles)}.")
    st.sidebar.button("Sign out", on_click=sign_out, key="sign_out")


def log_page_view(page: str, detail: Mapping[str, Any]) -> None:
    """A page view, logged when the page or its filters change (not on every rerun of a widget)."""
    marker = (page, tuple(sorted((k, str(v)) for k, v in detail.items())))
    if st.session_state.get("_last_view") == marker:
        return
    st.session_state["_last_view"] = marker
    log("page_view", page=page, detail=detail)


__all__ = [
    "User",
    "access_log",
    "banner",
    "can",
    "current_user",
    "download_button",
    "gate",
    "log",
    "log_page_view",
    "require_role",
    "reveal_toggle",
    "roles_from_claims",
    "sign_in_required",
]
