"""A corpus of hostile and malformed export files, each with the exact outcome ingest must give it.

Every case is one file (or link, pipe, folder) written into one shared export bundle next to a good
file of every source, so a single load shows both what happens to the case and that no good row of
any other file is lost. Ids are unique per case (`<case>-<n>`), so no case de-duplicates another.

Outcomes:
- loaded(n): the file is read, n rows loaded, nothing rejected;
- rejected(reason, n_bad, n_good): n_bad rows rejected, each reason containing `reason`, n_good loaded;
- failed(problem): the file cannot be read at all; it is named (summary and `rejects`) with `problem`;
- unread(reason): the entry is not read, and the summary names it with `reason`;
- skipped: same content as a file already read.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class Outcome:
    kind: str  # loaded | rejected | failed | unread | skipped
    loaded: int = 0
    rejected: int = 0
    reason: str = ""
    # When given (worked out by hand, the header is line 1): the physical line of each reject, of each
    # loaded row (usage files: their event_id starts with the case id), and the blank lines skipped.
    reject_lines: tuple[int, ...] = ()
    row_lines: tuple[int, ...] = ()
    blank_lines: int = 0


def loaded(n: int) -> Outcome:
    return Outcome("loaded", loaded=n)


def rejected(reason: str, n_bad: int = 1, n_good: int = 1, **lines: object) -> Outcome:
    return Outcome("rejected", loaded=n_good, rejected=n_bad, reason=reason, **lines)  # type: ignore[arg-type]


def failed(problem: str) -> Outcome:
    return Outcome("failed", reason=problem)


def unread(reason: str) -> Outcome:
    return Outcome("unread", reason=reason)


SKIPPED = Outcome("skipped")


@dataclass(frozen=True)
class Case:
    id: str
    path: str  # relative to the export folder
    write: Callable[[Path, Path], None]  # (file path, export folder)
    expect: Outcome


# ---- rows of each source (minimal valid rows; ids unique per case) ----

TS = "2025-06-01T10:00:00Z"


def audit(cid: str, n: int = 0, **over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": f"{cid}-{n}",
        "occurred_at": TS,
        "actor_id": "emp-1",
        "actor_type": "employee",
        "action": "login",
        "outcome": "success",
    }
    row.update(over)
    return row


def diag(cid: str, n: int = 0, **over: object) -> dict[str, object]:
    row: dict[str, object] = {"occurred_at": TS, "service": "api", "level": "INFO", "message": f"{cid}-{n}"}
    row.update(over)
    return row


CSV_HEADERS = {
    "usage": "event_id,occurred_at,user_id,event_name,consent_analytics",
    "dsr": "request_id,subject_id,jurisdiction,request_type,received_at,status,status_reason",
    "inventory": "snapshot_at,system,store,record_id,data_category,created_at,legal_hold,contract_ended_at",
    "directory": "actor_id,actor_type,role,status,mfa_enabled,timezone",
    "tenants": "tenant_id,name,contract_started_at,contract_ended_at",
    "subjects": "subject_id,country,created_at",
    "incidents": "incident_id,detected_at,personal_data_involved,status",
}


def csv_row(source: str, cid: str, n: int = 0) -> str:
    k = f"{cid}-{n}"
    return {
        "usage": f"{k},{TS},u1,page_view,true",
        "dsr": f"{k},sub-1,EU,access,{TS},open,",
        "inventory": f"{TS},crm,db,{k},user.name,2025-01-01T00:00:00Z,false,",
        "directory": f"{k},employee,engineer,active,true,Europe/Berlin",
        "tenants": f"{k},Acme,2024-01-01T00:00:00Z,",
        "subjects": f"{k},DE,2024-01-01T00:00:00Z",
        "incidents": f"{k},{TS},true,open",
    }[source]


# ---- writers ----


def text(content: str | bytes) -> Callable[[Path, Path], None]:
    def write(path: Path, _export: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)

    return write


def jsonl(*rows: object) -> Callable[[Path, Path], None]:
    return text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))


def gz(content: str | bytes) -> Callable[[Path, Path], None]:
    return text(gzip.compress(content.encode() if isinstance(content, str) else content))


def csv(source: str, *lines: str, header: str | None = None) -> Callable[[Path, Path], None]:
    return text("\n".join([CSV_HEADERS[source] if header is None else header, *lines]) + "\n")


def parquet(frame: dict[str, list[object]]) -> Callable[[Path, Path], None]:
    def write(path: Path, _export: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(frame).write_parquet(path)

    return write


def symlink(target: str | Callable[[Path], Path]) -> Callable[[Path, Path], None]:
    def write(path: Path, export: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target(export) if callable(target) else target)

    return write


def fifo(path: Path, _export: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def folder_with(name: str, content: str) -> Callable[[Path, Path], None]:
    def write(path: Path, _export: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(content)

    return write


FUTURE = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
INJECT = "x'); delete from audit_events; --"
OUTSIDE = "outside the export folder"
WINDOW = "outside the plausible window"
UNPARSEABLE = "unparseable record"
NOT_UTF8 = "not UTF-8"


def _a(cid: str, **over: object) -> str:
    return json.dumps(audit(cid, 1, **over))


def _cases() -> list[Case]:
    c: list[Case] = []

    def add(cid: str, path: str, write: Callable[[Path, Path], None], expect: Outcome) -> None:
        c.append(Case(cid, path, write, expect))

    def one_good_row(cid: str, path: str, row: Callable[..., dict[str, object]], **fields: object) -> None:
        """A file of one row with `fields`, which loads."""
        add(cid, path, jsonl(row(cid, **fields)), loaded(1))

    def one_bad_row(cid: str, path: str, row: Callable[..., dict[str, object]], why: str, **spoilt: object) -> None:
        """A file of a good row and one whose `spoilt` fields make it a reject for `why`."""
        add(cid, path, jsonl(row(cid), row(cid, 1, **spoilt)), rejected(why))

    good2 = lambda cid: jsonl(audit(cid, 0), audit(cid, 1))  # noqa: E731

    # -- audit: file names, folders, links (read by exact path, walked, refused when leaving) --
    one_good_row("a-glob-q", "audit/?.jsonl", audit)
    add("a-plain", "audit/a.jsonl", good2("a-plain"), loaded(2))
    one_good_row("a-glob-star", "audit/*.jsonl", audit)
    one_good_row("a-glob-class", "audit/[a].jsonl", audit)
    one_good_row("a-quote-name", "audit/it's.jsonl", audit)
    one_good_row("a-sql-name", f"audit/{INJECT}.jsonl", audit)
    one_good_row("a-unicode-name", "audit/évé nt 01.jsonl", audit)
    add("a-dated-subfolder", "audit/2025/12/01.jsonl", good2("a-dated-subfolder"), loaded(2))
    one_good_row("a-spark-part", "audit/spark.jsonl/part-0.json", audit)
    one_good_row("a-ndjson", "audit/x.ndjson", audit)
    one_good_row("a-upper-ext", "audit/UPPER.JSONL", audit)
    add("a-gzip", "audit/z.jsonl.gz", gz(json.dumps(audit("a-gzip")) + "\n"), loaded(1))
    add("a-gzip-misnamed", "audit/gz-inside.jsonl", gz(json.dumps(audit("a-gzip-misnamed")) + "\n"), failed("gzip"))
    add("a-not-gzip", "audit/fake.jsonl.gz", text(json.dumps(audit("a-not-gzip"))), failed("not gzip-compressed"))
    truncated_gz = gzip.compress((json.dumps(audit("a-gzip-cut")) + "\n").encode() * 50)[:40]
    add("a-gzip-truncated", "audit/cut.jsonl.gz", text(truncated_gz), failed("cut.jsonl.gz"))
    add("a-symlink-etc", "audit/passwd.jsonl", symlink("/etc/passwd"), unread(OUTSIDE))
    add("a-symlink-updir", "audit/up.jsonl", symlink(lambda ex: ex.parent / "outside.jsonl"), unread(OUTSIDE))
    add("a-symlink-dir-out", "audit/etc-dir", symlink("/etc"), unread(OUTSIDE))
    add("a-symlink-inside", "audit/same-as-a.jsonl", symlink(lambda ex: ex / "audit" / "a.jsonl"), SKIPPED)
    add("a-symlink-broken", "audit/broken.jsonl", symlink("/nonexistent/nothing.jsonl"), unread("broken"))
    add("a-fifo", "audit/pipe.jsonl", fifo, unread("not a regular file"))
    add("a-hidden", "audit/.hidden.jsonl", jsonl(audit("a-hidden")), unread("hidden"))
    add("a-macos-fork", "audit/._a.jsonl", text(b"\x00\x05\x16\x07"), unread("hidden"))
    add("a-txt", "audit/notes.txt", text("hello"), unread("not a .jsonl file"))
    add("a-csv-in-jsonl-source", "audit/events.csv", text("event_id\nx\n"), unread("not a .jsonl file"))
    add("a-folder-like-file", "audit/empty.jsonl", folder_with("README.md", "x"), unread("not a .jsonl file"))
    # -- audit: bytes and lines --
    # Zero bytes have one SHA-256 whichever folder holds them: the empty usage file was read first.
    add("a-empty", "audit/empty0.jsonl", text(b""), SKIPPED)
    add("a-blank-lines", "audit/blank.jsonl", text("\n\n  \n"), loaded(0))
    add("a-crlf", "audit/crlf.jsonl", text(_a("a-crlf") + "\r\n" + json.dumps(audit("a-crlf", 2)) + "\r\n"), loaded(2))
    add("a-no-final-newline", "audit/nonl.jsonl", text(_a("a-no-final-newline")), loaded(1))
    bad_utf8 = _a("a-bad-utf8").encode() + b"\n" + json.dumps(audit("a-bad-utf8", 2, actor_id="x")).encode()
    bad_utf8 = bad_utf8.replace(b'"x"', b'"\xff\xfe"') + b"\n"
    add("a-bad-utf8", "audit/badbyte.jsonl", text(bad_utf8), rejected(NOT_UTF8))
    latin1 = (_a("a-latin1") + "\n" + json.dumps(audit("a-latin1", 2, actor_id="é"), ensure_ascii=False) + "\n").encode(
        "latin-1"
    )
    add("a-latin1", "audit/latin1.jsonl", text(latin1), rejected(NOT_UTF8))
    big = '{"event_id": "a-huge-0", "pad": "' + "x" * (20 * 1024 * 1024) + '"'  # 20 MB, never closed
    add("a-huge-line", "audit/huge.jsonl", text(big + "\n" + _a("a-huge-line") + "\n"), rejected(UNPARSEABLE))
    add(
        "a-truncated",
        "audit/trunc.jsonl",
        text(_a("a-truncated") + '\n{"event_id": "a-truncated-2", "occ\n'),
        rejected(UNPARSEABLE),
    )
    # A line whose last byte is not `}` is seen while the file is hashed and read carefully from the start;
    # a bad line that does end in `}` stops the fast read instead. Each is one reject either way.
    add("a-cut-last-line", "audit/cut-last.jsonl", text(_a("a-cut-last-line") + '\n{"event_id": "a-cut-last-line-2'),
        rejected(UNPARSEABLE))  # fmt: skip
    add("a-cut-crlf", "audit/cut-crlf.jsonl", text(_a("a-cut-crlf") + '\r\n{"event_id": "a-cut-crlf-2", \r\n'),
        rejected(UNPARSEABLE))  # fmt: skip
    add("a-bad-line-closed", "audit/bad-closed.jsonl", text(_a("a-bad-line-closed") + '\n{"event_id": "x",, }\n'),
        rejected(UNPARSEABLE))  # fmt: skip
    cid = "a-cut-and-dup"
    add(cid, "audit/cut-dup.jsonl",
        text(f'{_a(cid)}\n{{"event_id": "{cid}-2", "occ\n{json.dumps(audit(cid, 3))[:-1]}, "actor_id": "emp-2"}}\n'),
        rejected("", 2, 1))  # fmt: skip
    add("a-array-line", "audit/array.jsonl", text(_a("a-array-line") + "\n[1, 2, 3]\n"), rejected(UNPARSEABLE))
    add("a-string-line", "audit/str.jsonl", text(_a("a-string-line") + '\n"just a string"\n'), rejected(UNPARSEABLE))
    add("a-nul-byte", "audit/nul.jsonl", text(_a("a-nul-byte").encode() + b"\n\x00\x00\x00\n"), rejected(UNPARSEABLE))
    add("a-bom", "audit/bom.jsonl", text(b"\xef\xbb\xbf" + _a("a-bom").encode() + b"\n"), loaded(1))
    # -- audit: impossible values --
    for cid, ts, why in (
        ("a-ts-infinity", "infinity", "bad timestamp"),
        ("a-ts-neg-infinity", "-infinity", "bad timestamp"),
        ("a-ts-epoch", "epoch", "bad timestamp"),
        ("a-ts-9999", "9999-12-31T00:00:00Z", WINDOW),
        ("a-ts-1970", "1970-01-01T00:00:00Z", WINDOW),
        ("a-ts-1989", "1989-12-31T23:59:59Z", WINDOW),
        ("a-ts-future", FUTURE, WINDOW),
        ("a-ts-offset-25", "2025-06-01T10:00:00+25:00", "bad timestamp"),
        ("a-ts-month-13", "2025-13-01T00:00:00Z", "bad timestamp"),
        ("a-ts-words", "yesterday", "bad timestamp"),
        ("a-ts-number", 1748772000, "bad timestamp"),
        ("a-ts-empty", "", "missing required value"),
        ("a-ts-object", {"t": 1}, "bad timestamp"),
    ):
        one_bad_row(cid, f"audit/{cid}.jsonl", audit, why, occurred_at=ts)
    one_good_row("a-ts-offset-14", "audit/off14.jsonl", audit, occurred_at="2025-06-01T10:00:00+14:00")
    for cid, value, why in (
        ("a-count-fraction", 1.7, "not an integer"),
        ("a-count-text", "many", "not an integer"),
        ("a-count-negative", -1, "below 0"),
        ("a-count-exponent", "1e3", "not an integer"),
        ("a-count-overflow", 10**20, "not an integer"),
        ("a-count-bool", True, "not an integer"),
    ):
        one_bad_row(cid, f"audit/{cid}.jsonl", audit, why, record_count=value)
    one_good_row("a-count-string-int", "audit/cstr.jsonl", audit, record_count="5")
    # a place on the globe: past a pole or the date line is no place; NaN and infinity measure nothing
    for cid, field, value, why in (
        ("a-lat-999", "geo_lat", 999, "999 is above 90"),
        ("a-lat-below-pole", "geo_lat", -90.5, "-90.5 is below -90"),
        ("a-lon-181", "geo_lon", 181, "181 is above 180"),
        ("a-lon-text-minus-200", "geo_lon", "-200", "-200 is below -180"),
        ("a-lat-nan", "geo_lat", "NaN", "not a number 'NaN'"),
        ("a-lon-infinity", "geo_lon", "Infinity", "not a number 'Infinity'"),
        ("a-lat-minus-inf", "geo_lat", "-inf", "not a number '-inf'"),
        ("a-lat-overflow", "geo_lat", "1e999", "not a number '1e999'"),
        # DuckDB's cast reads digit separators and hexadecimal: not how an export writes a number
        ("a-lat-digit-separator", "geo_lat", "4_5", "not a number '4_5'"),
        ("a-lon-hex", "geo_lon", "0x10", "not a number '0x10'"),
    ):
        one_bad_row(cid, f"audit/{cid}.jsonl", audit, why, **{field: value, "geo_country": "AU"})
    one_good_row("a-geo-poles-and-date-line", "audit/geo-edge.jsonl", audit, geo_lat=-90, geo_lon=180)
    one_good_row("a-geo-text-numbers", "audit/geo-text.jsonl", audit, geo_lat="90", geo_lon="-180.0")
    one_good_row("a-geo-blanks-exponent", "audit/geo-exp.jsonl", audit, geo_lat=" 45 ", geo_lon="1.5e2")
    for cid, value in (
        ("a-categories-string", "user.name"),
        ("a-categories-object", {"c": "user.name"}),
        ("a-categories-number", 7),
        # a list or object inside the list: cast to text it would pass for a category named by its JSON
        ("a-categories-nested-list", [["user.name"]]),
        ("a-categories-nested-object", ["user.name", {"c": "user.name"}]),
    ):
        one_bad_row(cid, f"audit/{cid}.jsonl", audit, "not a list of strings", data_categories=value)
    one_good_row("a-categories-null", "audit/catnull.jsonl", audit, data_categories=None)
    # a string that looks like a list: the fast read cannot tell, a careful read can, and keeps it
    one_good_row("a-categories-listlike-text", "audit/catlike.jsonl", audit, data_categories=["[user.name]"])
    one_bad_row("a-unknown-enum", "audit/enum.jsonl", audit, "unknown value 'teleport'", action="teleport")
    one_bad_row("a-missing-actor", "audit/noactor.jsonl", audit, "actor_id: missing required value", actor_id=None)
    one_good_row("a-sql-values", "audit/sqlvals.jsonl", audit, actor_id=INJECT, system="'; drop table rejects; --")
    one_good_row("a-markup-values", "audit/markup.jsonl", audit, system="<script>alert(1)</script> **bold** [x](y)")
    one_good_row("a-unknown-fields", "audit/extra.jsonl", audit, surprise={"deep": [1, {"x": 2}]})
    for cid, value in (("a-text-object", {"id": "emp-1"}), ("a-text-list", ["emp-1", "emp-2"])):
        one_bad_row(
            cid,
            f"audit/{cid}.jsonl",
            audit,
            "field actor_id: an object or list where the contract wants text",
            actor_id=value,
        )
    one_good_row("a-text-number", "audit/num.jsonl", audit, tenant_id=42)
    one_good_row("a-text-json-looking", "audit/jsonish.jsonl", audit, user_agent='{"not": "an object"}')
    # A contract field given twice in one object: which value is evidence would be a guess (first-wins is
    # what a reader happens to do, not what the exporter meant). A key outside the contract is not read.
    for cid, dup, outcome in (
        ("a-dup-actor", '"actor_id": "emp-2"', rejected("field actor_id: given more than once")),
        ("a-dup-same-value", '"actor_id": "emp-1"', rejected("field actor_id: given more than once")),
        ("a-dup-event-id", '"event_id": "a-dup-event-id-x"', rejected("field event_id: given more than once")),
        ("a-dup-unknown-key", '"surprise": 1, "surprise": 2', loaded(2)),
    ):
        add(cid, f"audit/{cid}.jsonl", text(f"{_a(cid)[:-1]}, {dup}}}\n{json.dumps(audit(cid, 2))}\n"), outcome)
    add(
        "d-dup-level",
        "diagnostic/duplevel.jsonl",
        text(
            json.dumps(diag("d-dup-level"))[:-1] + ', "level": "ERROR"}\n' + json.dumps(diag("d-dup-level", 1)) + "\n"
        ),
        rejected("field level: given more than once"),
    )
    add(
        "d-message-object",
        "diagnostic/msgobj.jsonl",
        jsonl(diag("d-message-object"), {**diag("d-message-object", 1), "host": {"name": "h"}}),
        rejected("field host: an object or list"),
    )
    one_good_row("a-details-object", "audit/details.jsonl", audit, details={"k": [1, 2]})

    # -- diagnostic --
    add("d-good", "diagnostic/d.jsonl", jsonl(diag("d-good"), diag("d-good", 1)), loaded(2))
    for cid, value in (("d-bool-yes", "yes"), ("d-bool-one", 1), ("d-bool-t", "T")):
        one_bad_row(cid, f"diagnostic/{cid}.jsonl", diag, "not true/false", storage_encrypted=value)
    one_good_row("d-bool-true", "diagnostic/btrue.jsonl", diag, storage_encrypted=True)
    one_bad_row("d-latency-text", "diagnostic/lat.jsonl", diag, "not a number", latency_ms="fast")
    one_bad_row("d-latency-nan", "diagnostic/latnan.jsonl", diag, "not a number 'nan'", latency_ms="nan")
    one_bad_row("d-latency-negative", "diagnostic/latneg.jsonl", diag, "-3 is below 0", latency_ms=-3)
    one_bad_row("d-status-fraction", "diagnostic/st.jsonl", diag, "not an integer", status_code=200.5)
    one_bad_row("d-level-lower", "diagnostic/lvl.jsonl", diag, "unknown value 'info'", level="info")
    one_bad_row("d-ts-9999", "diagnostic/y9999.jsonl", diag, WINDOW, occurred_at="9999-01-01T00:00:00Z")

    # -- usage (CSV and Parquet): headers never reach SQL --
    u = "usage"
    add("u-good", "usage/u.csv", csv(u, csv_row(u, "u-good"), csv_row(u, "u-good", 1)), loaded(2))
    add("u-header-injection", "usage/inject.csv",
        csv(u, csv_row(u, "u-header-injection") + ",1",
            header=CSV_HEADERS[u] + ",\"x': 'VARCHAR'}); delete from audit_events; copy (select 1) to '/tmp/pwn.py'; --\""),
        loaded(1))  # fmt: skip
    add(
        "u-header-dquote",
        "usage/dq.csv",
        csv(u, csv_row(u, "u-header-dquote") + ",1", header=CSV_HEADERS[u] + ',"a"";drop table usage_events;--"'),
        loaded(1),
    )
    add(
        "u-header-upper",
        "usage/upper.csv",
        csv(u, csv_row(u, "u-header-upper"), header=CSV_HEADERS[u].upper()),
        loaded(1),
    )
    add(
        "u-header-spaces",
        "usage/spaces.csv",
        csv(u, csv_row(u, "u-header-spaces"), header=", ".join(CSV_HEADERS[u].split(","))),
        loaded(1),
    )
    add(
        "u-header-reordered",
        "usage/reorder.csv",
        csv(u, "u1,page_view,u-header-reordered-0," + TS, header="user_id,event_name,event_id,occurred_at"),
        loaded(1),
    )
    add(
        "u-semicolon",
        "usage/semi.csv",
        csv(u, csv_row(u, "u-semicolon").replace(",", ";"), header=CSV_HEADERS[u].replace(",", ";")),
        loaded(1),
    )
    add(
        "u-tab",
        "usage/tab.csv",
        csv(u, csv_row(u, "u-tab").replace(",", "\t"), header=CSV_HEADERS[u].replace(",", "\t")),
        loaded(1),
    )
    add(
        "u-bom",
        "usage/bom.csv",
        text(b"\xef\xbb\xbf" + f"{CSV_HEADERS[u]}\n{csv_row(u, 'u-bom')}\n".encode()),
        loaded(1),
    )
    add(
        "u-crlf",
        "usage/crlf.csv",
        text(f"{CSV_HEADERS[u]}\r\n{csv_row(u, 'u-crlf')}\r\n{csv_row(u, 'u-crlf', 1)}\r\n"),
        loaded(2),
    )
    add(
        "u-dup-header",
        "usage/dup.csv",
        csv(u, csv_row(u, "u-dup-header") + ",x", header=CSV_HEADERS[u] + ",user_id"),
        failed("user_id more than once"),
    )
    add(
        "u-no-contract-header",
        "usage/foreign.csv",
        csv(u, "1,2,3", header="a,b,c"),
        failed("names none of the contract"),
    )
    add("u-zero-bytes", "usage/zero.csv", text(b""), loaded(0))
    # A blank first line once made the whole file count as empty: its rows vanished, 0 loaded, 0 rejected.
    add("u-blank-first-line", "usage/blank-first.csv",
        csv(u, CSV_HEADERS[u], csv_row(u, "u-blank-first-line"), header=""), failed("line 1 is blank but text follows"))  # fmt: skip
    add("u-header-only", "usage/head.csv", csv(u), loaded(0))
    add("u-quoted-newline", "usage/qnl.csv",
        csv(u, f'u-quoted-newline-0,{TS},u1,"page\nview",true', csv_row(u, "u-quoted-newline", 1)), loaded(2))  # fmt: skip
    add("u-quoted-newline-then-bad", "usage/qnl-bad.csv",
        csv(u, f'u-quoted-newline-then-bad-0,{TS},u1,"page\nview",true', f"u-quoted-newline-then-bad-1,{TS},u1,x,yes"),
        rejected("not true/false"))  # fmt: skip
    add("u-blank-lines-then-bad", "usage/blank-bad.csv",
        csv(u, csv_row(u, "u-blank-lines-then-bad"), "", "", f"u-blank-lines-then-bad-1,{TS},u1,x,maybe", ""),
        rejected("not true/false", blank_lines=3))  # fmt: skip
    # True physical lines after empty and whitespace-only lines, quoted line breaks, CRLF, gzip, `;`, BOM.
    # A line of nothing but spaces and tabs is skipped and counted, never a reject ("missing columns").
    cid = "u-lines-blank"
    add(cid, "usage/lines-blank.csv",
        csv(u, csv_row(u, cid), "", "   ", "\t", csv_row(u, cid, 1).replace(",true", ",yes"), csv_row(u, cid, 2),
            "too,many,x,y,z,w,q"),
        rejected("", 2, 2, reject_lines=(6, 8), row_lines=(2, 7), blank_lines=3))  # fmt: skip
    # A line of just `""` is one empty quoted value, not a blank line: the reader's "missing columns" reject
    # is kept (it was once classed blank by its parsed value and lost).
    cid = "u-lines-empty-quotes"
    add(cid, "usage/lines-empty-quotes.csv", csv(u, csv_row(u, cid), '""', csv_row(u, cid, 1), "  "),
        rejected("missing columns", 1, 2, reject_lines=(3,), row_lines=(2, 4), blank_lines=1))  # fmt: skip
    cid = "u-lines-crlf"
    add(cid, "usage/lines-crlf.csv",
        text("\r\n".join([CSV_HEADERS[u], csv_row(u, cid), "", f'{cid}-1,{TS},u1,"page\r\nview",yes',
                           "too,many,x,y,z,w,q", "  ", csv_row(u, cid, 2)]) + "\r\n"),
        rejected("", 2, 2, reject_lines=(4, 6), row_lines=(2, 8), blank_lines=2))  # fmt: skip
    cid = "u-lines-gz-semicolon-bom"
    semi = [CSV_HEADERS[u].replace(",", ";"), f'{cid}-0;{TS};u1;"a\nb;\nc";true', "", "",
            f"{cid}-1;{TS};u1;x;yes", f"{cid}-2;{TS};u1;x;true", "x;y"]  # fmt: skip
    add(cid, "usage/lines-semi.csv.gz", gz(b"\xef\xbb\xbf" + ("\n".join(semi) + "\n").encode()),
        rejected("", 2, 2, reject_lines=(7, 9), row_lines=(2, 8), blank_lines=2))  # fmt: skip
    cid = "u-lines-unclosed-after-multiline"
    add(cid, "usage/lines-unclosed.csv",
        csv(u, f'{cid}-0,{TS},u1,"page\nview",true', f'{cid}-1,{TS},u1,"oops,true', csv_row(u, cid, 2),
            csv_row(u, cid, 3).replace(",true", ",maybe")),
        rejected("", 2, 2, reject_lines=(4, 6), row_lines=(2, 5)))  # fmt: skip
    add("u-quoted-comma", "usage/qc.csv", csv(u, f'u-quoted-comma-0,{TS},u1,"a, b",true'), loaded(1))
    add("u-unterminated-quote", "usage/unterm.csv",
        csv(u, csv_row(u, "u-unterminated-quote"), f'u-unterminated-quote-1,{TS},u1,"oops,true', csv_row(u, "u-unterminated-quote", 2)),
        rejected("never closed", 1, 2))  # fmt: skip
    add("u-two-unclosed-quotes", "usage/unterm2.csv",
        csv(u, f'u-two-unclosed-quotes-0,{TS},u1,"a,true', csv_row(u, "u-two-unclosed-quotes", 1),
            f'u-two-unclosed-quotes-2,{TS},u1,"b,true', csv_row(u, "u-two-unclosed-quotes", 3), "bad,row,x,y,z,w"),
        rejected("", 3, 2))  # fmt: skip
    add(
        "u-too-many-cols",
        "usage/many.csv",
        csv(u, csv_row(u, "u-too-many-cols"), csv_row(u, "u-too-many-cols", 1) + ",x,y,z"),
        rejected("too many columns: the line does not split"),
    )
    add(
        "u-too-few-cols",
        "usage/few.csv",
        csv(u, csv_row(u, "u-too-few-cols"), "u-too-few-cols-1,2025"),
        rejected("missing columns: the line does not split"),
    )
    add(
        "u-consent-yes",
        "usage/yes.csv",
        csv(u, csv_row(u, "u-consent-yes"), csv_row(u, "u-consent-yes", 1).replace(",true", ",yes")),
        rejected("not true/false"),
    )
    add("u-consent-upper", "usage/TRUE.csv", csv(u, csv_row(u, "u-consent-upper").replace(",true", ",TRUE")), loaded(1))
    add(
        "u-bad-utf8-row",
        "usage/badrow.csv",
        text(
            f"{CSV_HEADERS[u]}\n{csv_row(u, 'u-bad-utf8-row')}\n".encode()
            + b"u-bad-utf8-row-1,2025-06-01T10:00:00Z,\xff\xfe,page_view,true\n"
        ),
        rejected("not utf-8 encoded"),
    )
    add(
        "u-latin1-header",
        "usage/l1.csv",
        text(
            ("event_id,occurred_at,user_id,event_name,caf\xe9\n" + csv_row(u, "u-latin1-header") + "\n").encode(
                "latin-1"
            )
        ),
        failed("not UTF-8"),
    )
    add("u-gzip", "usage/u.csv.gz", gz(f"{CSV_HEADERS[u]}\n{csv_row(u, 'u-gzip')}\n"), loaded(1))
    add("u-gzip-misnamed", "usage/gzin.csv", gz(f"{CSV_HEADERS[u]}\n{csv_row(u, 'u-gzip-misnamed')}\n"), failed("gzip"))
    add("u-sql-values", "usage/vals.csv", csv(u, f'u-sql-values-0,{TS},"{INJECT}",page_view,true'), loaded(1))
    add(
        "u-ts-9999",
        "usage/u9999.csv",
        csv(u, csv_row(u, "u-ts-9999"), csv_row(u, "u-ts-9999", 1).replace(TS, "9999-12-31T23:59:59Z")),
        rejected(WINDOW),
    )
    add("u-parquet", "usage/p.parquet",
        parquet({"event_id": ["u-parquet-0"], "occurred_at": [TS], "user_id": ["u1"], "event_name": ["x"], "extra'; drop": [1]}),
        loaded(1))  # fmt: skip
    add("u-parquet-corrupt", "usage/corrupt.parquet", text(b"PAR1" + b"\x00" * 64 + b"PAR1"), failed("corrupt.parquet"))
    add("u-parquet-is-csv", "usage/fake.parquet", csv(u, csv_row(u, "u-parquet-is-csv")), failed("not a Parquet file"))

    # -- the other CSV sources --
    add("r-good", "dsr/r.csv", csv("dsr", csv_row("dsr", "r-good")), loaded(1))
    add(
        "r-received-9999",
        "dsr/r9999.csv",
        csv(
            "dsr",
            csv_row("dsr", "r-received-9999"),
            csv_row("dsr", "r-received-9999", 1).replace(TS, "9999-12-31T00:00:00Z"),
        ),
        rejected(WINDOW),
    )
    add(
        "r-reason-quoted-newline",
        "dsr/rq.csv",
        csv("dsr", csv_row("dsr", "r-reason-quoted-newline") + '"asked twice,\nby email"'),
        loaded(1),
    )
    add("i-good", "inventory/i.csv", csv("inventory", csv_row("inventory", "i-good")), loaded(1))
    add(
        "i-hold-one",
        "inventory/h1.csv",
        csv(
            "inventory",
            csv_row("inventory", "i-hold-one"),
            csv_row("inventory", "i-hold-one", 1).replace(",false,", ",1,"),
        ),
        rejected("not true/false"),
    )
    add(
        "i-contract-ends-later",
        "inventory/later.csv",
        csv("inventory", csv_row("inventory", "i-contract-ends-later") + "2030-01-01T00:00:00Z"),
        loaded(1),
    )
    add(
        "i-snapshot-future",
        "inventory/fut.csv",
        csv(
            "inventory",
            csv_row("inventory", "i-snapshot-future"),
            csv_row("inventory", "i-snapshot-future", 1).replace(TS, FUTURE),
        ),
        rejected(WINDOW),
    )
    add("i-parquet", "inventory/i.parquet",
        parquet({"snapshot_at": [TS], "system": ["crm"], "store": ["db"], "record_id": ["i-parquet-0"], "data_category": ["user.name"], "created_at": ["2025-01-01T00:00:00Z"]}),
        loaded(1))  # fmt: skip
    add("dir-good", "directory/d.csv", csv("directory", csv_row("directory", "dir-good")), loaded(1))
    add(
        "dir-mfa-t",
        "directory/mfa.csv",
        csv(
            "directory",
            csv_row("directory", "dir-mfa-t"),
            csv_row("directory", "dir-mfa-t", 1).replace(",true,", ",T,"),
        ),
        rejected("not true/false"),
    )
    add(
        "dir-bad-zone",
        "directory/tz.csv",
        csv(
            "directory",
            csv_row("directory", "dir-bad-zone"),
            csv_row("directory", "dir-bad-zone", 1).replace("Europe/Berlin", "Mars/Olympus"),
        ),
        rejected("unknown IANA time zone"),
    )
    add("t-good", "tenants/t.csv", csv("tenants", csv_row("tenants", "t-good")), loaded(1))
    add(
        "t-ends-2030",
        "tenants/t2030.csv",
        csv("tenants", csv_row("tenants", "t-ends-2030") + "2030-01-01T00:00:00Z"),
        loaded(1),
    )
    add(
        "t-started-1900",
        "tenants/t1900.csv",
        csv(
            "tenants",
            csv_row("tenants", "t-started-1900"),
            csv_row("tenants", "t-started-1900", 1).replace("2024-01-01", "1900-01-01"),
        ),
        rejected(WINDOW),
    )
    add("s-good", "subjects/s.csv", csv("subjects", csv_row("subjects", "s-good")), loaded(1))
    add("s-parquet", "subjects/s.parquet", parquet({"subject_id": ["s-parquet-0"], "country": ["DE"]}), loaded(1))
    add("inc-good", "incidents/x.csv", csv("incidents", csv_row("incidents", "inc-good")), loaded(1))
    add(
        "inc-bool-yes",
        "incidents/y.csv",
        csv(
            "incidents",
            csv_row("incidents", "inc-bool-yes"),
            csv_row("incidents", "inc-bool-yes", 1).replace(",true,", ",yes,"),
        ),
        rejected("not true/false"),
    )

    # -- the export folder itself --
    add(
        "top-unknown-folder",
        "audits",
        folder_with("x.jsonl", _a("top-unknown-folder")),
        unread("outside the contract's source folders"),
    )
    add("top-stray-file", "README.txt", text("hello"), unread("outside the contract's source folders"))
    add("top-hidden-file", ".DS_Store", text(b"\x00\x00\x00\x01Bud1"), unread("hidden"))
    return c


CASES = _cases()

GOOD = {  # a good file of every source, next to the cases: (path, table, key column, rows)
    "audit/0-good.jsonl": ("audit_events", "event_id", 3),
    "diagnostic/0-good.jsonl": ("diagnostic_logs", "message", 2),
    "usage/0-good.csv": ("usage_events", "event_id", 2),
    "dsr/0-good.csv": ("dsr_requests", "request_id", 1),
    "inventory/0-good.csv": ("inventory_records", "record_id", 1),
    "directory/0-good.csv": ("directory_accounts", "actor_id", 1),
    "tenants/0-good.csv": ("tenants", "tenant_id", 1),
    "subjects/0-good.csv": ("subjects", "subject_id", 1),
    "incidents/0-good.csv": ("incidents", "incident_id", 1),
}


def _good_file(source: str, n: int) -> Callable[[Path, Path], None]:
    """The writer of a good file of `source` with n rows, ids good-0, good-1, ..."""
    if source == "audit":
        return jsonl(*(audit("good", i) for i in range(n)))
    if source == "diagnostic":
        return jsonl(*(diag("good", i) for i in range(n)))
    return csv(source, *(csv_row(source, "good", i) for i in range(n)))


def write_bundle(export: Path) -> Path:
    """The one shared export bundle at `export`: the good file of every source (GOOD) and every case of CASES."""
    for rel, (_table, _key, n) in GOOD.items():
        _good_file(rel.split("/")[0], n)(export / rel, export)
    for case in CASES:
        case.write(export / case.path, export)
    return export
