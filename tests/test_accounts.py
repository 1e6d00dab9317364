"""compliance.accounts: local accounts with argon2id hashes, roles and what each role may do."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from compliance.accounts import (
    PERMISSIONS,
    ROLES,
    AccountError,
    add_account,
    allowed,
    is_loopback,
    load_accounts,
    remove_account,
    verify_password,
)

PASSWORD = "correct horse battery"


def test_an_account_stores_an_argon2id_hash_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "private" / "users.json"
    add_account("ann", PASSWORD, ["viewer", "admin"], path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = json.loads(path.read_text())
    assert raw["users"][0]["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in path.read_text()
    assert load_accounts(path)["ann"].roles == ("viewer", "admin")


def test_passwords_are_verified(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_account("ann", PASSWORD, ["viewer"], path)
    assert verify_password("ann", PASSWORD, path).username == "ann"
    assert verify_password("ann", PASSWORD + "x", path) is None
    assert verify_password("nobody", PASSWORD, path) is None
    add_account("ann", "another long password", ["auditor"], path)  # replaced
    assert verify_password("ann", PASSWORD, path) is None
    assert verify_password("ann", "another long password", path).roles == ("auditor",)


@pytest.mark.parametrize(
    ("name", "password", "roles", "message"),
    [
        ("ann", "short", ["viewer"], "at least 12"),
        ("ann", PASSWORD, ["root"], "roles must be among"),
        ("ann", PASSWORD, [], "roles must be among"),
        ("=HYPERLINK(1)", PASSWORD, ["viewer"], "user name"),
        ("a b", PASSWORD, ["viewer"], "user name"),
        ("", PASSWORD, ["viewer"], "user name"),
    ],
)
def test_bad_accounts_are_refused(tmp_path: Path, name: str, password: str, roles: list[str], message: str) -> None:
    with pytest.raises(AccountError, match=message):
        add_account(name, password, roles, tmp_path / "users.json")
    assert load_accounts(tmp_path / "users.json") == {}


def test_remove_and_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    add_account("ann", PASSWORD, ["viewer"], path)
    remove_account("ann", path)
    assert load_accounts(path) == {}
    with pytest.raises(AccountError, match="no account"):
        remove_account("ann", path)
    path.write_text("{not json")
    with pytest.raises(AccountError, match="not a readable accounts file"):
        load_accounts(path)


EXPECTED = {  # role -> the actions it may do
    "viewer": {"view", "download_pseudonymised"},
    "investigator": {"view", "download_pseudonymised", "reveal", "triage"},
    "auditor": {"view", "download_pseudonymised", "download_real_ids"},
    "admin": {"view", "download_pseudonymised", "access_log", "manage_accounts"},
}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_its_actions(role: str) -> None:
    assert {a for a in PERMISSIONS if allowed([role], a)} == EXPECTED[role]
    assert not allowed([role], "no such action")
    assert not allowed([], "view")


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True), ("0.0.0.0", False),
     ("::", False), ("10.0.0.5", False), ("", False), (None, False), ("example.com", False)],
)  # fmt: skip
def test_which_addresses_stay_on_this_machine(address: str | None, loopback: bool) -> None:
    assert is_loopback(address) is loopback
