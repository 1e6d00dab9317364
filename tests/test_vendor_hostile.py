"""Hostile vendor files (contract 1.10 folders): a bad byte or a bad line costs only its own event, with
its line and reason; every other event of the file loads. One load of one bundle holding every case."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from compliance.ingest.load import IngestSummary, ingest

T = "2025-03-03T09:00:00Z"
BAD = b"\xff\xfe"  # never valid UTF-8
MARK = "BADBYTE"  # replaced by BAD in the written bytes


def okta(n: str) -> dict:
    return {"uuid": f"okta-{n}", "published": T, "eventType": "user.session.start",
            "actor": {"id": "00u1", "type": "User", "alternateId": f"al-{n}@x.io"}, "outcome": {"result": "SUCCESS"}}  # fmt: skip


def trail(n: str) -> dict:
    return {"eventID": f"ct-{n}", "eventTime": T, "eventName": "ConsoleLogin", "eventSource": "signin.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::1:user/u-{n}"}, "recipientAccountId": "1",
            "responseElements": {"ConsoleLogin": "Success"}}  # fmt: skip


def google(n: str) -> dict:
    return {"id": {"time": T, "uniqueQualifier": f"gw-{n}", "applicationName": "login"},
            "actor": {"email": f"al-{n}@x.io", "profileId": "1"}, "events": [{"name": "login_success"}]}  # fmt: skip


def entra(n: str) -> dict:
    return {"time": T, "category": "SignInLogs",
            "properties": {"id": f"en-{n}", "createdDateTime": T, "userPrincipalName": f"al-{n}@x.io",
                           "status": {"errorCode": 0}}}  # fmt: skip


def ocsf(n: str) -> dict:
    return {"class_uid": 3002, "activity_id": 1, "status_id": 1, "time": 1741000000000,
            "metadata": {"uid": f"oc-{n}"}, "user": {"email_addr": f"al-{n}@x.io"}}  # fmt: skip


def damaged(event: dict) -> dict:
    """The event with a value holding a byte that is not UTF-8."""
    return {**event, "note": MARK}


def dump(value: object, indent: int | None = None) -> bytes:
    return json.dumps(value, indent=indent).encode().replace(MARK.encode(), BAD)


def twice(value: object, key: str, first: object) -> bytes:
    """The JSON of `value` with `"key": first` written just before the first `"key":` (a key given twice)."""
    return dump(value).replace(f'"{key}": '.encode(), f'"{key}": {json.dumps(first)}, "{key}": '.encode(), 1)


def drive(n: str, *params: str) -> dict:
    return {**google(n), "id": {"time": T, "uniqueQualifier": f"gw-{n}", "applicationName": "drive"},
            "events": [{"name": "view", "parameters": [{"name": p, "value": f"v-{i}"} for i, p in enumerate(params)]}]}  # fmt: skip


def lines(*values: object) -> bytes:
    return b"".join((v if isinstance(v, bytes) else dump(v)) + b"\n" for v in values)


@dataclass(frozen=True)
class Case:
    id: str
    path: str
    content: bytes
    loaded: int
    rejects: list[tuple[int | None, str]]  # (line, part of the reason), in line order
    gz: bool = False


CASES = [
    Case("okta-jsonl", "okta/bad-byte.jsonl", lines(okta("a1"), damaged(okta("a2")), okta("a3")), 2,
         [(2, "unreadable line: not UTF-8 text")]),
    Case("okta-lines-after-blanks", "okta/blanks.jsonl",
         lines(okta("b1"), b"", damaged(okta("b2")), b"   ", okta("b3"), b"{not json", okta("b4")), 3,
         [(3, "not UTF-8"), (6, "unparseable line: not valid JSON")]),
    Case("okta-first-line", "okta/first.jsonl", lines(damaged(okta("c1")), okta("c2")), 1, [(1, "not UTF-8")]),
    Case("okta-array-line", "okta/page.json", lines([okta("d1"), damaged(okta("d2")), okta("d3")]), 2,
         [(1, "unreadable event 2 of the array: not UTF-8 text")]),
    Case("okta-two-bad", "okta/two.jsonl", lines(damaged(okta("e1")), okta("e2"), damaged(okta("e3")), okta("e4")),
         2, [(1, "not UTF-8"), (3, "not UTF-8")]),
    Case("cloudtrail-records", "cloudtrail/s3.json",
         lines({"Records": [trail("f1"), damaged(trail("f2")), trail("f3")]}), 2,
         [(1, "unreadable event 2 of Records[]: not UTF-8 text")]),
    Case("cloudtrail-records-gz", "cloudtrail/s3.json.gz",
         lines({"Records": [damaged(trail("g1")), trail("g2")]}), 1, [(1, "event 1 of Records[]")], gz=True),
    Case("cloudtrail-bad-envelope", "cloudtrail/env.json",
         lines({"Records": [trail("h1")], "note": MARK}), 0, [(1, "unreadable line: not UTF-8 text")]),
    Case("cloudtrail-lines", "cloudtrail/lake.jsonl", lines(trail("i1"), damaged(trail("i2"))), 1, [(2, "not UTF-8")]),
    Case("google-pretty-page", "google_workspace/page.json",
         dump({"items": [google("j1"), damaged(google("j2")), google("j3")]}, indent=2), 2,
         [(None, "unreadable event 2 of items[]: not UTF-8 text")]),
    Case("google-lines", "google_workspace/act.jsonl", lines(damaged(google("k1")), google("k2")), 1, [(1, "UTF-8")]),
    Case("entra-lines", "entra/signins.jsonl", lines(entra("l1"), damaged(entra("l2")), entra("l3")), 2,
         [(2, "not UTF-8")]),
    Case("entra-graph-page", "entra/graph.json", lines({"value": [damaged(entra("m1")), entra("m2")]}), 1,
         [(1, "event 1 of value[]")]),
    Case("ocsf-lines", "ocsf/auth.jsonl", lines(ocsf("n1"), damaged(ocsf("n2")), ocsf("n3")), 2, [(2, "not UTF-8")]),
    Case("okta-latin1-file", "okta/latin1.jsonl",
         lines(damaged(okta("o1")), damaged(okta("o2"))), 0, [(1, "not UTF-8"), (2, "not UTF-8")]),
    # A key given twice in one event (the mapping would read one value of two: a guess) rejects that event.
    Case("okta-key-twice", "okta/twice.jsonl",
         lines(okta("p1"), twice(okta("p2"), "eventType", "user.session.end"), okta("p3")), 2,
         [(2, "field eventType: given more than once in one record")]),
    Case("okta-unread-key-twice", "okta/note.jsonl", lines(twice({**okta("q1"), "note": "b"}, "note", "a")), 0,
         [(1, "field note: given more than once")]),
    Case("okta-target-key-twice", "okta/target.jsonl",
         lines(twice({**okta("r1"), "target": [{"id": "g1", "type": "UserGroup", "displayName": "Admins"}]},
                     "displayName", "Everyone"), okta("r2")), 1,
         [(1, "field target[1].displayName: given more than once")]),
    Case("cloudtrail-nested-key-twice", "cloudtrail/twice.json",
         lines(b'{"Records": [' + dump(trail("s1")) + b", " + twice(trail("s2"), "arn", "arn:aws:iam::1:user/x")
               + b"]}"), 1, [(1, "field userIdentity.arn: given more than once")]),
    Case("google-parameter-twice", "google_workspace/params.jsonl",
         lines(drive("t1", "doc_id", "doc_title", "doc_id"), drive("t2", "doc_id", "doc_title")), 1,
         [(1, "field parameters doc_id: given more than once")]),
    Case("google-second-event-key-twice", "google_workspace/events.jsonl",
         lines({**google("u1"), "events": [{"name": "login_success"}, {"name": "logout", "type": "login"}]},
               twice({**google("u2"), "events": [{"name": "login_success"}, {"name": "logout", "type": "login"}]},
                     "type", "x")), 3, [(2, "field events[0].type: given more than once")]),
    Case("entra-key-twice", "entra/twice.jsonl", lines(entra("v1"), twice(entra("v2"), "userPrincipalName", "x@y")), 1,
         [(2, "field properties.userPrincipalName: given more than once")]),
    Case("ocsf-key-twice", "ocsf/twice.jsonl", lines(twice(ocsf("w1"), "email_addr", "x@y"), ocsf("w2")), 1,
         [(1, "field user.email_addr: given more than once")]),
    # A place past a pole or the date line, as each vendor writes a place: only that event is rejected.
    Case("okta-latitude-past-pole", "okta/geo.jsonl",
         lines({**okta("x1"), "client": {"geographicalContext": {"geolocation": {"lat": 999, "lon": 4.9}}}},
               {**okta("x2"), "client": {"geographicalContext": {"geolocation": {"lat": 52.4, "lon": 4.9}}}}), 1,
         [(1, "field geo_lat: 999 is above 90")]),
    Case("entra-longitude-past-date-line", "entra/geo.jsonl",
         lines(entra("y1"), {**entra("y2"), "properties": {**entra("y2")["properties"],
               "location": {"geoCoordinates": {"latitude": -33.9, "longitude": -181}}}}), 1,
         [(2, "field geo_lon: -181 is below -180")]),
    Case("ocsf-latitude-nan", "ocsf/geo.jsonl",
         lines({**ocsf("z1"), "src_endpoint": {"location": {"lat": "NaN", "long": 1.0}}}, ocsf("z2")), 1,
         [(1, "field geo_lat: not a number 'NaN'")]),
]  # fmt: skip

# Rejects for a value the event gives, not for its bytes or keys: the raw is the event as given, as JSON.
VALUE_REASONS = ("is above", "is below", "not a number")


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[IngestSummary, Path, Path]:
    export = tmp_path_factory.mktemp("vendor-hostile") / "export"
    for case in CASES:
        path = export / case.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(case.content) if case.gz else case.content)
    db = export.parent / "audit.duckdb"
    return ingest([export], db, findings=False), export, db


def _query(db: Path, sql: str, params: dict) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_byte_costs_only_its_own_event(case: Case, loaded: tuple[IngestSummary, Path, Path]) -> None:
    summary, export, db = loaded
    path = str(export / case.path)
    [f] = [f for f in summary.files if str(f.path) == path]
    assert (f.status, f.rows_loaded, f.rows_rejected) == ("loaded", case.loaded, len(case.rejects))
    got = _query(db, "select line, reason, raw from rejects where path = $p order by line, reason", {"p": path})
    assert len(got) == len(case.rejects), got
    for (line, reason), (got_line, got_reason, raw) in zip(case.rejects, got, strict=True):
        assert got_line == line and reason in got_reason, got
        # the bad bytes shown, escaped; a key given twice shown as given
        assert (
            "\\xff\\xfe" in raw
            or "not valid JSON" in got_reason
            or "given more than once" in got_reason
            or (any(words in got_reason for words in VALUE_REASONS) and isinstance(json.loads(raw), dict))
        ), raw
    stored = _query(db, "select count(*) from audit_events where source_file_id = $f", {"f": f.file_id})
    assert stored == [(case.loaded,)]


def test_each_file_of_a_batch_is_credited_alone_in_the_manifest(loaded: tuple[IngestSummary, Path, Path]) -> None:
    """A vendor folder's files map in one batch: each still has its own manifest row (its SHA-256, its
    counts), and its events and rejects carry its id."""
    _summary, export, db = loaded
    for case in CASES:
        path = export / case.path
        rows = _query(
            db,
            "select file_id, rows_read, rows_loaded, rows_rejected from load_manifest where path = $p",
            {"p": str(path)},
        )
        assert rows == [
            (
                hashlib.sha256(path.read_bytes()).hexdigest(),
                case.loaded + len(case.rejects),
                case.loaded,
                len(case.rejects),
            )
        ], case.id
        events = _query(db, "select count(*) from audit_events where source_file_id = $f", {"f": rows[0][0]})
        rejects = _query(db, "select count(*) from rejects where file_id = $f", {"f": rows[0][0]})
        assert (events, rejects) == ([(case.loaded,)], [(len(case.rejects),)]), case.id


def test_salvaged_events_keep_the_ids_of_a_clean_delivery(loaded: tuple[IngestSummary, Path, Path], tmp_path) -> None:
    """An event kept from a damaged document gets the id it has in the same document delivered clean, so a
    corrected re-delivery de-duplicates instead of doubling it."""
    _summary, _export, db = loaded
    clean = tmp_path / "clean"
    (clean / "cloudtrail").mkdir(parents=True)
    (clean / "cloudtrail" / "s3.json").write_bytes(lines({"Records": [trail("f1"), trail("f2"), trail("f3")]}))
    clean_db = tmp_path / "clean.duckdb"
    ingest([clean], clean_db, findings=False)
    ids = "select event_id from audit_events where event_id like 'cloudtrail:ct-f%' order by 1"
    kept = _query(db, ids, {})
    assert len(kept) == 2 and set(kept) <= set(_query(clean_db, ids, {}))


def test_progress_counts_every_vendor_and_identities_file(tmp_path: Path) -> None:
    export = tmp_path / "export"
    files = {
        "identities/ids.csv": b"identity,actor_id\nal-p1@x.io,emp-1\n",
        "okta/a.jsonl": lines(okta("p1")),
        "okta/2025/b.jsonl": lines(okta("p2")),
        "cloudtrail/c.json": lines({"Records": [trail("p3")]}),
        "ocsf/d.jsonl": lines(ocsf("p4")),
    }
    for rel, content in files.items():
        (export / rel).parent.mkdir(parents=True, exist_ok=True)
        (export / rel).write_bytes(content)
    calls: list[tuple[str, Path | None, int, int]] = []
    ingest([export], tmp_path / "p.duckdb", findings=False, progress=lambda *a: calls.append(a))
    ticks = [c for c in calls if c[1] is not None]
    assert sorted(str(p.relative_to(export)) for _, p, _, _ in ticks) == sorted(files)
    assert [done for _, _, done, _ in ticks] == list(range(len(files)))  # one step per file, none skipped
    assert {total for *_, total in calls} == {len(files)} and calls[-1] == ("", None, len(files), len(files))
    assert {folder for folder, p, _, _ in ticks if p is not None} == {"identities", "okta", "cloudtrail", "ocsf"}


def test_a_corrupt_file_named_by_the_reader_is_set_aside_and_the_others_scanned_once_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two corrupt delivery files among good ones: each is named from DuckDB's message and set aside, the
    others are scanned again together (not file by file), and every good file keeps all its lines."""
    from compliance.ingest.vendors import core

    good = [tmp_path / "a.json", tmp_path / "b.json.gz", tmp_path / "c.jsonl"]
    good[0].write_bytes(dump({"Records": [{"eventName": "A"}, {"eventName": "B"}]}))
    good[1].write_bytes(gzip.compress(dump({"Records": [{"eventName": "C"}]})))
    good[2].write_bytes(lines({"eventName": "D"}, {"eventName": "E"}))
    bad = [tmp_path / "a.json.gz", tmp_path / "d.json.gz"]  # `a.json` is part of the first one's name
    bad[0].write_bytes(b"\x1f\x8b\x08\x00garbage")
    bad[1].write_bytes(b"not gzip at all")
    paths = [good[0], bad[0], good[1], bad[1], good[2]]
    scans: list[list[int]] = []
    scan = core._scan
    monkeypatch.setattr(core, "_scan", lambda con, p, idx, env: (scans.append(list(idx)), scan(con, p, idx, env))[1])
    con = duckdb.connect()
    failed = core.read_files(con, paths, ("Records",))
    assert sorted(failed) == [1, 3] and all("GZIP" in why for why in failed.values())
    assert scans == [[0, 1, 2, 3, 4], [0, 2, 3, 4], [0, 2, 4]] or scans == [[0, 1, 2, 3, 4], [0, 1, 2, 4], [0, 2, 4]]
    # Lines, not rows: a line that is an envelope holds one row per event.
    rows = con.execute(
        "select fidx, count(distinct line) from _vlines where doc is not null group by 1 order by 1"
    ).fetchall()
    assert rows == [(0, 1), (2, 1), (4, 2)]


