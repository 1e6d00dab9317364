"""retention.log_past_retention on hand-made log lines, as of 2025-03-10 (answers worked out by hand).

Limits (data/policy/retention.yaml): audit 400 days + 7 grace = 407; usage 395 + 7 = 402; diagnostic
30 + 7 = 37 days.
"""

from __future__ import annotations

import datetime as dt

from rows import log_line

from compliance.queries import run_query
from tests.findings_support import alarm, assert_findings, finding

AS_OF = dt.date(2025, 3, 10)


def test_log_past_retention(control_findings) -> None:
    bulk = [log_line("api", f"d-bulk-{i:02d}", "2025-01-20 12:00:00") for i in range(22)]
    tables = {
        "audit_events": [
            # 2024-01-01 -> 2025-03-10 is 366 + 31 + 28 + 9 = 434 days > 407: expired, 27 days beyond -> medium.
            {"event_id": "a-old1", "occurred_at": "2024-01-01 10:00:00", "event_date": "2024-01-01"},
            # 403 days old: within 407.
            {"event_id": "a-old2", "occurred_at": "2024-02-01 10:00:00", "event_date": "2024-02-01"},
            {"event_id": "a-new", "occurred_at": "2025-03-01 10:00:00", "event_date": "2025-03-01"},
            # After as_of: not there yet on 10 Mar.
            {"event_id": "a-future", "occurred_at": "2025-03-20 10:00:00", "event_date": "2025-03-20"},
        ],
        "diagnostic_logs": [
            # 68 days old > 37: expired, 31 days beyond the limit -> high.
            log_line("api", "d1", "2025-01-01 00:00:00"),
            # 54 days old: expired.
            log_line("api", "d2", "2025-01-15 00:00:00"),
            # 5 days old: fine.
            log_line("api", "d3", "2025-03-05 00:00:00"),
            # 22 more lines 49 days old: expired; only the 20 oldest ids are evidence.
            *bulk,
        ],
        # No usage lines at all: the usage source is skipped.
    }  # fmt: skip
    rows = control_findings("retention_log_past_retention", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "source:audit": alarm(
                "medium",
                reason="The audit export still holds 1 of 3 lines older than the 400-day retention plus 7 days grace as "
                "of 2025-03-10; the oldest, from 2024-01-01 10:00:00, is 434 days old (medium: within 30 days "
                "beyond the limit).",
                evidence=["a-old1"],
                # The oldest line was due for removal 400 days after 2024-01-01 (a leap year): 2025-02-04.
                observed_at=dt.datetime(2025, 2, 4),
            ),
            "source:diagnostic": alarm("high"),
            "source:usage": finding("skip", "info", evidence=[]),
        },
    )
    diag = rows["source:diagnostic"]
    assert "still holds 24 of 25 lines" in diag["reason"]
    assert diag["evidence"] == ["d1", "d2", *(f"d-bulk-{i:02d}" for i in range(18))]


def test_the_20_oldest_expired_audit_lines_span_days(make_db, policy) -> None:
    """Audit lines are counted from the ingest's hourly rollup and only the days that hold the 20 oldest expired
    lines are read: 12 expired lines on 2024-01-01 (two tied at 10:00:00, broken by id), 12 on 2024-01-02, 3 on
    2024-01-05, and 2 within retention. The 20 oldest: the 12 of the first day, then the 8 oldest of the second."""
    day1 = [(f"x1-{i:02d}", f"2024-01-01 {10 + i // 2:02d}:00:00") for i in range(12)]
    day2 = [(f"x2-{i:02d}", f"2024-01-02 {10 + i:02d}:30:00") for i in range(12)]
    day5 = [(f"x5-{i:02d}", f"2024-01-05 0{i}:00:00") for i in range(3)]
    recent = [("r-1", "2025-03-01 10:00:00"), ("r-2", "2025-03-02 10:00:00")]
    rows = [{"event_id": i, "occurred_at": at, "event_date": at[:10]} for i, at in day5 + recent + day2 + day1]
    out = run_query(make_db({"audit_events": rows}), "retention_log_past_retention", {"as_of": AS_OF}, policy)
    audit = out.filter(out["resource"] == "source:audit").row(0, named=True)
    assert audit["status"] == "alarm"
    assert "still holds 27 of 29 lines" in audit["reason"]
    assert audit["evidence"] == [i for i, _ in day1] + [i for i, _ in day2[:8]]


def test_log_within_retention_is_ok(make_db, policy) -> None:
    con = make_db(
        {"audit_events": [{"event_id": "a1", "occurred_at": "2024-02-01 10:00:00", "event_date": "2024-02-01"}]}
    )
    out = run_query(con, "retention_log_past_retention", {"as_of": AS_OF}, policy)
    audit = out.filter(out["resource"] == "source:audit").row(0, named=True)
    # 403 days old, within 400 + 7.
    assert (audit["status"], audit["severity"], audit["evidence"]) == ("ok", "info", [])
    assert audit["reason"] == (
        "The audit export holds 1 lines, the oldest from 2024-02-01 10:00:00 (403 days old), within the 400-day"
        " retention plus 7 days grace as of 2025-03-10."
    )
