"""`compliance users` and `compliance serve`'s bind address, run as a user would (subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from cli_support import free_port, run_cli

from compliance.paths import REPO_ROOT

pytestmark = pytest.mark.xdist_group("dashboard")
PASSWORD = "a long enough password"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return dict(os.environ, COMPLIANCE_HOME=str(tmp_path / "home"), PYTHONPATH=str(REPO_ROOT), **extra)


def _run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, stdin=stdin, timeout=120)


def test_users_add_list_remove(tmp_path: Path) -> None:
    env = _env(tmp_path)
    added = _run(
        env,
        "users",
        "add",
        "ann",
        "--role",
        "investigator",
        "--role",
        "auditor",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    users = tmp_path / "home" / "users.json"
    assert (users.stat().st_mode & 0o777) == 0o600
    assert json.loads(users.read_text())["users"][0]["password_hash"].startswith("$argon2id$")
    listed = _run(env, "users", "list")
    assert "ann" in listed.stdout and "investigator, auditor" in listed.stdout and "argon2" not in listed.stdout
    bad = _run(env, "users", "add", "bob", "--role", "root", "--password-stdin", stdin=PASSWORD + "\n")
    assert bad.returncode == 2 and "roles must be among" in bad.stderr
    short = _run(env, "users", "add", "bob", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert short.returncode == 2 and "at least 12" in short.stderr
    assert _run(env, "users", "remove", "ann").returncode == 0
    assert "no account yet" in _run(env, "users", "list").stdout
    gone = _run(env, "users", "remove", "ann")
    assert gone.returncode == 2 and "no account named" in gone.stderr


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp{,6} write them) with a socket listening on `port`."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


LOOPBACK_V4, LOOPBACK_V6 = "0100007F", "00000000000000000000000001000000"


def _serve(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "compliance", "serve", "--port", str(port), *args],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, port
        except OSError:
            time.sleep(0.5)
    raise AssertionError("the dashboard did not answer within 60 s")


def _stop(proc: subprocess.Popen[str]) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate(timeout=15)
    return out


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from /proc")
def test_serve_listens_on_loopback_only_by_default(demo_build, tmp_path: Path) -> None:
    proc, port = _serve(_env(tmp_path), "--db", str(demo_build.db))
    try:
        assert _listening(port) <= {LOOPBACK_V4, LOOPBACK_V6} and _listening(port)
    finally:
        out = _stop(proc)
    assert f"http://127.0.0.1:{port}" in out and "no sign-in: this machine only" in out


def test_serve_refuses_to_expose_the_dashboard_without_a_way_to_sign_in(tmp_path: Path) -> None:
    done = _run(_env(tmp_path), "serve", "--address", "0.0.0.0", "--db", str(tmp_path / "any.duckdb"))
    assert done.returncode == 2
    assert "sign-in is required off 127.0.0.1" in done.stdout + done.stderr


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads listening sockets from /proc")
def test_serve_with_an_address_exposes_it_with_sign_in(demo_build, tmp_path: Path) -> None:
    env = _env(tmp_path)
    assert (
        _run(env, "users", "add", "adam", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    )
    proc, port = _serve(env, "--db", str(demo_build.db), "--address", "0.0.0.0")
    try:
        assert "00000000" in _listening(port)  # every IPv4 interface
    finally:
        out = _stop(proc)
    assert "sign-in required" in out


def test_serve_require_sign_in_on_loopback_needs_a_way_to_sign_in(tmp_path: Path) -> None:
    done = _run(_env(tmp_path), "serve", "--require-sign-in", "--db", str(tmp_path / "any.duckdb"))
    assert done.returncode == 2 and "compliance users add" in done.stdout + done.stderr
