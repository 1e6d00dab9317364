"""access.dormant_account on a hand-made directory and audit log, as of 2025-03-10 (worked out by hand).

Setting: a gap of >= 90 days between the UTC dates of successive successful events, ending in new activity,
is an alarm on the day of the reactivation. Only directory accounts are examined.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event, directory_account

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def test_access_dormant_account(control_findings) -> None:
    tables = {
        "directory_accounts": [directory_account("emp-a"), directory_account("emp-b"), directory_account("emp-c"), directory_account("emp-idle")],
        "audit_events": [
            # emp-a: 1 Oct 2024, then 5 Jan 2025: 31 + 30 + 31 + 4 = 96 days >= 90 -> alarm on 5 Jan (2 events,
            # 1 personal). The failed login of 1 Dec does not end the dormancy; 6 Jan is a 1-day gap.
            audit_event("a-old", "emp-a", "2024-10-01 09:00:00"),
            audit_event("a-fail", "emp-a", "2024-12-01 09:00:00", "login_failed", outcome="failure"),
            audit_event("a-login", "emp-a", "2025-01-05 08:00:00"),
            audit_event("a-read", "emp-a", "2025-01-05 08:05:00", "read"),
            audit_event("a-next", "emp-a", "2025-01-06 08:00:00"),
            # emp-b: 1 Dec 2024 -> 28 Feb 2025 = 31 + 31 + 27 = 89 days < 90 -> ok.
            audit_event("b-1", "emp-b", "2024-12-01 09:00:00"),
            audit_event("b-2", "emp-b", "2025-02-28 09:00:00"),
            # emp-c: 1 Dec 2024 -> 1 Mar 2025 = 90 days, exactly the threshold -> alarm.
            audit_event("c-1", "emp-c", "2024-12-01 09:00:00"),
            audit_event("c-2", "emp-c", "2025-03-01 10:00:00"),
            # Not in the directory: not examined, however long its gap.
            audit_event("x-1", "outsider", "2024-01-01 09:00:00"),
            audit_event("x-2", "outsider", "2025-03-01 09:00:00"),
            # emp-idle returns only after as_of: no activity up to 10 Mar -> ok.
            audit_event("idle-future", "emp-idle", "2025-03-11 09:00:00"),
        ],
    }  # fmt: skip
    by = control_findings("access_dormant_account", tables, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-a@2025-01-05": alarm(
                "medium",
                reason="emp-a (employee, support_agent, active) was active again on 2025-01-05, 96 days after its "
                "previous successful activity on 2024-10-01 (dormant from 90 days): 2 events that day, 1 on "
                "personal data.",
                evidence=["a-login", "a-read"],
                observed_at=dt.datetime(2025, 1, 5, 8, 0),
            ),
            "actor:emp-b": ok(
                reason="emp-b (active): active on 2 days from 2024-12-01 to 2025-02-28; longest gap 89 days (dormant from "
                "90)."
            ),
            "actor:emp-c@2025-03-01": alarm("medium", evidence=["c-2"]),
            "actor:emp-idle": ok(reason="emp-idle (active) has no successful activity up to 2025-03-10."),
        },
    )
