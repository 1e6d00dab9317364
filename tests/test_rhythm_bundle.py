"""Every detector on the second bundle (tests/rhythm_bundle.py): other people, systems, rhythms and time zones,
missing optional sources and an empty DSR register. Each alarm is one the bundle planted, explained below; the
night-shift and weekend workers, the weekday-only and night-only systems raise none."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from compliance.controls import run_controls
from tests.rhythm_bundle import AS_OF

# The planted alarms, and why each is right.
EXPECTED_ALARMS = {
    # emp_day searched 200 tickets at 03:00 on a Sunday in Berlin, an hour in which she never works.
    ("access.off_hours", "actor:emp_day@2025-05-18"),
    # auth (24/7 heartbeat) was down 5 days: the last heartbeat 21 Apr 05:30, the next 26 Apr 06:30 UTC.
    ("security.audit_gap", "system:auth@2025-04-21"),
    # billing is used Mon-Fri 09:00-17:00 Singapore (01:00-09:00 UTC); its only user was on leave Tue 15 Apr.
    ("security.audit_gap", "system:billing@2025-04-14"),
}
MISSING_SOURCES = {  # controls whose required source is absent or empty: skipped, never alarmed
    "consent.analytics_without_consent", "datamap.personal_data_in_logs", "dsr.ack_late", "dsr.completed_late",
    "dsr.due_soon", "dsr.extension_late", "dsr.overdue", "dsr.processing_after_erasure",
    "incident.notification_late", "retention.erasure_incomplete", "retention.record_past_retention",
    "security.unencrypted_transport",
}  # fmt: skip


@pytest.fixture(scope="module")
def findings(rhythm_db, policy) -> pl.DataFrame:
    with duckdb.connect(str(rhythm_db), read_only=True) as con:
        return run_controls(con, policy, AS_OF)


def test_every_alarm_is_a_planted_one(findings: pl.DataFrame) -> None:
    alarms = findings.filter(pl.col("status") == "alarm").select("control_id", "resource").rows()
    assert set(alarms) == EXPECTED_ALARMS
    assert len(alarms) == len(EXPECTED_ALARMS)


def test_alarm_reasons_carry_the_planted_numbers(findings: pl.DataFrame) -> None:
    reason = dict(findings.filter(pl.col("status") == "alarm").select("resource", "reason").rows())
    assert "200 personal-data records in 1 event" in reason["actor:emp_day@2025-05-18"]
    assert "Sun 2025-05-18 03:00 local" in reason["actor:emp_day@2025-05-18"]
    assert "from 2025-04-21 05:30:00 to 2025-04-26 06:30:00 UTC" in reason["system:auth@2025-04-21"]
    # billing: last read Mon 14 Apr 16:17 SGT (08:17 UTC), next Wed 16 Apr 09:17 SGT (01:17 UTC): 41 h, covering
    # Tuesday's 8 working hours.
    assert reason["system:billing@2025-04-14"].startswith(
        "billing logged no audit events for 41.0 hours, from 2025-04-14 08:17:00 to 2025-04-16 01:17:00 UTC; over "
        "the 13.0 weeks observed it logs in 8 of the 40 silent hours"
    )


def test_other_rhythms_raise_nothing(findings: pl.DataFrame) -> None:
    ok = findings.filter(pl.col("status") == "ok")
    off_hours = set(ok.filter(pl.col("control_id") == "access.off_hours")["resource"].to_list())
    assert {"actor:emp_night", "actor:emp_weekend", "actor:emp_billing"} <= off_hours
    gaps = dict(ok.filter(pl.col("control_id") == "security.audit_gap").select("resource", "reason").rows())
    assert set(gaps) == {"system:support-desk", "system:call-service"}
    assert gaps["system:call-service"] == "call-service never fell silent for more than 24.0 hours over 13.0 weeks."


def test_missing_and_empty_sources_skip(findings: pl.DataFrame) -> None:
    skipped = set(findings.filter(pl.col("status") == "skip")["control_id"].to_list())
    assert skipped >= MISSING_SOURCES
    for control_id in MISSING_SOURCES:
        assert findings.filter(pl.col("control_id") == control_id)["status"].to_list() == ["skip"], control_id
