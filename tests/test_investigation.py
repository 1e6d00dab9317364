"""compliance.investigation: the helpers the audit notebooks share (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import polars as pl
import pytest
from rows import finding_row

from compliance.controls import FINDINGS_SCHEMA
from compliance.investigation import (
    ACCESS_DETECTORS,
    Detector,
    actor_findings,
    actor_of,
    of_text,
    open_audit_database,
    resolve_as_of,
    threshold_sweep,
)
from compliance.queries import get_query

AS_OF = dt.date(2025, 3, 10)
T = dt.datetime


def _finding(control_id: str, resource: str, status: str, observed_at: dt.datetime) -> dict:
    return finding_row(control_id, resource, status, observed_at=observed_at)


FINDINGS = pl.DataFrame(
    [
        _finding("access.bulk_export", "actor:emp-b@2025-03-02", "alarm", T(2025, 3, 2, 10)),
        _finding("access.volume_spike", "actor:emp-b@2025-03-02", "alarm", T(2025, 3, 2, 23)),
        _finding("access.off_hours", "actor:emp-a@2025-03-01", "alarm", T(2025, 3, 1, 3)),
        _finding("access.off_hours", "actor:emp-a@2025-03-05", "alarm", T(2025, 3, 5, 3)),
        _finding("security.mfa_missing", "actor:emp-c", "alarm", T(2025, 3, 10)),
        _finding("access.off_hours", "actor:emp-d", "ok", T(2025, 3, 10)),  # ok: not flagged
        _finding("access.failed_login_burst", "ip:10.0.0.1@2025-03-01", "alarm", T(2025, 3, 1)),  # not an actor
    ],
    schema=FINDINGS_SCHEMA,
)


def test_of_text() -> None:
    assert of_text(12, 412) == "12 of 412 (2.9%)"
    assert of_text(1, 3, 2) == "1 of 3 (33.33%)"
    assert of_text(1500, 2000) == "1,500 of 2,000 (75.0%)"
    assert of_text(0, 0) == "0 of 0"


def test_actor_of() -> None:
    assert actor_of("actor:emp-1@2025-03-01") == "emp-1"
    assert actor_of("actor:emp-1") == "emp-1"
    assert actor_of("ip:10.0.0.1@2025-03-01") is None
    assert actor_of("dsr:r1") is None
    assert actor_of(None) is None


def test_actor_findings_in_time_order() -> None:
    out = actor_findings(FINDINGS, "emp-b")
    assert out["control_id"].to_list() == ["access.bulk_export", "access.volume_spike"]
    assert out.columns == list(FINDINGS_SCHEMA)
    assert actor_findings(FINDINGS, "emp-d").height == 0
    assert actor_findings(FINDINGS, "emp-d", statuses=("ok",)).height == 1


def test_detectors_name_control_queries_and_settings(policy) -> None:
    settings = policy.parameters()
    for detector in ACCESS_DETECTORS:
        query = get_query(detector.query)
        assert query.control_id is not None and query.control_id.startswith("access.")
        assert detector.parameter in query.params
        assert detector.parameter in settings
        assert list(detector.values) == sorted(detector.values)


def _export_event(event_id: str, actor: str, at: str, action: str, records: int) -> dict:
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": actor,
            "actor_type": "employee", "actor_role": "support_lead", "action": action, "outcome": "success",
            "resource_type": "contact", "categories": ["user.contact.email"], "record_count": records,
            "actor_timezone": "UTC", "recipient": "google.com" if action == "export" else None}  # fmt: skip


def test_threshold_sweep_passes_each_value_explicitly(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _export_event("x-1", "emp-x", "2025-03-04 09:50:00", "export", 6000),  # over 1000 and 5000
                _export_event("y-1", "emp-y", "2025-03-05 09:00:00", "read", 2000),  # over 1000 only
            ]
        }
    )
    detector = Detector("access_bulk_export", "bulk_export_max_records", (1000, 10000), "records per window above")
    out = threshold_sweep(con, policy, detector, AS_OF)
    # The current setting (5000) is added; one row (alarm or ok) per actor each time.
    assert out.rows() == [
        (1000.0, False, 2, 2, 2),
        (5000.0, True, 2, 1, 1),
        (10000.0, False, 2, 0, 0),
    ]
    assert out.columns == ["threshold", "is_current", "rows", "alarms", "actors_alarmed"]
    assert threshold_sweep(con, policy, detector, AS_OF, values=[7000])["threshold"].to_list() == [5000.0, 7000.0]


def test_resolve_as_of(make_db) -> None:
    con = make_db({"audit_events": [_export_event("x-1", "emp-x", "2025-03-04 09:50:00", "read", 1)]})
    assert resolve_as_of(con, "2025-12-31") == dt.date(2025, 12, 31)
    assert resolve_as_of(con, dt.date(2025, 1, 2)) == dt.date(2025, 1, 2)
    assert resolve_as_of(con, None) == dt.date(2025, 3, 4)  # the newest timestamp in the data


def test_open_audit_database_from_an_export_and_from_a_file(tmp_path, policy) -> None:
    export = tmp_path / "bundle"
    (export / "audit").mkdir(parents=True)
    events = [
        {"event_id": "e1", "occurred_at": "2025-03-01T10:00:00Z", "actor_id": "emp-1", "actor_type": "employee",
         "action": "login", "outcome": "success"},
        {"event_id": "e2", "occurred_at": "2025-03-02T10:00:00Z", "actor_id": "emp-1", "actor_type": "employee",
         "action": "logout", "outcome": "success"},
    ]  # fmt: skip
    (export / "audit" / "audit-1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    opened = open_audit_database(export_dir=export, policy=policy, log=lambda _: None)
    try:
        assert opened.label == "the export 'bundle', ingested into a temporary database"
        assert opened.con.sql("select count(*) from audit_events").fetchall() == [(2,)]
        assert opened.con.sql("select current_setting('TimeZone')").fetchall() == [("UTC",)]
        with pytest.raises(Exception, match="read-only"):
            opened.con.execute("delete from audit_events").fetchall()
        again = open_audit_database(db=opened.path)
        assert again.label == "the database 'audit.duckdb'"
        again.con.close()
    finally:
        opened.con.close()
        shutil.rmtree(opened.path.parent)


def test_open_audit_database_refuses_bad_arguments(tmp_path) -> None:
    with pytest.raises(ValueError, match="not both"):
        open_audit_database(db=tmp_path / "a.duckdb", export_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_audit_database(db=tmp_path / "missing.duckdb")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_audit_database(export_dir=tmp_path / "missing")
