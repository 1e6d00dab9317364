"""A diagnostic line has no id in the contract: its id (evidence id and de-duplication key) is a hash of its key
fields. Two different lines never share one, whatever characters their fields hold; lines that could not collide
keep the id earlier versions gave them (it is in evidence already handed out); an older database's ids are
brought in line once, on its next load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from compliance.audit_database import schema_gaps
from compliance.ingest.load import ingest
from compliance.ingest.tables import DATA_CHANGES

CHANGE = DATA_CHANGES[0]


def _line(host: str, request_id: str, message: str = "ok") -> dict[str, str]:
    return {"occurred_at": "2025-06-01T10:00:00Z", "service": "api", "level": "INFO", "host": host,
            "request_id": request_id, "message": message}  # fmt: skip


# Joined with chr(31), the first two read the same: "...api<31>a<31>b<31>c<31>ok".
LINES = [_line("a\x1fb", "c"), _line("a", "b\x1fc"), _line("h1", "r1")]
NEW = _line("h2", "r2")


def _deliver(folder: Path, name: str, lines: list[dict[str, str]]) -> Path:
    path = folder / "diagnostic" / name
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))  # json.dumps writes chr(31) as \u001f
    return folder


def _ids(db: Path) -> dict[tuple[str, str], str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select host, request_id, line_id from diagnostic_logs").fetchall()
    return {(host, request_id): line_id for host, request_id, line_id in rows}


def _diagnostic_counts(summary: object) -> tuple[int, int]:
    row = next(r for r in summary.by_source() if r["source"] == "diagnostic")  # type: ignore[attr-defined]
    return row["rows_loaded"], row["rows_duplicate"]


def _joined_id(*fields: str) -> str:
    """The id of earlier versions, worked by hand: the first 20 hex digits of the md5 of the fields joined."""
    return hashlib.md5("\x1f".join(fields).encode()).hexdigest()[:20]


def test_lines_whose_fields_hold_the_separator_are_two_lines_and_found_again_when_re_delivered(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    first = ingest([_deliver(tmp_path / "d1", "day1.jsonl", LINES)], db, findings=False)
    assert _diagnostic_counts(first) == (3, 0)
    ids = _ids(db)
    assert len(set(ids.values())) == 3, ids
    # A line without the separator keeps the id earlier versions gave it.
    assert ids[("h1", "r1")] == _joined_id("2025-06-01 10:00:00", "api", "h1", "r1", "ok")
    assert ids[("a\x1fb", "c")] != _joined_id("2025-06-01 10:00:00", "api", "a\x1fb", "c", "ok")

    # Re-delivered beside a new line (a file of the same bytes would be skipped as already loaded).
    again = ingest([_deliver(tmp_path / "d2", "day1-again.jsonl", [*LINES, NEW])], db, findings=False)
    assert _diagnostic_counts(again) == (1, 3)
    assert {key: line_id for key, line_id in _ids(db).items() if key != ("h2", "r2")} == ids


def test_an_older_database_gets_the_new_ids_once_on_its_next_load(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([_deliver(tmp_path / "d1", "day1.jsonl", LINES)], db, findings=False)
    new_ids = _ids(db)
    with duckdb.connect(str(db)) as con:  # as versions before the ledger left it: every id the fields joined
        con.execute("drop table database_changes").fetchall()
        con.execute("""update diagnostic_logs set line_id = substr(md5(concat_ws(chr(31), cast(occurred_at as varchar),
                       service, host, request_id, message)), 1, 20)""").fetchall()
        assert con.execute("select count(distinct line_id) from diagnostic_logs").fetchall() == [(2,)]
        assert schema_gaps(con) == ["table database_changes", f"change {CHANGE}"]

    # The re-delivered lines are found as the stored ones: the load changed their ids before looking.
    again = ingest([_deliver(tmp_path / "d2", "day1-again.jsonl", [*LINES, NEW])], db, findings=False)
    assert _diagnostic_counts(again) == (1, 3)
    assert {key: line_id for key, line_id in _ids(db).items() if key != ("h2", "r2")} == new_ids
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select change, rows_changed from database_changes").fetchall() == [(CHANGE, 2)]
        assert schema_gaps(con) == []

    # Recorded, the change is not applied again (a stored id set by hand stays).
    with duckdb.connect(str(db)) as con:
        con.execute("update diagnostic_logs set line_id = 'by-hand' where host = 'a'").fetchall()
    ingest([_deliver(tmp_path / "d3", "day2.jsonl", [_line("h3", "r3")])], db, findings=False)
    assert _ids(db)[("a", "b\x1fc")] == "by-hand"
