"""The demo's planted DSR deadlines are worked by hand (compliance.demo.dsr.PLANTED_DEADLINES), so the
deadline engine is tested against them rather than checked against itself: every date the ground truth
states for a planted request equals what ingest's engine stored for it in `dsr_deadlines`."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import duckdb

from compliance.demo.dsr import PLANTED_DEADLINES

# What each planted finding's note states, and the dsr_deadlines columns that must say the same.
NOTE_FIELDS = {
    "dsr.overdue": (r"effective due date (\S+) \(extension (\w+)\)", ("effective_due_date", "extension_status")),
    "dsr.due_soon": (r"effective due date (\S+) \(extension (\w+)\)", ("effective_due_date", "extension_status")),
    "dsr.completed_late": (r", due (\S+), completed", ("effective_due_date",)),
    "dsr.extension_late": (r"original due (\S+): (\w+)\.", ("due_date", "extension_status")),
    "dsr.ack_late": (r"acknowledgement due (\S+),", ("ack_due_date",)),
}


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def test_the_engine_agrees_with_every_hand_worked_planted_deadline(demo_build) -> None:
    truth = [json.loads(line) for line in demo_build.truth.read_text(encoding="utf-8").splitlines()]
    planted = [t for t in truth if t["kind"] == "finding" and t["control_id"] in NOTE_FIELDS]
    with duckdb.connect(str(demo_build.db), read_only=True) as con:
        stored = {row[0]: row[1:] for row in con.sql(
            "select request_id, effective_due_date, extension_status, due_date, ack_due_date, effective_due_at "
            "from dsr_deadlines"
        ).fetchall()}  # fmt: skip
    columns = ("effective_due_date", "extension_status", "due_date", "ack_due_date", "effective_due_at")
    checked = 0
    for finding in planted:
        pattern, fields = NOTE_FIELDS[finding["control_id"]]
        stated = re.search(pattern, finding["note"])
        assert stated, finding
        engine = dict(zip(columns, stored[finding["resource"].removeprefix("dsr:")], strict=True))
        assert [_text(engine[f]) for f in fields] == list(stated.groups()), finding
        if finding["control_id"] in ("dsr.overdue", "dsr.due_soon"):  # the due instant is the finding's time
            due_at = engine["effective_due_at"].replace(tzinfo=UTC)
            assert due_at.strftime("%Y-%m-%dT%H:%M:%SZ") == finding["observed_at"], finding
        checked += 1
    # Every hand-worked table entry was used: 5 open, 3 completed late, 3 extensions, 1 acknowledgement.
    assert checked == 12 and len(PLANTED_DEADLINES) == 10
    assert all(isinstance(d.effective_due_at, datetime) for d in PLANTED_DEADLINES.values())