def test_the_reader_s_message_names_the_longest_matching_path() -> None:
    from compliance.ingest.vendors.core import _named_in

    paths = [Path("/x/a.json"), Path("/x/a.json.gz"), Path("/x/b.json")]
    assert _named_in("IO Error: Input is not a GZIP stream: /x/a.json.gz", paths) == 1
    assert _named_in('IO Error: Cannot open file "/x/b.json": Permission denied', paths) == 2
    assert _named_in("Invalid Input Error: something else", paths) is None


@pytest.mark.parametrize("threads", [1, 2])
def test_a_file_gone_between_listing_and_reading_is_set_aside_and_the_others_load(tmp_path: Path, threads: int) -> None:
    """A delivery file deleted after the folder was listed (a sync still running) is named as unreadable,
    like a corrupt one; sizing the files for the threads' groups must not fail on it first."""
    from compliance.ingest.vendors import core

    good = [tmp_path / "a.jsonl", tmp_path / "c.jsonl"]
    good[0].write_bytes(lines({"eventName": "A"}, {"eventName": "B"}))
    good[1].write_bytes(lines({"eventName": "C"}))
    paths = [good[0], tmp_path / "gone.json", good[1]]
    con = duckdb.connect()
    con.execute(f"set threads = {threads}")
    failed = core.read_files(con, paths, ("Records",))
    assert list(failed) == [1] and "gone.json" in failed[1]
    rows = con.execute("select fidx, count(*) from _vlines where doc is not null group by 1 order by 1").fetchall()
    assert rows == [(0, 2), (2, 1)]


