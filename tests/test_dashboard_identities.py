"""dashboard.data.identities: the people a page pseudonymises are built once per database version (every page run asks
for them), and a new version of the file brings its new people."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import build_db_file
from rows import audit_event

from dashboard import data


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    data.clear_caches()
    yield
    data.clear_caches()


def _publish(path: Path, policy, actor: str, mtime_s: int) -> Path:
    """A database whose one event's actor is `actor`, put in place the way an ingest publishes (a new file renamed
    over the old one), with its own modification time."""
    built = build_db_file(
        policy, {"audit_events": [audit_event("e1", actor, "2025-03-01 10:00:00")]}, path.with_suffix(".new")
    )
    os.utime(built, (mtime_s, mtime_s))
    os.replace(built, path)
    return path


def test_each_page_run_gets_the_same_people_until_the_database_changes(
    tmp_path: Path, policy, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    path = _publish(tmp_path / "audit.duckdb", policy, "Jane Doe", 1_700_000_000)
    monkeypatch.setenv(data.DB_ENV, str(path))

    first = data.identities()
    assert data.identities() is first  # its lookup and its pattern of multi-word ids are not built again
    assert "Jane Doe" not in first.text("exported by Jane Doe")
    revealed = data.identities(reveal=True)
    assert revealed.reveal and revealed.kinds is first.kinds
    assert revealed.text("exported by Jane Doe") == "exported by Jane Doe"
    assert not data.identities().reveal  # revealing for one viewer leaves the shared object pseudonymising

    _publish(path, policy, "John Roe", 1_700_000_100)
    after = data.identities()
    assert after is not first
    assert "John Roe" in after.kinds and "Jane Doe" not in after.kinds
    assert "John Roe" not in after.text("exported by John Roe")
