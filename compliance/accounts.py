"""Local dashboard accounts and the roles that decide what a person may do with personal data.

Roles (one person may hold several):
- `viewer`: pseudonymised pages and pseudonymised downloads only;
- `investigator`: may also reveal identifiers in drill-downs;
- `auditor`: may also download evidence with real identifiers;
- `admin`: may also see and export the dashboard's access log and manage accounts.

Accounts live in a JSON file (`COMPLIANCE_USERS`, else users.json in the deployment's private
folder, see compliance.pseudonyms.state_dir) with argon2id password hashes, written atomically
with mode 0600 by `compliance users add/remove/list`. With an OpenID Connect provider, roles come
from the provider's group claim instead (dashboard/auth.py).
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from compliance.pseudonyms import state_dir

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Account",
    "AccountError",
    "add_account",
    "allowed",
    "is_loopback",
    "load_accounts",
    "remove_account",
    "users_file",
    "verify_password",
]

USERS_ENV = "COMPLIANCE_USERS"
ROLES = ("viewer", "investigator", "auditor", "admin")
# What each action needs: one of these roles. Pseudonymised views and downloads need only a sign-in.
PERMISSIONS: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "download_pseudonymised": frozenset(ROLES),
    "reveal": frozenset({"investigator"}),
    "download_real_ids": frozenset({"auditor"}),
    "triage": frozenset({"investigator"}),  # working the alarms: state, assignee, note
    "access_log": frozenset({"admin"}),
    "manage_accounts": frozenset({"admin"}),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,127}")
MIN_PASSWORD = 12
_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) defaults


class AccountError(ValueError):
    """A refused account change (bad name, unknown role, short password, unknown user)."""


@dataclass(frozen=True)
class Account:
    username: str
    roles: tuple[str, ...]
    password_hash: str
    created_at: str


def users_file() -> Path:
    env = os.environ.get(USERS_ENV)
    return Path(env) if env else state_dir() / "users.json"


def is_loopback(address: str | None) -> bool:
    """True for an address only this machine reaches (127.0.0.0/8, ::1, localhost). An empty address is
    Streamlit's default, every interface: not loopback."""
    if not address:
        return False
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def allowed(roles: Iterable[str], action: str) -> bool:
    """True when one of `roles` may do `action` (a key of PERMISSIONS; unknown actions are refused)."""
    return bool(PERMISSIONS.get(action, frozenset()) & set(roles))


def load_accounts(path: Path | None = None) -> dict[str, Account]:
    """Accounts by user name; an absent file holds none."""
    path = path or users_file()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise AccountError(f"{path}: not a readable accounts file ({exc})") from None
    return {
        u["username"]: Account(u["username"], tuple(u["roles"]), u["password_hash"], u.get("created_at", ""))
        for u in raw.get("users", [])
    }


def _save(accounts: dict[str, Account], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body = {
        "users": [a.__dict__ | {"roles": list(a.roles)} for a in sorted(accounts.values(), key=lambda a: a.username)]
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".users-", suffix=".json")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check_roles(roles: Iterable[str]) -> tuple[str, ...]:
    roles = tuple(dict.fromkeys(roles))
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise AccountError(f"roles must be among {', '.join(ROLES)} (got {', '.join(roles) or 'none'})")
    return roles


def add_account(username: str, password: str, roles: Iterable[str], path: Path | None = None) -> Account:
    """Create or replace `username` with an argon2id hash of `password` and these roles."""
    path = path or users_file()
    if not _NAME.fullmatch(username):
        raise AccountError("a user name is 1-128 letters, digits or . _ @ + - (starting with a letter or digit)")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    accounts = load_accounts(path)
    account = Account(username, _check_roles(roles), _hasher.hash(password), datetime.now(UTC).isoformat())
    accounts[username] = account
    _save(accounts, path)
    return account


def remove_account(username: str, path: Path | None = None) -> None:
    path = path or users_file()
    accounts = load_accounts(path)
    if accounts.pop(username, None) is None:
        raise AccountError(f"no account named {username!r}")
    _save(accounts, path)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Made on first sign-in, not at import: argon2 costs about 0.4 s of CPU, on every dashboard cold start.
    return _hasher.hash("not a password of anyone")


def verify_password(username: str, password: str, path: Path | None = None) -> Account | None:
    """The account when `password` is right, else None (an unknown user costs the same time as a wrong password)."""
    account = load_accounts(path).get(username)
    try:
        _hasher.verify(account.password_hash if account else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    return account