@pytest.mark.parametrize("corrupt", [False, True])
def test_a_scan_leaves_the_connection_s_settings_and_no_reject_tables_however_it_ends(
    tmp_path: Path, corrupt: bool
) -> None:
    """`_scan` reads the threads setting to split the files and changes no setting; the reader's reject tables
    of its tolerant pass (a line that is not UTF-8) are dropped whether the scan succeeds or fails."""
    from compliance.ingest.vendors import core

    good = tmp_path / "a.jsonl"
    good.write_bytes(lines({"eventName": "A"}) + b'{"eventName": "\xff"}\n' + lines({"eventName": "B"}))
    bad = tmp_path / "b.json.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00garbage" if corrupt else gzip.compress(lines({"eventName": "C"})))
    con = duckdb.connect()
    con.execute("set threads = 2").fetchall()
    settings = "select name, value from duckdb_settings() order by name"
    before = con.execute(settings).fetchall()
    con.execute(core._LINES_DDL).fetchall()
    if corrupt:
        with pytest.raises(core.FILE_ERRORS):
            core._scan(con, [good, bad], [0, 1], ("Records",))
    else:
        core._scan(con, [good, bad], [0, 1], ("Records",))
        assert con.execute("select fidx, line from _vlines where doc is not null order by 1, 2").fetchall() == [
            (0, 1),
            (0, 3),
            (1, 1),
        ]
    assert con.execute(settings).fetchall() == before
    left = "select table_name from duckdb_tables() where table_name like '\\_vline\\_%' escape '\\'"
    assert con.execute(left).fetchall() == []


