"""The controls engine and the headless check: skips, error isolation, as-of default, determinism,
writers and fail-on exit codes."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from rows import dsr_request

from compliance.check import render_findings, run_check, summarize
from compliance.controls import (
    FINDINGS_SCHEMA,
    default_as_of,
    evaluate_controls,
    run_controls,
    select_controls,
    sort_findings,
)
from compliance.queries import QUERY_DIR

AS_OF = dt.date(2025, 3, 10)
ROWS = {
    "dsr_requests": [
        # GDPR, received 31 Jan -> due 28 Feb: 10 days overdue on 10 Mar (dsr.overdue alarm, high).
        dsr_request("r-late", "EU", "access", "2025-01-31 10:00:00", subject_id="s1"),
        # Due 14 Mar: 4 days away (dsr.due_soon info).
        dsr_request("r-soon", "EU", "delete", "2025-02-14 09:00:00", subject_id="s2"),
    ],
    "audit_events": [
        {"event_id": "a1", "occurred_at": "2025-03-01 08:00:00", "actor_id": "emp-1", "actor_type": "employee",
         "action": "login", "outcome": "success", "categories": []},
    ],
}  # fmt: skip
MINE = ["dsr.overdue", "dsr.due_soon", "retention.record_past_retention", "retention.erasure_incomplete"]


def _db_file(make_db, tmp_path: Path, rows=ROWS) -> Path:
    """The hand-made database copied to a file, so the check can open it read-only."""
    con = make_db(rows)
    path = tmp_path / "audit.duckdb"
    con.execute(f"ATTACH '{path}' AS f").fetchall()
    con.execute("COPY FROM DATABASE memory TO f").fetchall()
    con.execute("DETACH f").fetchall()
    return path


def test_output_schema_and_order(make_db, policy) -> None:
    out = run_controls(make_db(ROWS), policy, AS_OF, control_ids=MINE)
    assert dict(out.schema) == FINDINGS_SCHEMA
    assert out.columns == list(FINDINGS_SCHEMA)
    keys = out.select("control_id", "resource").rows()
    assert keys == sorted(keys)


def test_skip_when_a_source_was_not_loaded(make_db, policy) -> None:
    out = run_controls(make_db(ROWS), policy, AS_OF, control_ids=MINE)
    by_control = {c: g for (c,), g in out.group_by("control_id")}
    # dsr was loaded: real rows.
    assert by_control["dsr.overdue"].select("resource", "status").rows() == [
        ("dsr:r-late", "alarm"),
        ("dsr:r-soon", "ok"),
    ]
    # inventory was not: one skip row naming the folder.
    skip = by_control["retention.record_past_retention"].row(0, named=True)
    assert by_control["retention.record_past_retention"].height == 1
    assert (skip["resource"], skip["status"], skip["severity"]) == ("source:inventory", "skip", "info")
    assert skip["reason"] == (
        "No inventory export was loaded, so retention.record_past_retention had nothing to examine."
    )
    assert skip["evidence"] == [] and skip["observed_at"] is None
    # Two sources required, one missing: the missing one is named.
    assert by_control["retention.erasure_incomplete"].select("resource", "status").rows() == [
        ("source:inventory", "skip")
    ]


def test_manifest_entry_with_an_empty_table_is_not_loaded(make_db, policy) -> None:
    con = make_db(ROWS)
    con.execute(
        "insert into load_manifest (file_id, source, path, rows_read, rows_loaded, rows_rejected)"
        " values ('f1', 'inventory', 'inventory/a.csv', 3, 0, 3)"
    ).fetchall()
    out = run_controls(con, policy, AS_OF, control_ids=["retention.record_past_retention"])
    assert out.select("status", "reason").rows() == [
        (
            "skip",
            "The inventory export held no loadable rows (1 file(s) loaded, 3 row(s) rejected), so"
            " retention.record_past_retention had nothing to examine.",
        )
    ]


def test_error_in_one_control_does_not_stop_the_others(make_db, policy, tmp_path: Path) -> None:
    root = tmp_path / "queries"
    (root / "controls").mkdir(parents=True)
    shutil.copy(QUERY_DIR / "controls" / "dsr_overdue.sql", root / "controls")
    shutil.copytree(QUERY_DIR / "models", root / "models")  # dsr_overdue reads the dsr_requests_as_of model
    header = (
        "-- name: {name}\n-- control: {control}\n-- section: 8\n-- severity: high\n-- requires: dsr\n"
        "-- description: deliberately broken.\n-- params: as_of DATE\n"
        "-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,\n"
        "--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]\n"
    )
    (root / "controls" / "broken_table.sql").write_text(
        header.format(name="broken_table", control="dsr.completed_late")
        + "select * from no_such_table where $as_of is not null\n"
    )
    # Runs, but breaks the output contract (missing columns).
    (root / "controls" / "broken_columns.sql").write_text(
        header.format(name="broken_columns", control="dsr.ack_late")
        + "select 'dsr.ack_late' as control_id, cast($as_of as varchar) as resource\n"
    )
    out = run_controls(make_db(ROWS), policy, AS_OF, root=root)
    assert out.select("control_id", "resource", "status").rows() == [
        ("dsr.ack_late", "control:dsr.ack_late", "error"),
        ("dsr.completed_late", "control:dsr.completed_late", "error"),
        ("dsr.overdue", "dsr:r-late", "alarm"),
        ("dsr.overdue", "dsr:r-soon", "ok"),
    ]
    errors = out.filter(pl.col("status") == "error")
    assert "no_such_table" in errors.filter(pl.col("control_id") == "dsr.completed_late")["reason"][0]
    assert "returned columns" in errors.filter(pl.col("control_id") == "dsr.ack_late")["reason"][0]
    assert errors["reason"].str.starts_with("Control ").all()


def test_filters_by_id_and_section(make_db, policy) -> None:
    con = make_db(ROWS)
    only = run_controls(con, policy, AS_OF, control_ids=["dsr.due_soon"])
    assert only["control_id"].unique().to_list() == ["dsr.due_soon"]
    section6 = run_controls(con, policy, AS_OF, sections=["6"])
    assert set(section6["policy_section"]) == {"6"}
    assert {"retention.record_past_retention", "retention.log_past_retention"} <= set(section6["control_id"])
    with pytest.raises(ValueError, match=r"unknown control id\(s\): dsr\.nope"):
        run_controls(con, policy, AS_OF, control_ids=["dsr.nope"])


def test_default_as_of_is_the_newest_timestamp_in_the_data(make_db, policy) -> None:
    con = make_db(ROWS)
    # Newest: the audit event of 1 Mar (DSR receipts are older).
    assert default_as_of(con) == dt.date(2025, 3, 1)
    implicit = run_controls(con, policy, None, control_ids=["dsr.overdue"])
    explicit = run_controls(con, policy, dt.date(2025, 3, 1), control_ids=["dsr.overdue"])
    assert implicit.equals(explicit)
    con.execute(
        "insert into incidents (incident_id, detected_at, regulator_notified_at) values ('i1', '2025-02-01', '2025-03-05 23:00')"
    ).fetchall()
    assert default_as_of(con) == dt.date(2025, 3, 5)


def test_empty_database_has_no_default_as_of_but_still_reports_skips(make_db, policy) -> None:
    con = make_db({})
    with pytest.raises(ValueError, match="no timestamped data"):
        default_as_of(con)
    out = run_controls(con, policy, None, control_ids=MINE)
    assert set(out["status"]) == {"skip"}


def test_runs_are_deterministic(make_db, policy, tmp_path: Path) -> None:
    con = make_db(ROWS)
    first = run_controls(con, policy, AS_OF)
    assert first.equals(run_controls(con, policy, AS_OF))
    db = _db_file(make_db, tmp_path)
    for fmt in ("jsonl", "csv", "parquet"):
        a, b = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
        run_check(db, AS_OF, fmt=fmt, output=a, policy=policy)
        run_check(db, AS_OF, fmt=fmt, output=b, policy=policy)
        assert a.read_bytes() == b.read_bytes(), fmt


def test_controls_run_two_at_a_time_yet_come_in_order_and_stop_with_the_caller(make_db, policy) -> None:
    con = make_db(ROWS)
    queries = select_controls()
    ran = evaluate_controls(con, policy, AS_OF, queries)
    # In catalog order, whichever of the two in flight finished first; each frame is that control's own.
    first = [next(ran) for _ in range(3)]
    assert [q.control_id for q, _ in first] == [q.control_id for q in queries[:3]]
    assert all(set(f["control_id"]) <= {q.control_id} for q, f in first)
    ran.close()  # a caller that stops early: the controls not started are dropped, the connection is free
    again = [(q.control_id, f) for q, f in evaluate_controls(con, policy, AS_OF, queries)]
    assert [c for c, _ in again] == [q.control_id for q in queries]
    assert all(sort_findings(f).equals(run_controls(con, policy, AS_OF, control_ids=[c])) for c, f in again)
    assert sum(f.height > 0 for _, f in again) > 5  # not all empty


def test_fail_on_exit_codes(make_db, policy, tmp_path: Path) -> None:
    db = _db_file(make_db, tmp_path)
    # The only alarm among these is dsr.overdue's r-late, severity high.
    ids = ["dsr.overdue", "dsr.due_soon"]
    codes = {
        fail_on: run_check(db, AS_OF, ids, fail_on=fail_on, policy=policy).exit_code
        for fail_on in (None, "info", "low", "medium", "high", "critical")
    }
    assert codes == {None: 0, "info": 1, "low": 1, "medium": 1, "high": 1, "critical": 0}
    # Before r-late was due there is no alarm at all.
    assert run_check(db, dt.date(2025, 2, 20), ids, fail_on="info", policy=policy).exit_code == 0
    with pytest.raises(ValueError, match="unknown severity"):
        run_check(db, AS_OF, ids, fail_on="urgent", policy=policy)


def test_summary_by_section(make_db, policy, tmp_path: Path) -> None:
    db = _db_file(make_db, tmp_path)
    result = run_check(db, AS_OF, ["dsr.overdue", "dsr.due_soon", "retention.record_past_retention"], policy=policy)
    assert result.as_of == AS_OF
    rows = {r["policy_section"]: r for r in result.summary.to_dicts()}
    assert list(rows) == ["6", "8"]  # policy order
    # Section 8: dsr.overdue alarm + ok, dsr.due_soon info (r-soon) + ok (r-late is overdue, not due soon).
    assert {k: rows["8"][k] for k in ("controls", "alarm", "ok", "info", "skip", "error", "highest_severity")} == {
        "controls": 2, "alarm": 1, "ok": 2, "info": 1, "skip": 0, "error": 0, "highest_severity": "high",
    }  # fmt: skip
    assert rows["6"]["skip"] == 1 and rows["6"]["highest_severity"] is None
    assert rows["8"]["title"]  # from ref_policy_sections
    # A section whose controls returned nothing still shows, with zero counts.
    empty = summarize(result.findings.clear(), {"5": 2})
    assert empty.row(0, named=True)["controls"] == 2 and empty.row(0, named=True)["alarm"] == 0


def test_summary_table_renders(make_db, policy, tmp_path: Path) -> None:
    from rich.console import Console

    from compliance.check import summary_table

    result = run_check(_db_file(make_db, tmp_path), AS_OF, sections=["8"], fail_on="high", policy=policy)
    console = Console(width=160, file=io.StringIO())
    console.print(summary_table(result))
    text = console.file.getvalue()
    assert "as of 2025-03-10, fail on high+" in text
    assert "exit code 1" in text


def test_writers(make_db, policy, tmp_path: Path) -> None:
    db = _db_file(make_db, tmp_path)
    result = run_check(db, AS_OF, ["dsr.overdue"], fmt="jsonl", policy=policy)
    # Without an output file the text is handed back for the CLI to print.
    lines = [json.loads(line) for line in (result.rendered or "").splitlines()]
    assert lines[0] == {
        "control_id": "dsr.overdue",
        "policy_section": "8",
        "resource": "dsr:r-late",
        "status": "alarm",
        "severity": "high",
        "reason": "Open access request r-late (EU, received 2025-01-31) was due 2025-02-28 and is 10 days overdue"
        " as of 2025-03-10.",
        # End of the Dublin day 28 Feb (UTC+0 in winter).
        "observed_at": "2025-02-28T23:59:59.999999Z",
        "evidence": ["r-late"],
    }
    findings = result.findings
    csv = render_findings(findings, "csv").decode()
    assert csv.splitlines()[0] == "control_id,policy_section,resource,status,severity,reason,observed_at,evidence"
    back = pl.read_csv(csv.encode())
    assert back["evidence"].to_list() == ['["r-late"]', '["r-soon"]']
    assert back["observed_at"][0] == "2025-02-28T23:59:59.999999Z"
    parquet = tmp_path / "f.parquet"
    run_check(db, AS_OF, ["dsr.overdue"], fmt="parquet", output=parquet, policy=policy)
    read = pl.read_parquet(parquet)
    assert read.schema["observed_at"] == pl.Datetime("us", "UTC")
    assert read["evidence"].to_list() == [["r-late"], ["r-soon"]]
    assert read.drop("observed_at").equals(findings.drop("observed_at"))
    # Whole seconds carry no fraction.
    whole = findings.with_columns(pl.lit(dt.datetime(2025, 1, 2, 3, 4, 5)).alias("observed_at"))
    assert json.loads(render_findings(whole, "jsonl").decode().splitlines()[0])["observed_at"] == "2025-01-02T03:04:05Z"


def test_jsonl_bytes_are_one_json_dumps_line_per_finding() -> None:
    # The history's findings digest is the SHA-256 of these bytes, so their exact form is kept: `json.dumps` with
    # ensure_ascii=False (UTF-8 kept, control characters escaped), default separators, one line per finding.
    findings = pl.DataFrame(
        {
            "control_id": ["access.off_hours", "dsr.overdue"],
            "policy_section": ["5", "8"],
            "resource": ['actor:Zoë "Z" O\'Brien', "dsr:r\u0001\n2"],
            "status": ["alarm", "ok"],
            "severity": ["medium", "info"],
            "reason": ["Zoë read 5 records at 02:00 — unusual, in Köln\t(€).", None],
            "observed_at": [dt.datetime(2025, 3, 1, 2, 0, 0, 123000), dt.datetime(2025, 3, 2)],
            "evidence": [["e-1", "é\\2"], []],
        }
    )
    expected = [
        {**row, "observed_at": at}
        for row, at in zip(
            findings.iter_rows(named=True), ["2025-03-01T02:00:00.123Z", "2025-03-02T00:00:00Z"], strict=True
        )
    ]
    rendered = render_findings(findings, "jsonl")
    assert rendered == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in expected).encode("utf-8")
    assert "Zoë".encode() in rendered and b"\\u0001" in rendered
    csv = pl.read_csv(render_findings(findings, "csv"))
    assert csv["evidence"].to_list() == ['["e-1", "é\\\\2"]', "[]"]


# Texts whose JSON differs most between encoders: every control character, quotes and backslashes, separators
# inside values, characters JavaScript treats as line ends, astral-plane emoji, DEL, empty and missing values.
_HOSTILE_TEXTS = [
    "".join(chr(c) for c in range(32)),
    'say "hi"', "C:\\temp\\", '", "', '": "', "\\u0041", "null", "", "\u2028\u2029", "\x7f", "🙂 Zoë 漢字",
    "</script><b>x</b>", "=cmd|' /C calc'!A0", None,
]  # fmt: skip


@pytest.mark.parametrize("text", _HOSTILE_TEXTS)
def test_jsonl_and_csv_encode_any_text_as_json_dumps_does(text: str | None) -> None:
    findings = pl.DataFrame(
        {
            "control_id": ["access.off_hours"] * 4,
            "policy_section": ["5"] * 4,
            "resource": [text, "r", None, "s"],
            "status": ["alarm"] * 4,
            "severity": ["high"] * 4,
            "reason": ["why " + (text or ""), text, "", None],
            "observed_at": [
                dt.datetime(2025, 3, 1),
                None,
                dt.datetime(2025, 3, 1, 0, 0, 0, 5),
                dt.datetime(2025, 3, 2),
            ],
            "evidence": [[text, "e-2"], [], None, [text]],
        },
        schema=FINDINGS_SCHEMA,
    )
    rows = findings.with_columns(pl.col("observed_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ")).iter_rows(named=True)
    expected = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    assert render_findings(findings, "jsonl") == expected
    evidence = pl.read_csv(render_findings(findings, "csv"), infer_schema=False)["evidence"].to_list()
    assert evidence == [json.dumps(e or [], ensure_ascii=False) for e in findings["evidence"].to_list()]
