"""dsr.ack_late on a hand-made US-CA register, as of Mon 2025-03-10 (answers worked out by hand).

CCPA regs §7021(a): acknowledge within 10 business days of receipt (weekends and California holidays
skipped). Receipt times are 18:00 UTC = 10:00 in Los Angeles, so the local date is the UTC date.
"""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, received: str, request_type: str = "access", **kw: object) -> dict[str, object]:
    return dsr_request(request_id, "US-CA", request_type, f"{received} 18:00:00", **kw)


def test_dsr_ack_late(control_findings) -> None:
    tables = {
        "dsr_requests": [
            # Received Mon 6 Jan: business days 7-10, 13-17 Jan, then Mon 20 Jan is Martin Luther King Jr.
            # Day, so the 10th is Tue 21 Jan. Acknowledged 24 Jan: 3 days late -> alarm.
            _req("r-late", "2025-01-06", acknowledged_at="2025-01-24 18:00:00"),
            # Same receipt, acknowledged 10 Jan -> ok.
            _req("r-ok", "2025-01-06", acknowledged_at="2025-01-10 18:00:00"),
            # Received Mon 3 Feb: 4-7, 10, 11 Feb, Wed 12 Feb is Lincoln Day (Gov. Code 6700), 13, 14 Feb, Mon
            # 17 Feb is Presidents' Day, so due Wed 19 Feb. Never acknowledged: 19 days past it on 10 Mar -> alarm.
            _req("r-none", "2025-02-03"),
            # Received Mon 24 Feb: 25-28 Feb, 3-7 Mar, 10 Mar -> due today, not late yet -> ok.
            _req("r-pending", "2025-02-24"),
            # Closed 9 Jan, before its 21 Jan acknowledgement date: none needed -> ok.
            _req("r-closed", "2025-01-06", status="completed", completed_at="2025-01-09 18:00:00"),
            # Not examined: no acknowledgement rule for opt-outs, and other jurisdictions.
            _req("r-optout", "2025-01-06", request_type="opt_out_sale_share"),
            dsr_request("r-eu", "EU", "access", "2025-01-06 18:00:00", subject_id="s-eu"),
        ]
    }  # fmt: skip
    rows = control_findings("dsr_ack_late", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:r-late": alarm(
                "medium",
                reason="The access request r-late (US-CA, received 2025-01-06) was acknowledged 2025-01-24, 3 days after "
                "the acknowledgement due date 2025-01-21 (medium: receipt confirmed late).",
                observed_at=dt.datetime(2025, 1, 21),
                evidence=["r-late"],
            ),
            "dsr:r-ok": ok(),
            "dsr:r-none": alarm(
                "medium",
                reason="The access request r-none (US-CA, received 2025-02-03) was not acknowledged by its "
                "acknowledgement due date 2025-02-19 and is 19 days past it as of 2025-03-10 (medium: receipt "
                "never confirmed).",
            ),
            "dsr:r-pending": ok(),
            "dsr:r-closed": ok(),
        },
    )
    assert "not yet past" in rows["dsr:r-pending"]["reason"]
    assert "so it needed none" in rows["dsr:r-closed"]["reason"]
    # Before the due date a late acknowledgement cannot show yet: as of 20 Jan r-late is ok.
    early = control_findings("dsr_ack_late", tables, as_of=dt.date(2025, 1, 20))
    assert early["dsr:r-late"]["status"] == "ok"