def _read_lines(paths: list[Path], threads: int) -> tuple[dict[int, str], list[tuple]]:
    from compliance.ingest.vendors import core

    con = duckdb.connect()
    con.execute(f"set threads = {threads}").fetchall()
    failed = core.read_files(con, paths, ("Records",))
    rows = con.execute("select fidx, line, elem, doc, raw, problem from _vlines order by all").fetchall()
    return failed, rows


@pytest.mark.parametrize("threads", [1, 2])
def test_gzip_files_read_as_one_stream_keep_their_file_line_and_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """Many small gzip files are read as one stream per thread (core._stream_scan): every line keeps its file
    and physical line, exactly as when each file is read alone; a file that would read differently inside a
    stream (a byte-order mark, CRLF lines, nothing in it) is read alone, and a corrupt one among them makes the
    stream fail, so every file is read alone and the corrupt one is named."""
    from compliance.ingest.vendors import core

    contents = {
        "a.json.gz": dump({"Records": [trail("a1"), trail("a2")]}),  # one line, no newline at its end
        "b.json.gz": lines(trail("b1")) + b"\n  \n" + b"not json\n" + lines(trail("b2")),
        "c.json.gz": b"\xef\xbb\xbf" + lines(trail("c1")),  # a byte-order mark: the reader drops it at a file's start
        "d.json.gz": lines(trail("d1"), trail("d2")).replace(b"\n", b"\r\n"),
        "e.json.gz": b"",
        "f.json.gz": lines(trail("f1")) + dump([trail("f2"), trail("f3")]),
        "g.jsonl": lines(trail("g1")),
    }
    paths = []
    for name, content in contents.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    streams: list[list[int]] = []
    stream = core._stream_scan
    monkeypatch.setattr(
        core, "_stream_scan", lambda con, p, idx, env: (streams.append(idx), stream(con, p, idx, env))[1]
    )
    streamed = _read_lines(paths, threads)
    assert streams == [[0, 1, 5]]
    monkeypatch.setattr(core, "_streamable", lambda path: False)
    assert streamed == _read_lines(paths, threads)
    assert {(r[0], r[1]) for r in streamed[1] if r[5] is None and r[3] is None} == {(1, 4)}  # `not json`, its line
    # A corrupt member among them: the stream fails, the files are read alone, the corrupt one named.
    corrupt = tmp_path / "h.json.gz"
    corrupt.write_bytes(gzip.compress(lines(trail("h1")))[:-12] + b"\x00" * 12)
    monkeypatch.undo()
    monkeypatch.setattr(
        core, "_stream_scan", lambda con, p, idx, env: (streams.append(idx), stream(con, p, idx, env))[1]
    )
    failed, rows = _read_lines([*paths, corrupt], threads)
    assert streams[-1] == [0, 1, 5, 7] and list(failed) == [7]
    assert rows == streamed[1]


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_vendor_files_load_under_a_small_memory_limit(tmp_path: Path, threads: int) -> None:
    """The line reader's buffer holds one longest line, not DuckDB's default of 16 (4 GB a scan, which no
    `--memory-limit 4GB` ingest of a CloudTrail S3 delivery could allocate): gzip streams, a lone gzip file
    and plain JSON Lines all load under 1 GB with every event."""
    ex = tmp_path / "export"
    (ex / "cloudtrail").mkdir(parents=True)
    for k in range(3):  # streamed together: many small gzip files
        (ex / "cloudtrail" / f"s3-{k}.json.gz").write_bytes(
            gzip.compress(dump({"Records": [trail(f"{k}-{i}") for i in range(5)]}))
        )
    (ex / "cloudtrail" / "lake.jsonl").write_bytes(lines(*(trail(f"l{i}") for i in range(4))))
    summary = ingest([ex], tmp_path / "a.duckdb", findings=False, memory_limit="1GB", threads=threads)
    assert summary.published
    assert _query(
        tmp_path / "a.duckdb", "select count(*) from audit_events where log_source = $f", {"f": "cloudtrail"}
    ) == [(19,)]


