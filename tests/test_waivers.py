"""Waivers (exceptions.yaml): exact and glob matches, expiry, unused waivers, and their effect on check."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import yaml
from policy_support import policy_copy
from rows import finding_row

from compliance.check import exit_code, run_check
from compliance.config.base import PolicyError
from compliance.config.bundle import load_policy
from compliance.config.exceptions import Exceptions, Waiver, load_exceptions
from compliance.controls import FINDINGS_SCHEMA
from compliance.waivers import apply_waivers, unused_waivers, waiver_table

AS_OF = date(2025, 6, 30)


def _finding(control: str, resource: str, status: str = "alarm", severity: str = "high") -> dict:
    return finding_row(control, resource, status, severity, reason=f"Problem with {resource}.",
                       observed_at=datetime(2025, 6, 1, 12), evidence=[f"ev-{resource}"])  # fmt: skip


FINDINGS = pl.DataFrame(
    [
        _finding("access.bulk_export", "actor:A1@2025-06-01"),
        _finding("access.bulk_export", "actor:A1@2025-06-02"),
        _finding("access.bulk_export", "actor:B2@2025-06-01"),
        _finding("access.off_hours", "actor:A1@2025-06-01"),
        _finding("dsr.overdue", "dsr:R-1", status="ok", severity="info"),
        _finding("security.audit_gap", "control:security.audit_gap", status="error"),
    ],
    schema=FINDINGS_SCHEMA,
)


def _waiver(resource: str, control: str = "access.bulk_export", **kw) -> Waiver:
    base = {
        "control": control,
        "resource": resource,
        "reason": "Nightly billing export agreed with the DPO",
        "approved_by": "dpo@capantra.com",
        "approved_at": date(2025, 1, 1),
        "expires": date(2026, 1, 1),
    }
    return Waiver.model_validate(base | kw)


def _statuses(frame: pl.DataFrame) -> list[tuple[str, str, str]]:
    return frame.select("control_id", "resource", "status").rows()


def test_exact_resource_suppresses_only_that_alarm_and_keeps_its_evidence() -> None:
    out = apply_waivers(FINDINGS, Exceptions(waivers=[_waiver("actor:A1@2025-06-01", id="W-1")]), AS_OF)
    assert _statuses(out)[:4] == [
        ("access.bulk_export", "actor:A1@2025-06-01", "suppressed"),
        ("access.bulk_export", "actor:A1@2025-06-02", "alarm"),
        ("access.bulk_export", "actor:B2@2025-06-01", "alarm"),
        ("access.off_hours", "actor:A1@2025-06-01", "alarm"),  # same resource, other control: not waived
    ]
    row = out.row(0, named=True)
    assert row["evidence"] == ["ev-actor:A1@2025-06-01"]
    assert row["severity"] == "high"
    assert row["reason"] == (
        "Waived by W-1 (approved by dpo@capantra.com on 2025-01-01, expires 2026-01-01: "
        "Nightly billing export agreed with the DPO). Problem with actor:A1@2025-06-01."
    )
    assert out.schema == FINDINGS.schema


def test_glob_resource_matches_every_day_of_one_actor_case_sensitively() -> None:
    out = apply_waivers(FINDINGS, Exceptions(waivers=[_waiver("actor:A1@*")]), AS_OF)
    assert [s for _, _, s in _statuses(out)] == ["suppressed", "suppressed", "alarm", "alarm", "ok", "error"]
    assert out["reason"][0].startswith("Waived by exceptions[0] ")
    lower = apply_waivers(FINDINGS, Exceptions(waivers=[_waiver("actor:a1@*")]), AS_OF)
    assert lower["status"].to_list() == FINDINGS["status"].to_list()


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        ("record:a/[b]/1", "record:a/[b]/1", True),  # glob characters in a real key: equal text matches
        ("record:a/[b]/1", "record:a/b/1", True),  # ... and as a glob, [b] is the letter b
        ("actor:A?@2025-06-01", "actor:A1@2025-06-01", True),
        ("actor:A?@2025-06-01", "actor:A12@2025-06-01", False),
        ("actor:*", "actor:A1@2025-06-01", True),
        ("actor:A1", "actor:A1@2025-06-01", False),  # exact means exact
        ("ACTOR:A1@*", "actor:A1@2025-06-01", False),
        ("actor:A1@2025-06-0[1-3]", "actor:A1@2025-06-02", True),
        ("actor:A1@2025-06-0[1-3]", "actor:A1@2025-06-04", False),
        ("dsr:R-1'; drop table findings; --", "dsr:R-1'; drop table findings; --", True),
    ],
)
def test_resource_patterns(pattern: str, resource: str, matches: bool) -> None:
    assert _waiver(pattern).matches("access.bulk_export", resource) is matches
    assert not _waiver(pattern).matches("access.off_hours", resource)


def test_waiver_never_hides_an_error_or_touches_an_ok_row() -> None:
    waivers = Exceptions(waivers=[_waiver("*", control="security.audit_gap"), _waiver("dsr:*", control="dsr.overdue")])
    out = apply_waivers(FINDINGS, waivers, AS_OF)
    assert out.equals(FINDINGS)
    unused = unused_waivers(out, waivers, AS_OF)
    assert [(u.name, u.why) for u in unused] == [
        ("exceptions[0]", "matched no alarm"),
        ("exceptions[1]", "matched no alarm"),
    ]


@pytest.mark.parametrize(
    ("as_of", "applies"),
    [
        (date(2024, 12, 31), False),  # before approval
        (date(2025, 1, 1), True),  # approval day
        (date(2025, 12, 31), True),  # last day in force
        (date(2026, 1, 1), False),  # expiry day: an alarm again
        (date(2027, 3, 1), False),
    ],
)
def test_waiver_is_in_force_from_approval_to_the_day_before_expiry(as_of: date, applies: bool) -> None:
    out = apply_waivers(FINDINGS, Exceptions(waivers=[_waiver("actor:B2@2025-06-01")]), as_of)
    assert (out["status"][2] == "suppressed") is applies


def test_expired_and_unused_waivers_are_reported_with_why() -> None:
    waivers = Exceptions(
        waivers=[
            _waiver("actor:A1@*", id="in-use"),
            _waiver("actor:Z9@*", id="nothing-matches"),
            _waiver("actor:B2@*", id="expired", expires=date(2025, 6, 1)),
            _waiver("actor:B2@*", id="future", approved_at=date(2025, 7, 1), expires=date(2025, 12, 1)),
            _waiver("actor:A1@*", id="shadowed"),  # the first matching waiver wins
            _waiver("*", control="dsr.ack_late", id="not-run"),  # its control did not run: not judged
        ]
    )
    out = apply_waivers(FINDINGS, waivers, AS_OF)
    assert out.filter(pl.col("status") == "suppressed").height == 2
    assert out.filter(pl.col("resource").str.starts_with("actor:B2")).row(0, named=True)["status"] == "alarm"
    unused = {u.name: u.why for u in unused_waivers(out, waivers, AS_OF)}
    assert unused == {
        "nothing-matches": "matched no alarm",
        "expired": "expired on 2025-06-01",
        "future": "is not in force on 2025-06-30",
        "shadowed": "matched no alarm",
    }
    sentence = next(u for u in unused_waivers(out, waivers, AS_OF) if u.name == "expired").sentence()
    assert (
        sentence
        == "Waiver expired (access.bulk_export actor:B2@*, approved by dpo@capantra.com) expired on 2025-06-01."
    )


def test_suppressed_alarms_never_fail_the_gate() -> None:
    waived = apply_waivers(
        FINDINGS, Exceptions(waivers=[_waiver("*"), _waiver("*", control="access.off_hours")]), AS_OF
    )
    assert exit_code(FINDINGS, "info") == 1
    assert exit_code(waived, "info") == 0


def test_waiver_table_lists_every_waiver_with_whether_it_is_in_force() -> None:
    table = waiver_table(Exceptions(waivers=[_waiver("x", id="a"), _waiver("y", expires=date(2025, 3, 1))]), AS_OF)
    assert table.select("waiver", "resource", "in_force").rows() == [("a", "x", True), ("exceptions[1]", "y", False)]


# --- exceptions.yaml loading ------------------------------------------------------------------


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "exceptions.yaml").write_text(text, encoding="utf-8")
    return tmp_path


GOOD = """
waivers:
  - id: W-1
    control: access.bulk_export
    resource: "actor:emp_0071@*"
    reason: Monthly payroll export, reviewed by the DPO
    approved_by: dpo@capantra.com
    approved_at: 2025-09-01
    expires: 2026-03-01
