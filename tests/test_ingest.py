"""Ingestion: rejects, SHA-256 manifest, de-duplication, enrichment, incremental loads, atomic publish.

Every export here is a few hand-written lines, so each expected count can be checked by eye.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from compliance.ingest import enrich, load, readers
from compliance.ingest.load import IngestError, ingest


def _event(i: int, **over: object) -> dict:
    e = {
        "event_id": f"e{i}",
        "occurred_at": f"2025-03-04T10:{i:02d}:00Z",
        "actor_id": "emp-1",
        "actor_type": "employee",
        "system": "crm",
        "action": "read",
        "outcome": "success",
        "resource_type": "contact",
        "subject_id": "sub-eu",
        "record_count": 2,
        "tenant_id": "t-de",
    }
    e.update(over)
    return e


def _jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _csv(path: Path, header: str, *rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def _count(db: Path, sql: str) -> object:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    ex = tmp_path / "export-1"
    _csv(
        ex / "directory" / "accounts.csv",
        "actor_id,actor_type,role,department,status,start_date,end_date,mfa_enabled,home_country,timezone",
        "emp-1,employee,sales_rep,Sales,active,2024-01-01,,true,AU,Australia/Sydney",
        "adm-1,employee,it_admin,IT,active,2024-01-01,,true,US,America/New_York",
        "emp-9,employee,engineer,IT,active,2024-01-01,,true,AU,Australia/Sidney",  # misspelt zone -> reject
    )
    _csv(ex / "tenants" / "tenants.csv", "tenant_id,name,country,home_region,contract_started_at,contract_ended_at",
         "t-de,Acme GmbH,DE,eu-fra,2024-01-01T00:00:00Z,")  # fmt: skip
    _csv(ex / "subjects" / "subjects.csv", "subject_id,tenant_id,subject_type,country,jurisdiction,created_at",
         "sub-eu,t-de,contact,DE,EU,2024-02-01T00:00:00Z")  # fmt: skip
    _csv(
        ex / "dsr" / "requests.csv",
        "request_id,subject_id,jurisdiction,request_type,channel,received_at,acknowledged_at,verified_at,"
        "extension_notified_at,extension_reason,completed_at,status,status_reason",
        "r1,sub-eu,EU,access,email,2025-01-31T10:00:00Z,,,,,,open,",
        "r2,sub-x,MARS,access,email,2025-01-31T10:00:00Z,,,,,,open,",  # unknown jurisdiction -> reject
        "r3,sub-y,EU,delete,email,2025-13-45,,,,,,open,",  # bad timestamp -> reject
        "r4,sub-z,EU,access,email,2025-02-01T10:00:00Z,,,,,,open,,EXTRA",  # too many columns -> structural reject
        "r5,sub-eu,EU,correct,email,2025-02-02T10:00:00Z,,,,,,open,",
        "r6,sub-eu,EU,access,email,2025-02-03T10:00:00Z,,,,,,pending,",  # unknown status, line 7 -> reject
    )
    _jsonl(
        ex / "audit" / "2025-03-04.jsonl",
        [
            _event(1),
            _event(2, data_categories=["user.contact.email"]),
            '{"event_id": "e3", "occurred_at": "2025-03-04T10:03:00Z", "actor_id": "emp-1", "act',  # truncated
            _event(4, occurred_at="2025-13-45T99:00:00Z"),  # bad timestamp
            _event(5, action="teleport"),  # unknown enum
            _event(
                6,
                action="role_grant",
                actor_id="adm-1",
                target_actor_id="emp-1",
                role="support_lead",
                occurred_at="2025-03-04T10:06:00Z",
                resource_type=None,
                subject_id=None,
            ),
            _event(7, occurred_at="2025-03-04T10:07:00+10:00"),  # offset honoured: 00:07 UTC
            _event(8, occurred_at="2025-03-04T11:00:00Z"),
        ],
    )
    _jsonl(ex / "audit" / "2025-03-05.jsonl.gz", [_event(9, occurred_at="2025-03-05T09:00:00Z")])
    return ex


def test_load_counts_rejects_and_enrichment(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    summary = ingest([export], db)
    assert summary.published
    by = {r["source"]: r for r in summary.by_source()}
    # 8 audit lines + 1 gzip line: 3 rejected (truncated, bad timestamp, unknown enum) -> 6 loaded.
    assert (by["audit"]["rows_read"], by["audit"]["rows_loaded"], by["audit"]["rows_rejected"]) == (9, 6, 3)
    assert (by["dsr"]["rows_read"], by["dsr"]["rows_loaded"], by["dsr"]["rows_rejected"]) == (6, 2, 4)
    assert (by["directory"]["rows_loaded"], by["directory"]["rows_rejected"]) == (2, 1)
    assert set(summary.missing_sources) == {"usage", "diagnostic", "inventory", "incidents", "incident_notifications"}

    with duckdb.connect(str(db), read_only=True) as con:
        rejects = con.execute("select source, line, field, reason, raw from rejects order by source, line").fetchall()
        assert [(r[0], r[1], r[2]) for r in rejects] == [
            ("audit", 3, None),
            ("audit", 4, "occurred_at"),
            ("audit", 5, "action"),
            ("directory", 4, "timezone"),
            ("dsr", 3, "jurisdiction"),
            ("dsr", 4, "received_at"),
            ("dsr", 5, None),
            ("dsr", 7, "status"),
        ]
        assert "unparseable" in rejects[0][3] and rejects[0][4].startswith('{"event_id": "e3"')
        assert rejects[3][3] == "field timezone: unknown IANA time zone 'Australia/Sidney'"
        assert rejects[1][3] == "field occurred_at: bad timestamp '2025-13-45T99:00:00Z'"
        assert rejects[2][3].startswith("field action: unknown value 'teleport'")
        assert rejects[5][4].startswith("r3,sub-y,EU,delete")
        assert "too many columns" in rejects[6][3] and rejects[6][4].endswith("EXTRA")
        assert rejects[7][4].startswith("r6,") and "unknown value 'pending'" in rejects[7][3]
        # Clean JSON Lines files are read by one parallel scan and their rows carry their file, not a line
        # number (e9, from the gzip file); a file with a line that is not JSON is read again line by line,
        # so its rows keep their line too (e8, line 8 of the first file). The rejects above have theirs.
        lineage = {
            k: (Path(v).name, line)
            for k, v, line in con.execute(
                "select a.event_id, m.path, a.source_line from audit_events a"
                " join load_manifest m on m.file_id = a.source_file_id where a.event_id in ('e8', 'e9')"
            ).fetchall()
        }
        assert lineage == {"e8": ("2025-03-04.jsonl", 8), "e9": ("2025-03-05.jsonl.gz", None)}
        # Lines after a structural reject keep their true line numbers.
        assert con.execute("select source_line from dsr_requests where request_id = 'r5'").fetchall() == [(6,)]

        rows = {
            r[0]: r[1:]
            for r in con.execute(
                "select event_id, categories, categories_derived, actor_role, subject_jurisdiction, occurred_at, actor_timezone"
                " from audit_events"
            ).fetchall()
        }
        # e1 has no categories: derived from resource_type contact through the data map.
        assert rows["e1"][0] == sorted(
            [
                "user.name",
                "user.contact.email",
                "user.contact.phone_number",
                "user.contact.organization",
                "user.job_title",
            ]
        )
        assert rows["e1"][1] is True
        assert rows["e2"][0] == ["user.contact.email"] and rows["e2"][1] is False
        # emp-1 is a sales_rep until the grant at 10:06, support_lead after it.
        assert rows["e1"][2] == "sales_rep" and rows["e8"][2] == "support_lead"
        assert rows["e1"][3] == "EU" and rows["e1"][5] == "Australia/Sydney"
        assert str(rows["e7"][4]) == "2025-03-04 00:07:00"
        deadline = con.execute("select due_date from dsr_deadlines where request_id = 'r1'").fetchall()[0][0]
        assert str(deadline) == "2025-02-28"


def test_reingest_and_renamed_file_change_nothing(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    before = db.read_bytes()
    again = ingest([export], db)
    assert not again.published and all(f.status == "skipped" for f in again.files)
    assert db.read_bytes() == before

    renamed = tmp_path / "export-renamed"
    shutil.copytree(export, renamed)
    (renamed / "audit" / "2025-03-04.jsonl").rename(renamed / "audit" / "copy-of-march-4.jsonl")
    third = ingest([renamed], db)
    assert not third.published
    assert {f.note.split(" as ")[0] for f in third.files} == {"same content"}
    assert _count(db, "select count(*) from audit_events") == 6
    assert _count(db, "select count(*) from rejects") == 8  # 3 audit + 1 directory + 4 dsr, not doubled


def test_overlapping_exports_deduplicate_newest_wins(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    later = tmp_path / "export-2"
    # Re-export overlapping the first: e8 again (identical) and e10 new.
    _jsonl(later / "audit" / "overlap.jsonl", [_event(8, occurred_at="2025-03-04T11:00:00Z"), _event(10)])
    # The DSR register's newer state of r1: completed.
    _csv(
        later / "dsr" / "requests.csv",
        "request_id,subject_id,jurisdiction,request_type,received_at,completed_at,status",
        "r1,sub-eu,EU,access,2025-01-31T10:00:00Z,2025-02-20T10:00:00Z,completed",
    )
    summary = ingest([export, later], db)
    overlap = next(f for f in summary.files if f.path.name == "overlap.jsonl")
    assert (overlap.rows_read, overlap.rows_loaded, overlap.rows_duplicate) == (2, 1, 1)
    assert _count(db, "select count(*) from audit_events") == 7
    assert _count(db, "select count(*) from audit_events where event_id = 'e8'") == 1
    assert _count(db, "select status from dsr_requests where request_id = 'r1'") == "completed"
    assert _count(db, "select closed_late from dsr_deadlines where request_id = 'r1'") is False


def test_incremental_day_loads_only_new_files(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    _jsonl(export / "audit" / "2025-03-06.jsonl", [_event(11, occurred_at="2025-03-06T09:00:00Z")])
    second = ingest([export], db)
    loaded = [f.path.name for f in second.files if f.status == "loaded"]
    assert loaded == ["2025-03-06.jsonl"]
    assert _count(db, "select count(*) from audit_events") == 7
    assert _count(db, "select count(*) from load_runs") == 2
    # The new day's events are enriched like the rest (the grant of run 1 still applies).
    assert _count(db, "select actor_role from audit_events where event_id = 'e11'") == "support_lead"


# The three ways repeated keys are found (load._Loader.deduplicate): a first load (every row new), a load of
# at least a third as many new rows as stored ones (every hash sorted), and a smaller one (only the new hashes).
@pytest.mark.parametrize(("history", "new"), [(0, 8), (6, 8), (40, 8)], ids=["first", "large", "daily"])
def test_repeated_keys_are_found_whatever_the_share_of_new_rows(tmp_path: Path, history: int, new: int) -> None:
    db = tmp_path / "audit.duckdb"
    if history:
        _jsonl(tmp_path / "old" / "audit" / "2025-03-01.jsonl", [_event(i) for i in range(history)])
        ingest([tmp_path / "old"], db)
    # The new file: `new` new events, one event of the history re-delivered with a newer record count, and one
    # of its own events twice with the same content. The re-delivered id lies strictly inside the new ids' range
    # ("a0" to "n7"), the range whose stored row groups alone are read for its duplicates.
    rows = [_event(i, event_id=f"a{i}" if i == 0 else f"n{i}") for i in range(new)] + [_event(0, event_id="a0")]
    rows += [_event(0, record_count=9)] if history else []
    _jsonl(tmp_path / "new" / "audit" / "2025-03-02.jsonl", rows)
    summary = ingest([tmp_path / "new"], db)
    audit = next(r for r in summary.by_source() if r["source"] == "audit")
    assert (audit["rows_loaded"], audit["rows_duplicate"]) == (new, 2 if history else 1)
    assert _count(db, "select count(*) from audit_events") == history + new
    assert _count(db, "select count(distinct event_id) from audit_events") == history + new
    if history:  # the newest export wins
        assert _count(db, "select record_count from audit_events where event_id = 'e0'") == 9


def test_two_different_keys_stay_two_rows_whatever_characters_their_columns_hold(tmp_path: Path) -> None:
    """(a\x1fb, c, r) and (a, b\x1fc, r) are two inventory records: once joined with a separator they read the same,
    and were merged as one. A genuine re-delivery of a key in the same snapshot still replaces its row."""
    db = tmp_path / "audit.duckdb"
    header = "snapshot_at,system,store,record_id,data_category,created_at,legal_hold,contract_ended_at"
    _csv(tmp_path / "d1" / "inventory" / "snap1.csv", header,
         "2025-06-01T10:00:00Z,a\x1fb,c,r,user.name,2025-01-01T00:00:00Z,false,",
         "2025-06-01T10:00:00Z,crm,contacts,r2,user.name,2025-01-01T00:00:00Z,false,")  # fmt: skip
    ingest([tmp_path / "d1"], db, findings=False)
    _csv(tmp_path / "d2" / "inventory" / "snap2.csv", header,
         "2025-06-02T10:00:00Z,a,b\x1fc,r,user.email,2025-01-01T00:00:00Z,false,",
         "2025-06-02T10:00:00Z,crm,contacts,r2,user.contact,2025-01-01T00:00:00Z,false,")  # fmt: skip
    second = ingest([tmp_path / "d2"], db, findings=False)
    inventory = next(r for r in second.by_source() if r["source"] == "inventory")
    assert (inventory["rows_loaded"], inventory["rows_duplicate"]) == (1, 1), inventory
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select system, store, record_id, data_category from inventory_records order by all")
        assert rows.fetchall() == [
            ("a", "b\x1fc", "r", "user.email"),
            ("a\x1fb", "c", "r", "user.name"),
            ("crm", "contacts", "r2", "user.contact"),  # the newer snapshot's
        ]


def _rejects(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("select line, field, reason, raw from rejects order by line").fetchall()


def test_a_fast_read_file_has_its_rejects_explained_as_a_careful_read_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the fast read loaded is re-read fast to explain its rejects: the same lines, fields, reasons and raw
    text as the careful re-read (which also looks for objects in text and fields given twice) gives."""
    rows: list[dict | str] = [
        _event(1),
        "",  # a blank line: the records after it keep their own line numbers
        _event(2, occurred_at="2025-13-45T99:00:00Z"),
        _event(3, action="teleport"),
        _event(4, event_id=None),
        _event(5, record_count=-3),
        _event(6, record_count=1e3),
        _event(7, record_count="12x"),
        _event(8, actor_type="\u00e9mployee"),
        _event(9, outcome=True),
        _event(10, geo_lat="north"),
        _event(11, data_categories="email"),
        _event(12, occurred_at="2099-01-01T00:00:00Z"),
        _event(13, actor_id=123, action="share"),  # a number as text is fine; a share without recipient is not
        _event(14, actor_type="\u0065mployee"),  # an escaped letter: a valid value
        _event(15),
        " \t ",  # blank to the reader too: not a record
        _event(16, action="teleport"),
    ]
    _jsonl(tmp_path / "export" / "audit" / "2025-03-04.jsonl", rows)
    real_stage, calls = load.stage, []

    def spied(source: object, paths: list[Path], **kw: object) -> object:
        calls.append((kw.get("numbered", True), kw.get("careful", True)))
        return real_stage(source, paths, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "stage", spied)
    ingest([tmp_path / "export"], tmp_path / "fast.duckdb", findings=False)
    assert calls == [(False, False), (True, False)]  # loaded fast, explained fast

    def careful_when_numbered(source: object, paths: list[Path], **kw: object) -> object:
        return real_stage(source, paths, **{**kw, "careful": kw.get("numbered", True) or kw.get("careful", True)})  # type: ignore[arg-type]

    monkeypatch.setattr(load, "stage", careful_when_numbered)
    ingest([tmp_path / "export"], tmp_path / "careful.duckdb", findings=False)
    fast, careful = _rejects(tmp_path / "fast.duckdb"), _rejects(tmp_path / "careful.duckdb")
    assert [(line, field) for line, field, _, _ in fast] == [
        (3, "occurred_at"), (4, "action"), (5, "event_id"), (6, "record_count"), (7, "record_count"),
        (8, "record_count"), (9, "actor_type"), (10, "outcome"), (11, "geo_lat"), (12, "data_categories"),
        (13, "occurred_at"), (14, "recipient"), (18, "action"),
    ]  # fmt: skip
    assert '"event_id": "e16"' in fast[-1][3]

    def without_run_window(rejects: list[tuple]) -> list[tuple]:  # each run's window ends at its own start
        return [
            (line, field, reason.split(" outside the plausible window")[0], raw) for line, field, reason, raw in rejects
        ]

    assert "not an integer '1000.0'" in fast[4][2]
    assert without_run_window(fast) == without_run_window(careful)