def test_a_line_longer_than_the_memory_allows_still_loads_every_event_under_its_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under a small memory limit the reader takes shorter lines (core.line_limit); a delivery file longer than
    that is skipped by the reader and read again in Python (salvage): every event loads, under the id it gets
    when the line is read whole."""
    from compliance.ingest.vendors import core

    ex = tmp_path / "export"
    (ex / "cloudtrail").mkdir(parents=True)
    long_line = dump({"Records": [trail(f"long-{i}") for i in range(300)]})
    (ex / "cloudtrail" / "big.json.gz").write_bytes(gzip.compress(long_line))
    (ex / "cloudtrail" / "small.json.gz").write_bytes(gzip.compress(dump({"Records": [trail("short")]})))
    ids = "select event_id from audit_events order by 1"
    ingest([ex], tmp_path / "whole.duckdb", findings=False)
    monkeypatch.setattr(core, "line_limit", lambda con: len(long_line) // 2)
    ingest([ex], tmp_path / "salvaged.duckdb", findings=False)
    whole = _query(tmp_path / "whole.duckdb", ids, {})
    assert len(whole) == 301
    assert _query(tmp_path / "salvaged.duckdb", ids, {}) == whole
    assert _query(tmp_path / "salvaged.duckdb", "select count(*) from rejects", {}) == [(0,)]
    # One event longer than the reader takes loads all the same while it is within the contract's longest record;
    # longer than that, it is a reject saying so (not "not UTF-8"). The next line loads either way.
    from compliance.ingest.vendors import salvage

    huge = {**trail("huge"), "requestParameters": {"blob": "x" * len(long_line)}}
    (ex / "cloudtrail" / "lake.jsonl").write_bytes(lines(huge, trail("after")))
    ingest([ex], tmp_path / "salvaged.duckdb", findings=False)
    events = "select count(*) from audit_events where event_id like $id"
    assert _query(tmp_path / "salvaged.duckdb", events, {"id": "cloudtrail:ct-huge:%"}) == [(1,)]
    monkeypatch.setattr(salvage, "MAX_RECORD_BYTES", len(long_line))
    ingest([ex], tmp_path / "salvaged-2.duckdb", findings=False)
    rejects = "select line, reason from rejects where path like '%lake.jsonl'"
    [(line, reason)] = _query(tmp_path / "salvaged-2.duckdb", rejects, {})
    assert line == 1 and reason.startswith("unreadable line: Maximum line size of")
    for db in ("salvaged.duckdb", "salvaged-2.duckdb"):
        assert _query(tmp_path / db, events, {"id": "cloudtrail:ct-after:%"}) == [(1,)]


def test_the_line_limit_follows_the_memory_limit_and_threads() -> None:
    """Every thread's buffer (16 lines) within an eighth of the memory limit, lines between DuckDB's default of
    2 MB and the contract's longest record, 16 MiB."""
    from compliance.ingest.vendors import core

    mib = 1024 * 1024
    con = duckdb.connect()
    for limit, threads, low, high in (
        ("4GB", 2, 14 * mib, 16 * mib),
        ("1GB", 4, 2_000_000, 2_000_000),
        ("96GB", 2, 16 * mib, 16 * mib),
    ):
        con.execute(f"set memory_limit = '{limit}'; set threads = {threads}").fetchall()
        assert low <= core.line_limit(con) <= high, (limit, threads)


