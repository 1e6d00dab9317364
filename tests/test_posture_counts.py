"""compliance.posture_counts: the one definition of open alarms, problem rows, flagged actors and the
per-section / per-control counts, on hand-made findings whose counts are worked out by hand."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest
from rows import finding_row

from compliance.posture_counts import (
    actor_in_resource,
    alarms_by_control,
    alarms_by_section,
    flagged_actor_count,
    flagged_actors,
    open_alarm_count,
    problem_row_count,
    section_sort_key,
)

T = datetime(2025, 5, 1, 12)


def _row(control: str, section: str, status: str, severity: str = "high", resource: str = "x") -> dict:
    return finding_row(control, resource, status, severity, policy_section=section, observed_at=T,
                       reason=f"{control} {status}")  # fmt: skip


@pytest.fixture
def findings() -> pl.DataFrame:
    rows = [
        # section 5: a noisy detector (4 alarms) and a quiet one (1 alarm, critical); one MFA alarm on an actor
        *[_row("access.off_hours", "5", "alarm", "medium", f"actor:emp_{i}@2025-05-0{i}") for i in range(1, 4)],
        _row("access.off_hours", "5", "alarm", "medium", "actor:emp_1@2025-05-09"),
        _row("access.bulk_export", "5", "alarm", "critical", "actor:emp_9"),
        _row("access.failed_login_burst", "5", "alarm", "high", "ip:10.0.0.1@2025-05-01"),
        _row("security.mfa_missing", "5", "alarm", "high", "actor:emp_7"),
        # section 8: one alarm, one info (due soon), one waived alarm, one skip, one ok
        _row("dsr.overdue", "8", "alarm", "high", "dsr:R1"),
        _row("dsr.due_soon", "8", "info", "info", "dsr:R2"),
        _row("dsr.completed_late", "8", "suppressed", "medium", "dsr:R3"),
        _row("dsr.ack_late", "8", "skip", "info", "source:dsr"),
        _row("dsr.overdue", "8", "ok", "info", "dsr:R4"),
        # PS: an error row only
        _row("disclosure.unapproved_recipient", "PS", "error", "info"),
    ]
    return pl.DataFrame(rows)


def test_open_alarms_and_problem_rows(findings: pl.DataFrame) -> None:
    assert open_alarm_count(findings) == 8  # 4 + 1 + 1 + 1 in section 5, 1 in section 8
    assert problem_row_count(findings) == 12  # every row but the one ok row
    assert open_alarm_count(findings.head(0)) == 0


def test_per_control_counts_show_the_noisy_control(findings: pl.DataFrame) -> None:
    per_control = alarms_by_control(findings)
    assert per_control.select("policy_section", "control_id", "open_alarms").rows() == [
        ("5", "access.off_hours", 4),
        ("5", "access.bulk_export", 1),
        ("5", "access.failed_login_burst", 1),
        ("5", "security.mfa_missing", 1),
        ("8", "dsr.overdue", 1),
    ]
    noisy = per_control.row(0, named=True)
    assert noisy["share_of_section"] == pytest.approx(4 / 7)
    assert noisy["highest_severity"] == "medium"


def test_per_section_counts_list_every_section_in_document_order(findings: pl.DataFrame) -> None:
    sections = alarms_by_section(findings, ["PS", "1", "5", "8", "10", "2"])
    assert sections["policy_section"].to_list() == ["PS", "1", "2", "5", "8", "10"]
    by = {r["policy_section"]: r for r in sections.iter_rows(named=True)}
    assert (by["5"]["open_alarms"], by["5"]["controls_in_alarm"], by["5"]["highest_severity"]) == (7, 4, "critical")
    assert (by["5"]["top_control"], by["5"]["top_control_alarms"]) == ("access.off_hours", 4)
    assert (by["8"]["open_alarms"], by["8"]["controls_in_alarm"]) == (1, 1)
    assert (by["PS"]["open_alarms"], by["PS"]["controls_in_alarm"], by["PS"]["highest_severity"]) == (0, 0, None)
    # The per-section, per-control and total counts are one number seen three ways.
    assert sections["open_alarms"].sum() == alarms_by_control(findings)["open_alarms"].sum() == 8


def test_a_section_with_alarms_but_not_listed_is_still_counted(findings: pl.DataFrame) -> None:
    assert alarms_by_section(findings)["policy_section"].to_list() == ["5", "8"]


def test_flagged_actors_are_named_by_open_access_alarms(findings: pl.DataFrame) -> None:
    flagged = flagged_actors(findings)
    # emp_9 (critical) first, then emp_1 (two alarms), then emp_2, emp_3; emp_7 is an MFA finding, the IP no one.
    assert flagged["actor_id"].to_list() == ["emp_9", "emp_1", "emp_2", "emp_3"]
    assert flagged.filter(pl.col("actor_id") == "emp_1")["alarms"].item() == 2
    assert flagged_actor_count(findings) == 4
    waived = findings.with_columns(pl.lit("suppressed").alias("status"))
    assert flagged_actor_count(waived) == 0


@pytest.mark.parametrize(
    ("resource", "actor"),
    [
        ("actor:emp_1", "emp_1"),
        ("actor:emp_1@2025-05-01", "emp_1"),
        ("actor:a:b", "a:b"),
        ("subject:s1", None),
        ("ip:10.0.0.1@2025-05-01", None),
        ("actor:", None),
        ("actor:x@notadate", None),
        (None, None),
    ],
)
def test_actor_in_resource(resource: str | None, actor: str | None) -> None:
    assert actor_in_resource(resource) == actor


def test_section_order() -> None:
    assert sorted(["8", "10", "PS", "x", "1"], key=section_sort_key) == ["PS", "1", "8", "10", "x"]


def _alarm(control: str, resource: str, severity: str, day: int) -> dict:
    return {**_row(control, "5", "alarm", severity, resource), "observed_at": datetime(2025, 3, day, 3)}


def test_flagged_actors_rank_by_severity_then_alarms_of_it_then_alarms_then_detectors_then_id() -> None:
    """One critical export outranks four low-severity off-hours days; at equal highest severity, more alarms of
    that severity lead even with fewer alarms in all; then alarms, detectors and id. An MFA alarm on an account
    flags no one (not an access detector)."""
    rows = [_alarm("access.off_hours", f"actor:emp-noisy@2025-03-0{d}", "low", d) for d in (1, 2, 3, 4)]
    rows += [_alarm("access.bulk_export", "actor:emp-x@2025-03-05", "critical", 5)]
    rows += [_alarm("access.bulk_export", "actor:emp-y@2025-03-06", "critical", 6)]
    rows += [_alarm("access.off_hours", f"actor:emp-y@2025-03-0{d}", "low", d) for d in (7, 8)]
    rows += [_alarm("access.bulk_export", f"actor:emp-z@2025-03-0{d}", "critical", d) for d in (7, 8)]
    rows += [_alarm("access.off_hours", f"actor:emp-a@2025-03-0{d}", "high", d) for d in (1, 5)]
    rows += [_alarm("access.bulk_export", "actor:emp-b@2025-03-02", "high", 2)]
    rows += [_alarm("access.volume_spike", "actor:emp-b@2025-03-02", "high", 2)]
    rows += [_alarm("security.mfa_missing", "actor:emp-c", "critical", 9)]
    out = flagged_actors(pl.DataFrame(rows))
    assert out.select("actor_id", "highest_severity", "severe_alarms", "alarms", "detectors").rows() == [
        ("emp-z", "critical", 2, 2, 1),  # two critical alarms
        ("emp-y", "critical", 1, 3, 2),  # one critical, three in all
        ("emp-x", "critical", 1, 1, 1),
        ("emp-b", "high", 2, 2, 2),  # two high alarms from two detectors ...
        ("emp-a", "high", 2, 2, 1),  # ... before two from one
        ("emp-noisy", "low", 4, 4, 1),  # the most alarms, the least severe
    ]
    emp_a = out.filter(pl.col("actor_id") == "emp-a").row(0, named=True)
    assert (emp_a["first_observed_at"], emp_a["last_observed_at"]) == (datetime(2025, 3, 1, 3), datetime(2025, 3, 5, 3))
