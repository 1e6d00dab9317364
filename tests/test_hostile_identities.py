"""Actor ids as real exports may hold them (several words, quotes, SQL, HTML, e-mail addresses) never reach the
dashboard's screen: loaded by `compliance ingest` as a user would, named by controls in their reasons, and
shown on every page as pseudonyms only. Reasons name people in prose, so each id must be found there whole."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from apptest_support import assert_clean, plain
from cli_support import run_cli
from dashboard_support import APP, PAGES, TIMEOUT
from streamlit.testing.v1 import AppTest

from compliance.pseudonyms import pseudonymise

pytestmark = pytest.mark.xdist_group("dashboard")

HOSTILE_ACTORS = [
    "cust'; drop table audit_events;--",
    "Jane Doe",
    "<b>boss</b>",
    "jane.doe@example.com",
    "o'brien x",
    "arn:aws:iam::123456789012:user/ops-admin",  # as the CloudTrail adapter names an IAM user
]
RECIPIENT = "<script>x</script>.example.com"


def _events() -> Iterator[dict[str, object]]:
    """Per actor: two reads a day through June 2025, one 50,000-record export to an unapproved recipient at 03:00
    on 29 June, and a burst of 30 failed logins on 30 June (so bulk export, off hours, volume spike, failed logins,
    out-of-role access and unapproved disclosure all name them)."""
    for i, actor in enumerate(HOSTILE_ACTORS):
        base = {"actor_id": actor, "actor_type": "employee", "outcome": "success"}
        for day in range(1, 29):
            for hour in (9, 10):
                yield base | {"event_id": f"{i}-{day}-{hour}", "occurred_at": f"2025-06-{day:02d}T{hour:02d}:00:00Z",
                              "action": "read", "resource_type": "contact", "record_count": 3,
                              "categories": ["user.contact.email"]}  # fmt: skip
        yield base | {"event_id": f"{i}-export", "occurred_at": "2025-06-29T03:00:00Z", "action": "export",
                      "resource_type": "contact", "record_count": 50_000, "categories": ["user.contact.email"],
                      "recipient": RECIPIENT}  # fmt: skip
        for minute in range(30):
            yield base | {"event_id": f"{i}-fail-{minute}", "occurred_at": f"2025-06-30T02:{minute:02d}:00Z",
                          "action": "login", "outcome": "failure", "source_ip": f"203.0.113.{i + 1}"}  # fmt: skip


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-ids")
    (root / "export" / "audit").mkdir(parents=True)
    (root / "export" / "audit" / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in _events()))
    db = root / "audit.duckdb"
    done = run_cli("ingest", str(root / "export"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db


def test_controls_name_the_hostile_actors_in_their_reasons(hostile_db: Path) -> None:
    """Not vacuous: the stored reasons hold every id raw, so the pages below have them to hide."""
    with duckdb.connect(str(hostile_db), read_only=True) as con:
        reasons = "\n".join(r for (r,) in con.execute("select reason from findings where status = 'alarm'").fetchall())
    for actor in HOSTILE_ACTORS:
        assert actor in reasons, actor


def _shown(at: AppTest) -> str:
    """Everything the page shows as text: prose, captions, notices, metrics, widget options and table cells."""
    parts: list[object] = []
    for kind in ("markdown", "text", "caption", "title", "header", "subheader", "warning", "info", "success"):
        parts += [e.value for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [o for box in [*at.selectbox, *at.multiselect] for o in box.options]
    for df in [*at.dataframe, *at.table]:
        parts += [v for row in pl.from_pandas(df.value).rows() for v in row]
    return plain("\n".join(map(str, parts)))  # as read: Markdown escapes would hide a raw id from `in`


@pytest.mark.parametrize("page", PAGES)
def test_no_page_shows_a_hostile_actor_id(hostile_db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DB", str(hostile_db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(page).run()
    assert_clean(at)
    for key in [e.key for e in at.expander if e.key]:
        at.session_state[key] = True
    at.run()
    assert_clean(at)
    shown = _shown(at)
    for actor in HOSTILE_ACTORS:
        assert actor not in shown, f"{actor!r} shown on {page}"
    if page in ("views/security.py", "views/access.py"):  # where these actors are named: by pseudonym
        assert pseudonymise("Jane Doe", prefix="A-") in shown