def test_a_line_longer_than_the_reader_s_buffer_is_dropped_by_duckdb_so_the_buffer_keeps_its_margin(
    tmp_path: Path,
) -> None:
    """Why the buffer stays at 16 lines (DuckDB 2.0): a line longer than the buffer is neither read nor named;
    one between the line limit and the buffer is named, as the vendor reader needs."""
    path = tmp_path / "one.json"
    path.write_text('{"a": "' + "x" * 300_000 + '"}')
    read = "select count(*) from read_csv($p, columns={'raw': 'VARCHAR'}, header=false, delim=E'\\x1f', quote='', escape='', auto_detect=false, max_line_size=100000, buffer_size=$b)"
    con = duckdb.connect()
    assert con.execute(read, {"p": str(path), "b": 200_001}).fetchall() == [(0,)]  # dropped without a word
    with pytest.raises(duckdb.InvalidInputException, match="Maximum line size"):
        con.execute(read, {"p": str(path), "b": 100_000 * 16}).fetchall()


LIMIT = 4096  # the line limit these tests set (a 64 KiB buffer)


def _events(rows: list[tuple], fidx: int) -> int:
    """The events of a file in `_vlines` rows: a salvaged line is one document whose Records are unwrapped later."""
    docs = [json.loads(r[3]) for r in rows if r[0] == fidx and r[3] is not None]
    return sum(len(d["Records"]) if isinstance(d, dict) and "Records" in d else 1 for d in docs)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n"])
