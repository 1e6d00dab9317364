"""findings_stored_runs, findings_stored_summary and findings_stored_rows over hand-made stored findings.

Fixture (as of 2025-03-10 unless noted):
- c.one: 2 alarms (medium, high), 3 ok, 1 info -> highest severity high; more than small_ok=2 ok rows, so
  none of them is kept; with max_rows=2 only the two alarms survive (alarms rank before info).
- c.two: 1 skip row -> note is its reason; 1 ok row, kept (1 <= small_ok).
- c.one as of 2025-03-09: a stale snapshot that no query as of 2025-03-10 may read.
Runs: c.one stored under policy P1 as of 03-10, c.two under P2 (another policy), c.one under P1 as of 03-09.
"""

from __future__ import annotations

import datetime as dt

from rows import finding_row

from compliance.queries import run_query

D, OLD = dt.date(2025, 3, 10), dt.date(2025, 3, 9)


def _f(control: str, resource: str, status: str, severity: str, as_of: dt.date = D, reason: str = "r") -> dict:
    return finding_row(control, resource, status, severity, reason=reason, evidence=[resource], as_of=as_of)


ROWS = {
    "findings": [
        _f("c.one", "actor:b", "alarm", "medium"),
        _f("c.one", "actor:a", "alarm", "high"),
        _f("c.one", "actor:c", "ok", "info"),
        _f("c.one", "actor:d", "ok", "info"),
        _f("c.one", "actor:e", "ok", "info"),
        _f("c.one", "actor:0", "info", "info"),
        _f("c.two", "source:dsr", "skip", "info", reason="No dsr export was loaded."),
        _f("c.two", "dsr:1", "ok", "info"),
        _f("c.one", "actor:z", "alarm", "critical", as_of=OLD),
    ],
    "findings_runs": [
        {"control_id": "c.one", "as_of": D, "sql_digest": "s1", "policy_digest": "P1", "rows": 6, "seconds": 0.5},
        {"control_id": "c.two", "as_of": D, "sql_digest": "s2", "policy_digest": "P2", "rows": 2, "seconds": 0.1},
        {"control_id": "c.one", "as_of": OLD, "sql_digest": "s0", "policy_digest": "P1", "rows": 1, "seconds": 0.2},
    ],
}


def test_runs_match_as_of_and_policy(make_db, policy) -> None:
    con = make_db(ROWS)
    assert run_query(con, "findings_stored_runs", {"as_of": D, "policy_digest": "P1"}).rows() == [
        ("c.one", "s1", 6, 0.5)
    ]
    assert run_query(con, "findings_stored_runs", {"as_of": OLD, "policy_digest": "P2"}).rows() == []


def test_summary_counts_statuses_severity_and_note(make_db, policy) -> None:
    con = make_db(ROWS)
    out = run_query(con, "findings_stored_summary", {"as_of": D, "control_ids": ["c.one", "c.two"]})
    assert out.rows() == [
        # control, section, rows, alarm, ok, info, skip, error, suppressed, highest severity, note
        ("c.one", "5", 6, 2, 3, 1, 0, 0, 0, "high", None),
        ("c.two", "5", 2, 0, 1, 0, 1, 0, 0, None, "No dsr export was loaded."),
    ]
    old = run_query(con, "findings_stored_summary", {"as_of": OLD, "control_ids": ["c.one"]})
    assert old.rows() == [("c.one", "5", 1, 1, 0, 0, 0, 0, 0, "critical", None)]


def test_rows_keep_alarms_first_and_few_ok_rows(make_db, policy) -> None:
    con = make_db(ROWS)
    params = {"as_of": D, "control_ids": ["c.one", "c.two"], "small_ok": 2, "max_rows": 10}
    kept = run_query(con, "findings_stored_rows", params)
    assert kept.select("control_id", "resource", "status").rows() == [
        ("c.one", "actor:0", "info"),
        ("c.one", "actor:a", "alarm"),
        ("c.one", "actor:b", "alarm"),
        ("c.two", "dsr:1", "ok"),
        ("c.two", "source:dsr", "skip"),
    ]
    capped = run_query(con, "findings_stored_rows", params | {"max_rows": 2, "control_ids": ["c.one"]})
    assert capped["resource"].to_list() == ["actor:a", "actor:b"]
    everything = run_query(con, "findings_stored_rows", params | {"small_ok": 3, "control_ids": ["c.one"]})
    assert everything.height == 6 and everything["evidence"].to_list()[0] == ["actor:0"]


def test_ties_follow_the_live_order(make_db, policy) -> None:
    # One resource with an ok, a skip and an error row: the note is the error's reason (run_controls sorts
    # by resource, then status: 'error' < 'skip'), and the kept rows put the non-ok rows before the ok one.
    rows = {
        "findings": [
            _f("c.three", "source:x", "skip", "info", reason="skipped"),
            _f("c.three", "source:x", "ok", "info", reason="fine"),
            _f("c.three", "source:x", "error", "high", reason="failed"),
        ]
    }
    con = make_db(rows)
    summary = run_query(con, "findings_stored_summary", {"as_of": D, "control_ids": ["c.three"]})
    assert summary.select("skip", "error", "note").rows() == [(1, 1, "failed")]
    kept = run_query(
        con, "findings_stored_rows", {"as_of": D, "control_ids": ["c.three"], "small_ok": 5, "max_rows": 5}
    )
    assert kept["status"].to_list() == ["error", "skip", "ok"]
