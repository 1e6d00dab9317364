"""Triage store: each state transition from the CLI, the append-only log, and findings beside their state."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from cli_support import run_cli
from policy_support import policy_copy
from rows import finding_row

from compliance.controls import FINDINGS_SCHEMA
from compliance.history import record_run
from compliance.triage import (
    STATES,
    TriageError,
    current_states,
    findings_with_state,
    set_state,
    triage_evidence,
    triage_history,
    triage_records,
)
from compliance.triage_store import cli_actor, connect, store_path

CONTROL, RESOURCE = "access.bulk_export", "actor:emp_0071@2025-11-06"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "audit.duckdb"
    path.write_bytes(b"")  # the CLI only needs the audit database to exist; triage never opens it
    return path


# Every transition a finding goes through in practice, in one life: each is run through the CLI.
LIFE = [
    ("open", "acknowledged", "Looking into it", "alice"),
    ("acknowledged", "resolved", "Access revoked, ticket SEC-12", None),
    ("resolved", "open", "Came back on the next export", None),
    ("open", "false_positive", "Scheduled payroll export", "bob"),
    ("false_positive", "risk_accepted", "DPO accepts until Q2", None),
    ("risk_accepted", "acknowledged", "Risk review reopened it", ""),
    ("acknowledged", "open", "Back to the queue", None),
]


def test_each_transition_from_the_cli_is_appended_with_who_and_when(db: Path) -> None:
    assignee_now = None
    for previous, state, note, assignee in LIFE:
        args = ["triage", "set", CONTROL, RESOURCE, "--state", state, "--note", note, "--db", str(db)]
        args += ["--by", "lead@capantra.com"]
        if assignee is not None:
            args += ["--assignee", assignee]
            assignee_now = assignee or None
        run = run_cli(*args)
        assert run.returncode == 0, run.stderr
        assert f"{CONTROL} {RESOURCE}: {previous} -> {state}" in run.stdout
        assert "by lead@capantra.com at " in run.stdout
        latest = current_states(db).row(0, named=True)
        assert (latest["state"], latest["assignee"], latest["note"]) == (state, assignee_now, note)
    history = triage_history(db, CONTROL, RESOURCE)
    assert history["state"].to_list() == [s for _, s, _, _ in LIFE]
    assert set(history["changed_by"]) == {"lead@capantra.com"}
    assert all(datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ") for t in history["changed_at"])
    # The assignee carries over until changed, and an empty --assignee clears it.
    assert history["assignee"].to_list() == ["alice", "alice", "alice", "bob", "bob", None, None]
    assert {t[1] for t in LIFE} | {"open"} == set(STATES)

    listed = run_cli("triage", "list", "--db", str(db))
    assert listed.returncode == 0 and "Triaged findings (1)" in listed.stdout and RESOURCE in listed.stdout
    every = run_cli("triage", "list", "--db", str(db), "--history")
    assert "Triage changes (7)" in every.stdout and "Scheduled payroll export" in every.stdout
    only = run_cli("triage", "list", "--db", str(db), "--state", "resolved")
    assert "no triaged findings in state resolved" in only.stdout


def test_cli_refuses_bad_changes_without_a_traceback(db: Path, tmp_path: Path) -> None:
    cases = [
        (["nosuch.control", RESOURCE, "--state", "resolved", "--note", "x"], "unknown control id"),
        ([CONTROL, RESOURCE, "--state", "resolved", "--note", "  "], "a note saying why is required"),
        ([CONTROL, " ", "--state", "resolved", "--note", "x"], "the resource is empty"),
        ([CONTROL, RESOURCE, "--state", "closed", "--note", "x"], "closed"),
    ]
    for args, message in cases:
        run = run_cli("triage", "set", *args, "--db", str(db))
        assert run.returncode == 2, (args, run.stdout)
        assert message in run.stderr and "Traceback" not in run.stderr
    missing = run_cli("triage", "list", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 2 and "no such database" in missing.stderr
    assert triage_records(db).is_empty()


def test_the_log_is_append_only(db: Path) -> None:
    set_state(db, CONTROL, RESOURCE, "resolved", "fixed", "alice")
    with connect(db) as con:
        for statement in ("update triage_events set state = 'open'", "delete from triage_events"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(statement)
    assert triage_records(db)["state"].to_list() == ["resolved"]


def test_store_sits_beside_the_database_and_is_not_created_by_readers(db: Path) -> None:
    assert store_path(db) == db.with_name("audit.duckdb.triage.sqlite")
    assert current_states(db).is_empty() and triage_records(db).is_empty()
    assert not store_path(db).exists()
    with pytest.raises(TriageError, match="unknown state"):
        set_state(db, CONTROL, RESOURCE, "done", "x", "alice")
    assert cli_actor(" carol ") == "carol" and cli_actor(None)


def _finding(control: str, resource: str, status: str) -> dict:
    return finding_row(control, resource, status, observed_at=datetime(2025, 6, 1), evidence=["e1"])


def test_findings_with_state_joins_waiver_triage_and_first_last_seen(db: Path) -> None:
    findings = pl.DataFrame(
        [
            _finding(CONTROL, RESOURCE, "alarm"),
            _finding(CONTROL, "actor:emp_0001@2025-11-06", "alarm"),
            _finding("access.off_hours", "actor:emp_0002@2025-11-01", "suppressed"),
            _finding("dsr.overdue", "dsr:R-1", "ok"),
        ],
        schema=FINDINGS_SCHEMA,
    )
    record_run(db, findings.head(1), date(2025, 10, 1), "check", "p")
    record_run(db, findings, date(2025, 11, 1), "ingest", "p")
    set_state(
        db, CONTROL, RESOURCE, "acknowledged", "on it", "alice", assignee="bob", changed_at="2025-11-02T09:00:00Z"
    )
    out = findings_with_state(db, findings)
    cols = ["resource", "status", "waived", "triage_state", "assignee", "triaged_by", "first_seen", "last_seen"]
    assert out.select(cols).rows() == [
        (RESOURCE, "alarm", False, "acknowledged", "bob", "alice", date(2025, 10, 1), date(2025, 11, 1)),
        ("actor:emp_0001@2025-11-06", "alarm", False, "open", None, None, date(2025, 11, 1), date(2025, 11, 1)),
        ("actor:emp_0002@2025-11-01", "suppressed", True, "open", None, None, date(2025, 11, 1), date(2025, 11, 1)),
        ("dsr:R-1", "ok", False, None, None, None, None, None),
    ]
    assert out.columns[: len(FINDINGS_SCHEMA)] == list(FINDINGS_SCHEMA)


def test_findings_with_state_reads_the_database_itself(demo_build) -> None:
    out = findings_with_state(demo_build.db)
    alarms = out.filter(pl.col("status") == "alarm")
    assert alarms.height > 0 and set(alarms["triage_state"]) == {"open"}
    assert (
        out.filter(pl.col("status") == "ok")["triage_state"].null_count() == out.filter(pl.col("status") == "ok").height
    )


def test_triage_evidence_gathers_waivers_states_changes_and_runs(db: Path, tmp_path: Path) -> None:
    from compliance.config.bundle import load_policy

    folder = policy_copy(tmp_path / "policy")
    (folder / "exceptions.yaml").write_text(
        "waivers:\n  - {id: W-1, control: dsr.overdue, resource: 'dsr:R-*', reason: r, approved_by: dpo,"
        " approved_at: 2025-01-01, expires: 2025-07-01}\n",
        encoding="utf-8",
    )
    set_state(db, CONTROL, RESOURCE, "acknowledged", "a", "alice")
    set_state(db, CONTROL, RESOURCE, "resolved", "b", "alice")
    record_run(db, pl.DataFrame(schema=FINDINGS_SCHEMA), date(2025, 6, 30), "check", "p")
    out = triage_evidence(db, load_policy(folder), date(2025, 6, 30))
    assert out["waivers"].select("waiver", "in_force").rows() == [("W-1", True)]
    assert out["triage_states"]["state"].to_list() == ["resolved"]
    assert out["triage_changes"]["note"].to_list() == ["a", "b"]
    assert out["runs"]["as_of"].to_list() == [date(2025, 6, 30)]


HOSTILE = [
    ("actor:x@2025-01-01", "[bold red]not markup[/]"),
    ("dsr:R-1'; drop table triage_events; --", "quote ' and \" and ;"),
    ("record:a/[b]/*", "<script>alert(1)</script> **not bold**"),
    ("subject:Zoë-日本", "line one\nline two"),
]


def test_hostile_text_is_stored_and_listed_verbatim(db: Path) -> None:
    for resource, note in HOSTILE:
        set_state(db, "dsr.overdue", resource, "acknowledged", note, "analyst")
    states = current_states(db)
    assert sorted(states.select("resource", "note").rows()) == sorted(HOSTILE)
    listed = run_cli("triage", "list", "--db", str(db))
    assert listed.returncode == 0, listed.stderr
    for resource, note in HOSTILE:
        assert resource in listed.stdout
        assert note.splitlines()[0] in listed.stdout


def test_a_resolved_alarm_seen_again_in_a_later_run_is_reopened(db: Path) -> None:
    alarm = pl.DataFrame([_finding(CONTROL, RESOURCE, "alarm")], schema=FINDINGS_SCHEMA)
    record_run(db, alarm, date(2025, 10, 1), "check", "p", recorded_at="2025-10-01T06:00:00Z")
    set_state(db, CONTROL, RESOURCE, "resolved", "access revoked", "alice", changed_at="2025-10-02T09:00:00Z")
    before = findings_with_state(db, alarm).row(0, named=True)
    assert (before["triage_state"], before["reopened"]) == ("resolved", False)
    record_run(db, alarm, date(2025, 10, 8), "check", "p", recorded_at="2025-10-08T06:00:00Z")
    after = findings_with_state(db, alarm).row(0, named=True)
    assert (after["triage_state"], after["reopened"], after["triaged_by"]) == ("open", True, "alice")
    # A false positive stays closed whatever later runs find.
    set_state(db, CONTROL, RESOURCE, "false_positive", "scheduled job", "bob", changed_at="2025-10-09T09:00:00Z")
    record_run(db, alarm, date(2025, 10, 15), "check", "p", recorded_at="2025-10-15T06:00:00Z")
    assert findings_with_state(db, alarm).row(0, named=True)["triage_state"] == "false_positive"