def test_a_file_longer_than_the_buffer_with_short_lines_loads_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gz: bool, newline: bytes
) -> None:
    """Measuring a file longer than the reader's buffer finds nothing missing when every line was read (line ends
    LF or CR LF, a byte-order mark, blank lines, no final newline)."""
    from compliance.ingest.vendors import core

    monkeypatch.setattr(core, "line_limit", lambda con: LIMIT)
    body = newline.join(dump(trail(f"s{i}")) for i in range(400)) + newline + b"  " + newline + dump(trail("last"))
    assert len(body) > LIMIT * core.BUFFER_LINES
    paths = [tmp_path / (f"{k}.json.gz" if gz else f"{k}.jsonl") for k in "ab"]  # two: a stream when gzip
    for path in paths:
        path.write_bytes(gzip.compress(b"\xef\xbb\xbf" + body) if gz else b"\xef\xbb\xbf" + body)
    failed, rows = _read_lines(paths, threads=2)
    assert failed == {} and sum(1 for r in rows if r[3] is not None) == 2 * 401


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("where", ["alone", "first", "middle", "last"])
def test_a_line_longer_than_the_buffer_is_never_dropped_without_a_word(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gz: bool, where: str
) -> None:
    """DuckDB drops a line longer than its buffer without an error (or fails with "Not implemented"): the file is
    read again without its long lines, which are salvaged, so every event loads; the other files load too."""
    from compliance.ingest.vendors import core

    monkeypatch.setattr(core, "line_limit", lambda con: LIMIT)
    huge = dump({"Records": [trail(f"h{i}") for i in range(400)]})
    assert len(huge) > LIMIT * core.BUFFER_LINES
    short = [dump(trail(f"s{i}")) for i in range(3)]
    lines_of = {
        "alone": [huge],
        "first": [huge, *short],
        "middle": [short[0], huge, *short[1:]],
        "last": [*short, huge],
    }
    content = b"\n".join(lines_of[where]) + b"\n"
    name = "big.json.gz" if gz else "big.jsonl"
    paths = [tmp_path / name, tmp_path / "ok-1.json.gz", tmp_path / "ok-2.json.gz"]
    paths[0].write_bytes(gzip.compress(content) if gz else content)
    for p in paths[1:]:
        p.write_bytes(gzip.compress(dump({"Records": [trail(p.name)]})))
    failed, rows = _read_lines(paths, threads=2)
    assert failed == {}
    assert _events(rows, 0) == 400 + (0 if where == "alone" else 3) and _events(rows, 1) == _events(rows, 2) == 1
    # every line under its physical number: the long one salvaged whole, the short ones read
    numbers = sorted({r[1] for r in rows if r[0] == 0})
    assert numbers == list(range(1, len(lines_of[where]) + 1))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_long_line_the_reader_drops_inside_its_buffer_is_named_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """DuckDB also drops a line longer than the line limit but shorter than its buffer when it ends a file or a
    buffer's span (in a gzip stream, the buffer's edges fall anywhere in a file): such a file is set aside and
    named, and no other file loses anything (a second reader's cases)."""
    from compliance.ingest.vendors import core

    monkeypatch.setattr(core, "line_limit", lambda con: 1000)
    short = b"\n".join(dump(trail(f"s{i}")) for i in range(40)) + b"\n"
    long_line = dump({"Records": [trail(f"x{i}") for i in range(40)]}) + b"\n"
    assert 1000 < len(long_line) < 1000 * core.BUFFER_LINES
    contents = {"a0.json.gz": short, "a1.json.gz": short, "x.json.gz": long_line, "y.jsonl": short + long_line}
    paths = []
    for name, content in contents.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(gzip.compress(content) if name.endswith(".gz") else content)
    failed, rows = _read_lines(paths, threads)
    assert failed == {}
    assert [_events(rows, i) for i in range(4)] == [40, 40, 40, 80]  # every event read or salvaged


