"""dsr.due_soon on a hand-made register, as of Mon 2025-03-10 with the 7-day window of settings.yaml
(answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from tests.findings_support import assert_findings, finding, ok

AS_OF = dt.date(2025, 3, 10)


def test_dsr_due_soon(control_findings) -> None:
    tables = {
        "dsr_requests": [
            # GDPR: received 14 Feb, one month -> due Fri 14 Mar, 4 days away (<= 7) -> info, medium.
            dsr_request("r-soon", "EU", "delete", "2025-02-14 09:00:00"),
            # AU: received 8 Feb (Sydney) + 30 calendar days = 10 Mar, due today -> info, medium.
            dsr_request("r-today", "AU", "access", "2025-02-08 00:00:00"),
            # GDPR: received Fri 28 Feb -> due Fri 28 Mar, 18 days away -> ok.
            dsr_request("r-later", "EU", "access", "2025-02-28 09:00:00"),
            # GDPR: received 31 Jan -> due 28 Feb, already overdue: dsr.overdue's alarm, ok here.
            dsr_request("r-overdue", "EU", "access", "2025-01-31 10:00:00"),
            # AU portability: no rule, no deadline -> ok.
            dsr_request("r-norule", "AU", "portability", "2025-03-01 09:00:00"),
            # Not examined: completed, and received after as_of.
            dsr_request("r-done", "EU", "access", "2025-02-20 09:00:00", status="completed"),
            dsr_request("r-future", "EU", "access", "2025-03-12 09:00:00"),
        ]
    }  # fmt: skip
    rows = control_findings("dsr_due_soon", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:r-soon": finding(
                "info",
                "medium",
                reason="Open delete request r-soon (EU, received 2025-02-14) is due 2025-03-14, in 4 days as of "
                "2025-03-10, within the 7-day warning window.",
                evidence=["r-soon"],
            ),
            "dsr:r-today": finding("info", "medium"),
            "dsr:r-later": ok(),
            "dsr:r-overdue": ok(),
            "dsr:r-norule": ok(),
        },
    )
    assert "due 2025-03-10, today" in rows["dsr:r-today"]["reason"]
    assert "10 days overdue" in rows["dsr:r-overdue"]["reason"]
    assert "no rule covers portability requests in AU" in rows["dsr:r-norule"]["reason"]
    # A shorter window turns the 4-day request into an ok one.
    narrow = control_findings("dsr_due_soon", tables, as_of=AS_OF, dsr_due_soon_days=3)
    assert narrow["dsr:r-soon"]["status"] == "ok"
