"""access.terminated_account on a hand-made directory and audit log, as of 2025-03-10 (worked out by hand).

The end date is the last day an account may be used: successful activity on a later UTC day is an alarm,
critical when it touched personal data.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event, directory_account

from tests.findings_support import alarm, assert_findings, finding, ok

AS_OF = dt.date(2025, 3, 10)


def test_access_terminated_account(control_findings) -> None:
    tables = {
        "directory_accounts": [
            directory_account("emp-left", "terminated", "2025-02-28"),
            directory_account("emp-left2", "terminated", "2025-02-15"),
            directory_account("emp-clean", "terminated", "2025-01-31"),
            directory_account("emp-future", "active", "2025-06-30"),
            directory_account("emp-noend", "terminated", None),
            directory_account("emp-active", "active", None),
        ],
        "audit_events": [
            # emp-left ended 28 Feb: a read on the end date itself is allowed; a login on 2 Mar and a contact
            # read on 3 Mar are not (2 events, 2 days, 1 on personal data) -> critical. The failed login of
            # 4 Mar is not activity.
            audit_event("left-last", "emp-left", "2025-02-28 16:00:00", "read"),
            audit_event("left-login", "emp-left", "2025-03-02 08:00:00"),
            audit_event("left-read", "emp-left", "2025-03-03 09:00:00", "read"),
            audit_event("left-fail", "emp-left", "2025-03-04 09:00:00", "login_failed", outcome="failure"),
            # emp-left2: one login after the end date, no personal data -> high.
            audit_event("left2-login", "emp-left2", "2025-03-01 07:00:00"),
            # emp-clean: last activity on the end date; a login after as_of does not count -> ok.
            audit_event("clean-last", "emp-clean", "2025-01-31 17:00:00"),
            audit_event("clean-future", "emp-clean", "2025-03-11 09:00:00"),
            # emp-future is serving notice until 30 Jun -> ok.
            audit_event("future-read", "emp-future", "2025-03-05 09:00:00", "read"),
            # emp-noend: terminated with no end date -> info (cannot be judged).
            audit_event("noend-login", "emp-noend", "2025-02-01 10:00:00"),
            # emp-active has neither an end date nor terminated status: not examined.
            audit_event("active-login", "emp-active", "2025-03-05 09:00:00"),
        ],
    }  # fmt: skip
    by = control_findings("access_terminated_account", tables, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-left": alarm(
                "critical",
                reason="emp-left (employee, support_agent, terminated) ended on 2025-02-28 but had 2 successful events on "
                "2 later days, from 2025-03-02 08:00:00 to 2025-03-03 09:00:00 UTC, 1 of them on personal data.",
                evidence=["left-login", "left-read"],
                observed_at=dt.datetime(2025, 3, 2, 8, 0),
            ),
            "actor:emp-left2": alarm("high"),
            "actor:emp-clean": ok(
                reason="emp-clean (terminated) ended on 2025-01-31; no successful activity after it up to 2025-03-10 "
                "(last 2025-01-31 17:00:00 UTC).",
                evidence=[],
            ),
            "actor:emp-future": ok(),
            "actor:emp-noend": finding(
                "info",
                "info",
                reason="emp-noend is terminated in the directory but has no end date, so activity after it cannot be "
                "judged; last successful activity 2025-02-01 10:00:00 UTC.",
            ),
        },
    )
    assert by["actor:emp-left2"]["reason"].startswith(
        "emp-left2 (employee, support_agent, terminated) ended on 2025-02-15 but had 1 successful event on 1 later day"
    )
    assert by["actor:emp-future"]["reason"].startswith("emp-future (active) ends on 2025-06-30;")


def test_the_evidence_is_the_first_50_events_after_the_end_date_whatever_the_days_they_fall_on(
    control_findings,
) -> None:
    """30 logins a day on 3 days after the end date (and one failed one among the earliest, which is no activity):
    the evidence is the 30 of the first day and the first 20 of the second, in time order; the reason counts all 90."""
    logins = [
        audit_event(f"d{day}-{n:02d}", "emp-left", f"2025-03-0{day} {8 + n // 60:02d}:{n % 60:02d}:00")
        for day in (2, 3, 4)
        for n in range(30)
    ]
    failed = audit_event("d2-fail", "emp-left", "2025-03-02 07:59:00", "login_failed", outcome="failure")
    tables = {
        "directory_accounts": [directory_account("emp-left", "terminated", "2025-02-28")],
        "audit_events": [failed, *logins],
    }
    by = control_findings("access_terminated_account", tables, as_of=AS_OF)
    first_50 = [f"d2-{n:02d}" for n in range(30)] + [f"d3-{n:02d}" for n in range(20)]
    assert_findings(
        by,
        {
            "actor:emp-left": alarm(
                "high",
                reason="emp-left (employee, support_agent, terminated) ended on 2025-02-28 but had 90 successful events "
                "on 3 later days, from 2025-03-02 08:00:00 to 2025-03-04 08:29:00 UTC.",
                evidence=first_50,
            )
        },
    )