def test_no_memory_limit_gives_the_longest_lines() -> None:
    """`--memory-limit -1` (none) reads as 16383.9 PiB, a unit DuckDB cannot parse back: the longest lines."""
    from compliance.ingest.vendors import core

    con = duckdb.connect()
    con.execute("set memory_limit = '-1'").fetchall()
    assert core.memory_limit_bytes(con) is None and core.line_limit(con) == core.MAX_LINE_BYTES


def test_an_envelope_holding_a_null_keeps_its_line_s_text_for_the_reject(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(lines(trail("first"), {"Records": [None, trail("n1")]}))
    failed, rows = _read_lines([path], threads=1)
    assert failed == {}
    [(line, elem, raw)] = [(r[1], r[2], r[4]) for r in rows if r[3] is None]
    assert (line, elem) == (2, 1) and raw is not None and "ct-n1" in raw


def test_batches_count_a_gzip_file_s_text_from_its_trailer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch holds at most BATCH_BYTES of text: a gzip file counts its ISIZE (what it inflates to), at least 10x
    its size; a file gone since it was listed counts nothing (the reader names it)."""
    from types import SimpleNamespace

    from compliance.ingest.vendors import loader

    text = b"".join(dump(trail(f"t{i}")) + b"\n" for i in range(200))
    packed = gzip.compress(text)
    assert len(text) > 10 * len(packed)  # repetitive JSON inflates more than 10x
    files = []
    for k in range(4):
        path = tmp_path / f"{k}.json.gz"
        path.write_bytes(packed)
        files.append(SimpleNamespace(path=path))
    files.append(SimpleNamespace(path=tmp_path / "gone.json.gz"))
    assert loader._batch_bytes(files[0].path) == len(text)
    assert loader._batch_bytes(files[-1].path) == 0
    monkeypatch.setattr(loader, "BATCH_BYTES", 2 * len(text))
    assert [len(b) for b in loader._batches(files)] == [2, 3]  # a fixed 10x would have put all five in one


@pytest.mark.parametrize("threads", [1, 2])
def test_files_named_with_glob_characters_load_gzip_or_plain(tmp_path: Path, threads: int) -> None:
    """A name with `[`, `*`, `?` and quotes is read by exact path (glob-escaped); the compression is said, not
    detected, since DuckDB 2.0 does not detect it from an escaped name (such a gzip file failed whole)."""
    odd = "a[1]*?';drop table audit_events;--"
    paths = [tmp_path / f"{odd}.json.gz", tmp_path / f"{odd}.jsonl", tmp_path / "plain.jsonl"]
    paths[0].write_bytes(
        gzip.compress(dump({"Records": [trail(f"g{i}") for i in range(50)]}))
    )  # read alone, not streamed
    paths[1].write_bytes(lines(trail("p1"), trail("p2")))
    paths[2].write_bytes(lines(trail("z1")))
    failed, rows = _read_lines(paths, threads)
    assert failed == {}
    assert [_events(rows, i) for i in range(3)] == [50, 2, 1]