"""


def test_exceptions_file_loads_and_is_optional(tmp_path: Path) -> None:
    assert load_exceptions(tmp_path).waivers == []
    assert load_exceptions(_write(tmp_path, "")).waivers == []
    loaded = load_exceptions(_write(tmp_path, GOOD), {"access.bulk_export"})
    assert loaded.waivers[0].resource == "actor:emp_0071@*"
    assert loaded.waivers[0].is_glob


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        (
            GOOD.replace("access.bulk_export", "access.bulk_exprot"),
            "waivers[0].control",
            "not a control of the catalog",
        ),
        (GOOD.replace("expires: 2026-03-01", "expires: 2025-08-01"), "waivers[0]", "must be after approved_at"),
        (GOOD.replace("approved_by: dpo@capantra.com", "aproved_by: x"), "waivers[0].aproved_by", "not a known key"),
        (GOOD.replace("expires: 2026-03-01", "expires: soon"), "waivers[0].expires", "soon"),
        (GOOD + GOOD.replace("waivers:\n", ""), "waivers[1].id", "used twice"),
        (
            GOOD.replace("    reason: Monthly payroll export, reviewed by the DPO\n", ""),
            "waivers[0].reason",
            "Field required",
        ),
    ],
)
def test_bad_exceptions_file_names_the_entry_and_the_problem(tmp_path: Path, text: str, key: str, problem: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_exceptions(_write(tmp_path, text), {"access.bulk_export"})
    assert err.value.key == key
    assert problem in err.value.problem


# --- end to end on the demo database ----------------------------------------------------------


def _policy_with(tmp_path: Path, waivers: list[dict]) -> Path:
    folder = policy_copy(tmp_path / "policy")
    (folder / "exceptions.yaml").write_text(yaml.safe_dump({"waivers": waivers}, sort_keys=False), encoding="utf-8")
    return folder


def test_check_suppresses_waived_alarms_passes_the_gate_and_reports_unused(demo_build, tmp_path: Path) -> None:
    plain = run_check(demo_build.db, fail_on="critical")
    critical = plain.findings.filter((pl.col("status") == "alarm") & (pl.col("severity") == "critical"))
    assert plain.exit_code == 1 and critical.height > 0
    as_of = plain.as_of
    assert as_of is not None
    base = {
        "reason": "accepted for the test",
        "approved_by": "dpo",
        "approved_at": "2025-01-01",
        "expires": "2099-01-01",
    }
    waivers = [{"control": c, "resource": "*"} | base for c in sorted(set(critical["control_id"]))]
    waivers.append({"id": "stale", "control": "dsr.overdue", "resource": "dsr:NO-SUCH-REQUEST"} | base)
    policy = load_policy(_policy_with(tmp_path, waivers))
    assert policy.digest != load_policy().digest  # stored findings computed without it go stale

    waived = run_check(demo_build.db, fail_on="critical", policy=policy)
    assert waived.exit_code == 0
    suppressed = waived.findings.filter(pl.col("status") == "suppressed")
    # Every alarm of the waived controls is suppressed, with its evidence, and nothing else changed.
    waived_controls = set(critical["control_id"])
    expected = plain.findings.filter((pl.col("status") == "alarm") & pl.col("control_id").is_in(waived_controls))
    assert suppressed.select("control_id", "resource", "evidence").equals(
        expected.select("control_id", "resource", "evidence")
    )
    assert all(r.startswith("Waived by exceptions[") for r in suppressed["reason"])
    assert waived.summary["suppressed"].sum() == suppressed.height
    assert [u.name for u in waived.unused_waivers] == ["stale"]

    # An as-of date after expiry: the same waivers no longer apply.
    expired = [w | {"expires": str(as_of)} for w in waivers]
    again = run_check(demo_build.db, fail_on="critical", policy=load_policy(_policy_with(tmp_path / "x", expired)))
    assert again.exit_code == 1
    assert again.findings.filter(pl.col("status") == "suppressed").is_empty()
    assert {u.why for u in again.unused_waivers} == {f"expired on {as_of}"}


def test_cli_check_prints_unused_waivers_and_rejects_a_bad_file(demo_build, tmp_path: Path) -> None:
    waivers = [
        {"id": "typo", "control": "dsr.overdue", "resource": "dsr:DSR-0000", "reason": "r", "approved_by": "dpo",
         "approved_at": "2025-01-01", "expires": "2099-01-01"}
    ]  # fmt: skip
    folder = _policy_with(tmp_path, waivers)
    cmd = [sys.executable, "-m", "compliance", "check", "--db", str(demo_build.db), "--policy", str(folder)]
    cmd += ["--output", str(tmp_path / "f.jsonl")]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "unused waiver: Waiver typo (dsr.overdue dsr:DSR-0000, approved by dpo) matched no alarm." in run.stderr
    assert "Suppressed" in run.stderr  # the summary's new column

    (folder / "exceptions.yaml").write_text("waivers:\n  - control: nope\n", encoding="utf-8")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "exceptions.yaml" in bad.stderr and "Traceback" not in bad.stderr


def test_ingest_stores_suppressed_rows_that_readers_serve_as_computed(demo_build, tmp_path: Path) -> None:
    import duckdb

    from compliance.controls import run_controls
    from compliance.stored_findings import findings_as_of, fresh_controls, store_findings

    db = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, db)
    base = {"reason": "accepted", "approved_by": "dpo", "approved_at": "2025-01-01", "expires": "2099-01-01"}
    policy = load_policy(_policy_with(tmp_path, [{"control": "access.bulk_export", "resource": "actor:*"} | base]))
    con = duckdb.connect(str(db))
    try:
        con.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()
        as_of = store_findings(con, policy)
        assert as_of is not None
        assert "access.bulk_export" in fresh_controls(con, policy, as_of)
        assert "access.bulk_export" not in fresh_controls(con, load_policy(), as_of)  # the waiver changed it
        stored = findings_as_of(con, policy, as_of)
        live = run_controls(con, policy, as_of)
    finally:
        con.close()
    assert stored.equals(live)
    waived = stored.filter(pl.col("status") == "suppressed")
    assert waived.height > 0 and set(waived["control_id"]) == {"access.bulk_export"}
