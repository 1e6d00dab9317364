"""The command line run as a user runs it: `python -m compliance ...` in a subprocess, its output captured as text."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now, for a server a test starts (`compliance serve`, a mail server)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """`python -m compliance <args>` (this interpreter, `env` or ours, `cwd` or ours); never raises on a failing exit
    code, so the test asserts on it."""
    return subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        input=stdin, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout, check=False,
    )  # fmt: skip
