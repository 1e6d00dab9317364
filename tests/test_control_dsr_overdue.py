"""dsr.overdue on a hand-made register, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def test_dsr_overdue(control_findings) -> None:
    tables = {
        "dsr_requests": [
            # GDPR, received Fri 31 Jan 2025 (Dublin): one month ends Fri 28 Feb -> 10 days overdue on 10 Mar.
            dsr_request("r-late", "EU", "access", "2025-01-31 10:00:00", subject_id="s1"),
            # GDPR, received 14 Feb: due Fri 14 Mar -> open and 4 days to go: ok.
            dsr_request("r-ok", "EU", "delete", "2025-02-14 09:00:00", subject_id="s2"),
            # Completed requests are not examined by this control.
            dsr_request("r-done", "EU", "access", "2025-01-02 09:00:00", "completed", "2025-01-20 09:00:00",
                        subject_id="s3"),
            # GDPR received 31 Jan, extension notified 3 Mar (after the 28 Feb deadline): it does not count,
            # so still due 28 Feb -> 10 days overdue.
            dsr_request("r-ext-late", "EU", "access", "2025-01-31 10:00:00", subject_id="s4",
                        extension_notified_at="2025-03-03 10:00:00", extension_reason="volume"),
            # Same but notified 20 Feb (in time): extended to 30 Apr -> ok.
            dsr_request("r-ext-ok", "EU", "access", "2025-01-31 10:00:00", subject_id="s5",
                        extension_notified_at="2025-02-20 10:00:00", extension_reason="volume"),
        ]
    }  # fmt: skip
    rows = control_findings("dsr_overdue", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:r-late": alarm(
                "high",
                reason="Open access request r-late (EU, received 2025-01-31) was due 2025-02-28 and is 10 days overdue as "
                "of 2025-03-10.",
                evidence=["r-late"],
                observed_at=dt.datetime(2025, 2, 28, 23, 59, 59, 999999),
            ),
            "dsr:r-ok": ok(),
            "dsr:r-ext-late": alarm("high"),
            "dsr:r-ext-ok": ok(),
        },
    )
    assert "notified too late" in rows["dsr:r-ext-late"]["reason"]
