"""The register as of a date (model dsr_requests_as_of) carries what the deadline engine reads, as the DSR audit
notebook uses it: a hand-made register, as of 2025-03-10 (answers worked out by hand from dsr_rules.yaml)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.deadlines import DsrRequest, compute_deadline
from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)

REGISTER = [
    # EU access, received Mon 6 Jan (Dublin = UTC in winter): one month -> Thu 6 Feb; completed 16 Jan, 10 days.
    dsr_request("r1", "EU", "access", "2025-01-06 10:00:00", "completed", "2025-01-16 10:00:00", subject_id="s1",
                channel="email", acknowledged_at="2025-01-06 12:00:00", status_reason="fulfilled"),
    # AU portability: no rule covers it -> no deadline; Sydney dates 20 Jan -> 1 Feb = 12 days.
    dsr_request("r3", "AU", "portability", "2025-01-20 10:00:00", "completed", "2025-02-01 10:00:00", subject_id="s3",
                channel="webform"),
    # US-CA delete received 20 March: after as_of, left out.
    dsr_request("r2", "US-CA", "delete", "2025-03-20 18:00:00", subject_id="s2", channel="email"),
]  # fmt: skip


def test_register_holds_the_engine_fields(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "dsr_requests_as_of", {"as_of": AS_OF}, policy).sort("received_at", "request_id")
    columns = ["request_id", "jurisdiction", "request_type", "channel", "status", "acknowledged_at", "rule_id",
               "effective_due_date", "extension_status", "closed_late", "turnaround_days"]  # fmt: skip
    expected = [
        ("r1", "EU", "access", "email", "completed", dt.datetime(2025, 1, 6, 12), "gdpr_art12", dt.date(2025, 2, 6),
         "none", False, 10),
        ("r3", "AU", "portability", "webform", "completed", None, None, None, "none", None, 12),
    ]  # fmt: skip
    assert out.select(columns).rows() == expected
    # The row is what the deadline engine reads (DsrRequest.from_row) and the explanation is the one it stored.
    for row in out.iter_rows(named=True):
        assert compute_deadline(DsrRequest.from_row(row), policy.dsr_rules).explanation == row["explanation"]
    assert out["explanation"][0].startswith("GDPR Art. 12(3): received Mon 2025-01-06 (Europe/Dublin)")
