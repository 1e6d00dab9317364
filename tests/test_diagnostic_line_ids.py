"""A diagnostic line has no id in the contract: a line is identified by its full content, and its id (evidence id
and de-duplication key) is a hash of every field. Two different lines never share one, whatever characters their
fields hold or whichever field tells them apart; an older database's ids are brought in line once, on its next
load."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb

from compliance.audit_database import schema_gaps
from compliance.ingest.load import ingest
from compliance.ingest.tables import DATA_CHANGES

AT = "2025-06-01T10:00:00Z"
# The query README's migration note gives, to tell whether a database can have lost lines to the five-field ids.
README_QUERY = re.search(
    r"`(select sum\(rows_duplicate\) from load_manifest where source = 'diagnostic')`",
    (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8"),
)


def _line(host: str, request_id: str, message: str = "ok", **fields: object) -> dict[str, object]:
    return {"occurred_at": AT, "service": "api", "level": "INFO", "host": host, "request_id": request_id,
            "message": message} | fields  # fmt: skip


# Joined with a separator, the first two would read the same: "...api<31>a<31>b<31>c<31>ok".
SEPARATED = [_line("a\x1fb", "c"), _line("a", "b\x1fc")]
# Equal in the five fields earlier versions hashed (time, service, host, request, message), different in the
# others: the TLSv1.0 line is evidence for security.unencrypted_transport and must not merge into the other.
OLD_TLS = {"level": "INFO", "tls_version": "TLSv1.0", "status_code": 200}
NEW_TLS = {"level": "ERROR", "tls_version": "TLSv1.3", "status_code": 500, "subject_id": "s1"}
SAME_FIVE = [_line("h1", "r1", **OLD_TLS), _line("h1", "r1", **NEW_TLS)]
# An empty field is a missing one (the load reads '' as NULL, as for every source): one line, found twice.
EMPTY_HOST = [_line("", "r2"), {k: v for k, v in _line("", "r2").items() if k != "host"}]
LINES = SEPARATED + SAME_FIVE + EMPTY_HOST
NEW = _line("h3", "r3")


def _deliver(folder: Path, name: str, lines: list[dict[str, object]]) -> Path:
    path = folder / "diagnostic" / name
    path.parent.mkdir(parents=True)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))  # json.dumps writes chr(31) as \u001f
    return folder


def _ids(db: Path) -> dict[tuple[object, ...], str]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select host, request_id, level, line_id from diagnostic_logs").fetchall()
    return {tuple(row[:3]): row[3] for row in rows}


def _diagnostic_counts(summary: object) -> tuple[int, int]:
    row = next(r for r in summary.by_source() if r["source"] == "diagnostic")  # type: ignore[attr-defined]
    return row["rows_loaded"], row["rows_duplicate"]


def _id_by_hand(*fields: str | None) -> str:
    """An id worked by hand: the first 20 hex digits of the md5 of every field in contract order (occurred_at,
    service, level, message, host, processing_region, request_id, status_code, latency_ms, tls_version,
    storage_encrypted, tenant_id, subject_id), each written S<bytes>:<text>, a missing one N."""
    written = "".join("N" if f is None else f"S{len(f.encode())}:{f}" for f in fields)
    return hashlib.md5(written.encode()).hexdigest()[:20]


def test_every_field_tells_two_lines_apart_and_re_delivered_lines_are_found_again(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    first = ingest([_deliver(tmp_path / "d1", "day1.jsonl", LINES)], db, findings=False)
    assert _diagnostic_counts(first) == (5, 1)
    ids = _ids(db)
    assert len(set(ids.values())) == 5, ids
    assert ids[("h1", "r1", "INFO")] == _id_by_hand(
        "2025-06-01 10:00:00", "api", "INFO", "ok", "h1", None, "r1", "200", None, "TLSv1.0", None, None, None
    )
    assert ids[("h1", "r1", "ERROR")] == _id_by_hand(
        "2025-06-01 10:00:00", "api", "ERROR", "ok", "h1", None, "r1", "500", None, "TLSv1.3", None, None, "s1"
    )
    assert ids[("a\x1fb", "c", "INFO")] == _id_by_hand(
        "2025-06-01 10:00:00", "api", "INFO", "ok", "a\x1fb", None, "c", None, None, None, None, None, None
    )
    assert ids[(None, "r2", "INFO")] == _id_by_hand(
        "2025-06-01 10:00:00", "api", "INFO", "ok", None, None, "r2", None, None, None, None, None, None
    )

    # Re-delivered beside a new line (a file of the same bytes would be skipped as already loaded).
    again = ingest([_deliver(tmp_path / "d2", "day1-again.jsonl", [*LINES, NEW])], db, findings=False)
    assert _diagnostic_counts(again) == (1, 6)
    assert README_QUERY, "README's migration note lost its query"
    with duckdb.connect(str(db), read_only=True) as con:  # the one empty host of the first file, the six again
        assert con.execute(README_QUERY.group(1)).fetchall() == [(7,)]
    assert {key: line_id for key, line_id in _ids(db).items() if key[0] != "h3"} == ids


def test_an_older_database_gets_the_new_ids_once_on_its_next_load(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([_deliver(tmp_path / "d1", "day1.jsonl", SEPARATED + SAME_FIVE[:1])], db, findings=False)
    new_ids = _ids(db)
    with duckdb.connect(str(db)) as con:  # as versions before the ledger left it: ids of five fields joined
        con.execute("drop table database_changes").fetchall()
        con.execute("""update diagnostic_logs set line_id = substr(md5(concat_ws(chr(31), cast(occurred_at as varchar),
                       service, host, request_id, message)), 1, 20)""").fetchall()
        assert con.execute("select count(distinct line_id) from diagnostic_logs").fetchall() == [(2,)]
        assert schema_gaps(con) == ["table database_changes", *(f"change {change}" for change in DATA_CHANGES)]

    # The re-delivered lines are found as the stored ones (the load changed their ids before looking), and the
    # line the older version merged into its twin loads now.
    again = ingest([_deliver(tmp_path / "d2", "day1-again.jsonl", [*SEPARATED, *SAME_FIVE, NEW])], db, findings=False)
    assert _diagnostic_counts(again) == (2, 3)
    assert {key: line_id for key, line_id in _ids(db).items() if key in new_ids} == new_ids
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select change, rows_changed from database_changes").fetchall() == [
            (DATA_CHANGES[0], 0),
            (DATA_CHANGES[1], 3),
        ]
        assert schema_gaps(con) == []

    # Recorded, the change is not applied again (a stored id set by hand stays).
    with duckdb.connect(str(db)) as con:
        con.execute("update diagnostic_logs set line_id = 'by-hand' where host = 'a'").fetchall()
    ingest([_deliver(tmp_path / "d3", "day2.jsonl", [_line("h4", "r4")])], db, findings=False)
    assert _ids(db)[("a", "b\x1fc", "INFO")] == "by-hand"


def test_a_database_of_the_first_change_gets_the_second_alone(tmp_path: Path) -> None:
    """A database made between the two changes holds the first in its ledger: only the second is applied."""
    db = tmp_path / "audit.duckdb"
    ingest([_deliver(tmp_path / "d1", "day1.jsonl", SAME_FIVE[:1])], db, findings=False)
    new_ids = _ids(db)
    with duckdb.connect(str(db)) as con:
        con.execute("delete from database_changes where change = $c", {"c": DATA_CHANGES[1]}).fetchall()
        con.execute("update diagnostic_logs set line_id = 'five-fields'").fetchall()
        assert schema_gaps(con) == [f"change {DATA_CHANGES[1]}"]
    ingest([_deliver(tmp_path / "d2", "day2.jsonl", [NEW])], db, findings=False)
    assert {key: line_id for key, line_id in _ids(db).items() if key in new_ids} == new_ids
    with duckdb.connect(str(db), read_only=True) as con:
        ledger = con.execute("select change, rows_changed from database_changes").fetchall()
    assert sorted(ledger) == sorted([(DATA_CHANGES[0], 0), (DATA_CHANGES[1], 1)])