def test_a_carefully_read_file_has_its_rejects_explained_from_an_excerpt_as_from_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file read carefully (here: a line cut short) has its rejected lines explained from an excerpt of them:
    the same lines, fields, reasons and raw text as re-reading the whole file gives."""
    rows: list[dict | str] = [
        _event(1),
        "",
        '{"event_id": "e2", "occurred_at": "2025-03-04T10:02:00Z", "actor_id": "emp-1"',  # cut short
        _event(3, actor_id={"id": "emp-1"}),  # an object where text is wanted
        json.dumps(_event(4))[:-1] + ', "action": "delete"}',  # a field given twice
        _event(5, occurred_at="2025-13-45T99:00:00Z"),
        "   ",
        _event(6, action="teleport"),
        _event(7, record_count=-3),
        _event(8, data_categories="email"),
        json.dumps(_event(9, actor_type="contractor")) + "\r",  # a CRLF line end
        _event(10, action="share"),  # no recipient
        _event(11),
    ]
    path = _jsonl(tmp_path / "export" / "audit" / "2025-03-04.jsonl", rows)
    not_utf8 = json.dumps(_event(12)).encode().replace(b"emp-1", b"emp-\xff")
    path.write_bytes(path.read_bytes() + not_utf8 + b"\n")
    real, used = load._Loader._explain_from_excerpt, []

    def spied(self: object, *args: object) -> bool:
        used.append(real(self, *args))  # type: ignore[arg-type]
        return used[-1]

    monkeypatch.setattr(load._Loader, "_explain_from_excerpt", spied)
    ingest([tmp_path / "export"], tmp_path / "excerpt.duckdb", findings=False)
    assert used == [True]
    monkeypatch.setattr(load._Loader, "_explain_from_excerpt", lambda *args: False)
    ingest([tmp_path / "export"], tmp_path / "whole.duckdb", findings=False)
    excerpt, whole = _rejects(tmp_path / "excerpt.duckdb"), _rejects(tmp_path / "whole.duckdb")
    assert [(line, field) for line, field, _, _ in excerpt] == [
        (3, None), (4, "actor_id"), (5, "action"), (6, "occurred_at"), (8, "action"), (9, "record_count"),
        (10, "data_categories"), (12, "recipient"), (14, None),
    ]  # fmt: skip
    assert excerpt[-1][2] == "unreadable line: not UTF-8 text" and "emp-\\xff" in excerpt[-1][3]
    assert excerpt == whole
    assert _count(tmp_path / "excerpt.duckdb", "select count(*) from audit_events") == 3


def test_a_rejected_first_line_is_shown_without_the_files_byte_order_mark(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "export" / "audit" / "2025-03-04.jsonl", [_event(1, action="teleport"), '{"cut'])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # read carefully: a line is cut short
    ingest([tmp_path / "export"], tmp_path / "audit.duckdb", findings=False)
    (line, field, _, raw), cut = _rejects(tmp_path / "audit.duckdb")
    assert (line, field, cut[:2]) == (1, "action", (2, None))
    assert raw.startswith('{"event_id": "e1"')


def test_a_repaired_copy_never_takes_the_name_of_the_copy_it_is_made_from(tmp_path: Path) -> None:
    """A CSV file with two quotes never closed is copied twice, the second copy made from the first, in a folder
    where other files (excerpts, other files' copies) come and go meanwhile."""
    source = _csv(tmp_path / "usage.csv", "a,b", '1,"x', "2,y", '3,"z', "4,w")
    folder = tmp_path / "scratch"
    folder.mkdir()
    stray = folder / "excerpt.jsonl"
    stray.write_text("{}\n")
    first = readers.blank_line_copy(source, 2, folder)
    stray.unlink()
    second = readers.blank_line_copy(first, 4, folder)
    assert second != first
    assert first.read_text() == 'a,b\n\n2,y\n3,"z\n4,w\n'
    assert second.read_text() == "a,b\n\n2,y\n\n4,w\n"


@pytest.mark.parametrize("sampled_lines", [enrich.SAMPLED_LINES, 0])
def test_directory_change_re_enriches_earlier_events(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sampled_lines: int
) -> None:
    monkeypatch.setattr(enrich, "SAMPLED_LINES", sampled_lines)
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    _jsonl(export / "audit" / "2025-03-06.jsonl", [_event(10, occurred_at="2025-03-06T09:00:00Z",
                                                          data_categories=["user.name", "user.financial"])])  # fmt: skip
    keyed: list[int] = []
    assign = enrich.assign_category_keys
    monkeypatch.setattr(enrich, "assign_category_keys", lambda con: keyed.append(assign(con)) or keyed[-1])
    _csv(
        export / "directory" / "accounts.csv",
        "actor_id,actor_type,role,department,status,start_date,end_date,mfa_enabled,home_country,timezone",
        "emp-1,employee,sales_rep,Sales,active,2024-01-01,,true,IE,Europe/Dublin",
        "adm-1,employee,it_admin,IT,active,2024-01-01,,true,US,America/New_York",
    )
    ingest([export], db)
    assert _count(db, "select actor_timezone from audit_events where event_id = 'e1'") == "Europe/Dublin"
    assert _count(db, "select count(*) from directory_accounts") == 2
    # The new event's list is new to the database: keyed from the sample of the files before they load, else
    # (a sample of no lines) after the load, once, for the rebuilt and new events together.
    assert keyed == ([0] if sampled_lines else [1])
    with duckdb.connect(str(db), read_only=True) as con:
        lists = {tuple(r[0]) for r in con.execute("select categories from audit_category_lists").fetchall()}
    assert ("user.financial", "user.name") in lists
    assert _count(db, "select count(*) from audit_events where categories_key is null") == 0


def _normal_form(categories: list[str | int | bool | None] | None) -> list[str] | None:
    """A list as the enrichment keys it, worked in Python: each category once, as text (a number or boolean as its
    JSON text), sorted, NULLs and empty strings dropped; None when no category is left (the event then takes the
    data map's list)."""
    texts = {c if isinstance(c, str) else json.dumps(c) for c in categories or [] if c is not None}
    return sorted(t for t in texts if t) or None


# Lists as exporters send them: in normal form, unsorted, repeated, with a NULL or an empty string, without any
# category, with a number and a boolean, empty, missing.
_SENT_LISTS: list[list[str | int | bool | None] | None] = [
    ["user.contact.email", "user.name"],
    ["user.name", "user.contact.email"],
    ["user.name", "user.name", "user.contact.email"],
    ["user.financial", None, "user.name"],
    [None],
    ["user.financial"],
    ["", "user.name", ""],
    [""],
    [None, ""],
    ["user.name", 7, True],
    [],
    None,
]


@pytest.mark.parametrize("sampled_lines", [enrich.SAMPLED_LINES, 3, 0])
def test_a_list_gets_its_normal_form_and_key_whether_or_not_the_sample_saw_it_as_sent(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sampled_lines: int
) -> None:
    """The enrichment looks a list up as it was sent (the sampled forms and every keyed list) before sorting it:
    every form, in a fast-read file and in a carefully read one (a broken line), seen by the sample or not (3
    lines: only the first three forms), gets the same categories and key as its normal form."""
    monkeypatch.setattr(enrich, "SAMPLED_LINES", sampled_lines)
    rows = [
        _event(10 + i, occurred_at=f"2025-03-06T09:{i:02d}:00Z", data_categories=sent)
        for i, sent in enumerate(_SENT_LISTS)
    ]
    _jsonl(export / "audit" / "2025-03-06.jsonl", rows)
    careful = [{**r, "event_id": f"c{r['event_id']}"} for r in rows]
    _jsonl(export / "audit" / "2025-03-07.jsonl", [*careful, '{"event_id": "cut'])
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    with duckdb.connect(str(db), read_only=True) as con:
        got = {
            r[0]: r[1:]
            for r in con.execute(
                """select e.event_id, e.categories, e.categories_derived, l.categories
                   from audit_events e left join audit_category_lists l on l.categories_key = e.categories_key
                   where e.event_id in (select unnest($ids))""",
                {"ids": [r["event_id"] for r in rows + careful]},
            ).fetchall()
        }
        data_map = con.execute(
            "select list(distinct data_category order by data_category) from ref_resource_types"
            " where resource_type = 'contact'"
        ).fetchall()[0][0]
    assert len(got) == 2 * len(_SENT_LISTS)
    for i, sent in enumerate(_SENT_LISTS):
        normal = _normal_form(sent)
        # A list without a category (missing, empty, only NULLs or empty strings) takes the data map's list for
        # the resource type.
        expected = (data_map, True) if normal is None else (normal, False)
        for event_id in (f"e{10 + i}", f"ce{10 + i}"):
            categories, derived, keyed_list = got[event_id]
            assert (categories, derived) == expected, (event_id, sent)
            assert keyed_list == categories, (event_id, sent)  # its key names its list


@pytest.mark.parametrize("sampled_lines", [enrich.SAMPLED_LINES, 0])
def test_a_list_or_object_inside_a_category_list_is_a_reject_and_a_string_that_looks_like_one_is_kept(
    export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sampled_lines: int
) -> None:
    """Cast to a list of text, `[["user.name"]]` would pass for a category named `["user.name"]`. The fast read
    cannot tell it from a string that looks like a list, so it sends the file to a careful read, which rejects the
    first and keeps the second; the other rows of the file load. So too when the sample saw the lists (they are
    then kept out of the look-up) and when an earlier load stored such a list's text as a category."""
    monkeypatch.setattr(enrich, "SAMPLED_LINES", sampled_lines)
    sent: dict[str, object] = {
        "e10": ["user.name"],
        "e11": [["user.name"]],
        "e12": ["user.name", {"c": "user.financial"}],
        "e13": ["[user.name]", "{user.financial}"],
        "e14": [["user.financial"], "user.name"],  # as sent, the stored list's text
    }
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    with duckdb.connect(str(db)) as con:  # as a version that kept the nested list's text would have keyed it
        con.execute(
            "insert into audit_category_lists select max(categories_key) + 1, ['[\"user.financial\"]', 'user.name']"
            " from audit_category_lists"
        ).fetchall()
    rows = [_event(int(k[1:]), occurred_at=f"2025-03-06T09:{k[1:]}:00Z", data_categories=v) for k, v in sent.items()]
    # the file's only suspect list is the stored one, so nothing else sends it to a careful read
    _jsonl(export / "audit" / "2025-03-06.jsonl", rows[:4])
    _jsonl(
        export / "audit" / "2025-03-07.jsonl",
        [_event(15, occurred_at="2025-03-07T09:00:00Z", data_categories=["user.financial"]), rows[4]],
    )
    ingest([export], db)
    with duckdb.connect(str(db), read_only=True) as con:
        kept = dict(
            con.execute(
                "select event_id, categories from audit_events where event_id in (select unnest($ids))",
                {"ids": [*sent, "e15"]},
            ).fetchall()
        )
        rejected = con.execute(
            """select regexp_extract(path, '[0-9-]+[.]jsonl$'), line, reason from rejects
               where regexp_matches(path, '2025-03-0[67]') order by path, line"""
        ).fetchall()
    assert kept == {"e10": ["user.name"], "e13": ["[user.name]", "{user.financial}"], "e15": ["user.financial"]}
    assert [(name, line) for name, line, _ in rejected] == [
        ("2025-03-06.jsonl", 2), ("2025-03-06.jsonl", 3), ("2025-03-07.jsonl", 2),
    ]  # fmt: skip
    assert all("field data_categories: not a list of strings" in reason for *_, reason in rejected), rejected


def test_unreadable_file_is_named_and_the_others_still_load(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    before = db.read_bytes()
    bad = export / "audit" / "2025-03-07.jsonl.gz"
    bad.write_bytes(b"this is not gzip")
    alone = ingest([export], db)  # only the bad file is new: nothing to publish
    assert [(f.path, f.note) for f in alone.failed] == [(bad, "is named .gz but is not gzip-compressed")]
    assert not alone.published and db.read_bytes() == before
    assert not any(p.name.startswith(".audit.duckdb.loading") for p in tmp_path.iterdir())

    _jsonl(export / "audit" / "2025-03-08.jsonl", [_event(50, occurred_at="2025-03-08T09:00:00Z")])
    both = ingest([export], db)
    assert both.published and [f.path for f in both.failed] == [bad]
    assert _count(db, "select count(*) from audit_events where event_id = 'e50'") == 1
    assert _count(db, "select reason from rejects where path like '%2025-03-07.jsonl.gz'") == (
        "file not loaded: is named .gz but is not gzip-compressed"
    )


def test_missing_export_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="does not exist"):
        ingest([tmp_path / "nope"], tmp_path / "x.duckdb")


def test_reader_sees_old_or_new_database_never_a_mix(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    _jsonl(
        export / "audit" / "2025-03-08.jsonl", [_event(i, occurred_at="2025-03-08T09:00:00Z") for i in range(20, 30)]
    )
    seen: list[tuple[int, int]] = []

    def reader_during_load(work: Path) -> None:
        # The load is finished in its private copy, not yet published: a reader sees the old database whole.
        assert work != db
        seen.append((_count(db, "select count(*) from audit_events"), _count(db, "select count(*) from load_runs")))

    ingest([export], db, before_publish=reader_during_load)
    assert seen == [(6, 1)]
    assert (_count(db, "select count(*) from audit_events"), _count(db, "select count(*) from load_runs")) == (16, 2)


def test_reader_holding_the_file_open_keeps_a_consistent_view(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    ingest([export], db)
    reader = duckdb.connect(str(db), read_only=True)
    _jsonl(export / "audit" / "2025-03-09.jsonl", [_event(40, occurred_at="2025-03-09T09:00:00Z")])
    ingest([export], db)  # publishing replaces the file; the open reader keeps the old one
    assert reader.execute("select count(*) from audit_events").fetchall()[0][0] == 6
    reader.close()
    assert _count(db, "select count(*) from audit_events") == 7


def test_timestamps_are_utc_whatever_the_machine_zone(export: Path, tmp_path: Path) -> None:
    # The loaders run on their own cursors, which start from DuckDB's global settings: a machine in
    # Sydney must store the same UTC instants as one in UTC.
    db = tmp_path / "sydney.duckdb"
    code = f"from pathlib import Path; from compliance.ingest.load import ingest; ingest([Path({str(export)!r})], Path({str(db)!r}))"
    env = dict(os.environ, TZ="Australia/Sydney")
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
    with duckdb.connect(str(db), read_only=True) as con:
        got = con.execute(
            "select event_id, occurred_at, event_date from audit_events where event_id in ('e1', 'e7') order by 1"
        ).fetchall()
        assert [(e, str(ts), str(d)) for e, ts, d in got] == [
            ("e1", "2025-03-04 10:01:00", "2025-03-04"),
            ("e7", "2025-03-04 00:07:00", "2025-03-04"),
        ]
        assert str(con.execute("select received_at from dsr_requests where request_id = 'r1'").fetchall()[0][0]) == (
            "2025-01-31 10:00:00"
        )


def test_many_files_in_one_scan_keep_their_file_and_a_duplicate_within_a_file_resolves_the_same_way(
    tmp_path: Path,
) -> None:
    # 7 daily files read by one multi-file scan: every event keeps the SHA-256 of its own file.
    ex = tmp_path / "export"
    for day in range(1, 8):
        rows = [_event(10 * day + k, occurred_at=f"2025-03-{day:02d}T10:0{k}:00Z") for k in range(day % 3 + 1)]
        _jsonl(ex / "audit" / f"2025-03-{day:02d}.jsonl", rows)
    # The same event id twice in one file, with different content: which row wins must not depend on
    # the scan's order, so two loads keep the same one.
    twice = {"occurred_at": "2025-03-08T10:00:00Z"}
    _jsonl(
        ex / "audit" / "2025-03-08.jsonl", [_event(99, record_count=5, **twice), _event(99, record_count=7, **twice)]
    )
    kept = []
    for n in range(2):
        db = tmp_path / f"many-{n}.duckdb"
        summary = ingest([ex], db)
        audit = next(r for r in summary.by_source() if r["source"] == "audit")
        assert (audit["rows_loaded"], audit["rows_duplicate"]) == (15, 1)
        with duckdb.connect(str(db), read_only=True) as con:
            got = con.execute(
                "select a.event_id, m.path from audit_events a join load_manifest m on m.file_id = a.source_file_id"
                " where a.event_id <> 'e99' order by 1"
            ).fetchall()
            kept.append(con.execute("select record_count from audit_events where event_id = 'e99'").fetchall())
        assert [(e, Path(p).name) for e, p in got] == sorted(
            (f"e{10 * d + k}", f"2025-03-{d:02d}.jsonl") for d in range(1, 8) for k in range(d % 3 + 1)
        )
    assert kept[0] == kept[1] and len(kept[0]) == 1


def test_load_without_findings_forgets_the_stored_ones(export: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    assert ingest([export], db).findings_as_of is not None
    assert _count(db, "select count(*) from findings_runs") > 0
    _jsonl(export / "audit" / "2025-03-06.jsonl", [_event(31, occurred_at="2025-03-06T09:00:00Z")])
    summary = ingest([export], db, findings=False)
    assert summary.published and summary.findings_as_of is None
    # The old findings described the old data: a reader must run the controls live instead.
    assert _count(db, "select count(*) from findings") == 0
    assert _count(db, "select count(*) from findings_runs") == 0


@pytest.mark.parametrize("order", [(5, 7), (7, 5)])
def test_a_tie_within_a_file_goes_to_the_row_whose_content_digest_is_smallest(
    tmp_path: Path, order: tuple[int, int]
) -> None:
    # Two copies of one event in one file (JSON Lines rows carry no line), differing in record_count only, and a copy
    # of another event in a second file (no tie: the newer file wins). The tie's winner is the row whose stored
    # content has the smallest MD5 (load._Loader._rank_repeated_rows), whatever the order of the lines.
    ex = tmp_path / "export"
    twice = {"occurred_at": "2025-03-08T10:00:00Z"}
    _jsonl(
        ex / "audit" / "2025-03-08.jsonl", [_event(99, record_count=n, **twice) for n in order] + [_event(98, **twice)]
    )
    _jsonl(ex / "audit" / "2025-03-09.jsonl", [_event(98, record_count=3, **twice)])
    db = tmp_path / "tie.duckdb"
    audit = next(r for r in ingest([ex], db).by_source() if r["source"] == "audit")
    assert (audit["rows_loaded"], audit["rows_duplicate"]) == (2, 2)
    with duckdb.connect(str(db), read_only=True) as con:
        [(kept,)] = con.execute("select record_count from audit_events where event_id = 'e99'").fetchall()
        other = 12 - kept
        digests = con.execute(
            """select md5(cast(t as varchar)) from audit_events t where t.event_id = 'e99'
               union all
               select md5(cast(x as varchar))
               from (select * replace ($other as record_count) from audit_events where event_id = 'e99') x""",
            {"other": other},
        ).fetchall()
        assert con.execute("select record_count from audit_events where event_id = 'e98'").fetchall() == [(3,)]
    assert kept in order and digests[0][0] < digests[1][0], (kept, digests)
