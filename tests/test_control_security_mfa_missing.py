"""security.mfa_missing on a hand-made directory, as of 2025-03-10 (answers worked out by hand).

Role matrix: it_admin and platform_admin are privileged; every workforce role requires MFA; service roles
do not. The current role is the newest successful role_grant up to as_of, else the directory role.
"""

from __future__ import annotations

import datetime as dt

from rows import directory_account, role_grant

from compliance.queries import run_query
from tests.findings_support import alarm, assert_findings, finding, ok

AS_OF = dt.date(2025, 3, 10)


def _acct(actor_id: str, role: str, mfa: bool | None, **kw: object) -> dict[str, object]:
    return directory_account(actor_id, role=role, mfa_enabled=mfa, **kw)


def _grant(event_id: str, at: str, grantee: str, role: str, **kw: object) -> dict[str, object]:
    """`it-1` (an IT admin) grants `role` to `grantee`."""
    return role_grant(event_id, at, "it-1", "it_admin", grantee, role, **kw)


def test_security_mfa_missing(control_findings) -> None:
    tables = {
        "directory_accounts": [
            _acct("it-1", "it_admin", False),  # privileged without MFA -> critical
            _acct("sup-1", "support_agent", None),  # requires MFA, not recorded -> high
            _acct("sup-2", "support_agent", True, actor_type="contractor"),  # MFA on -> ok
            _acct("emp-x", "intern", False),  # role unknown to the matrix -> info
            _acct("emp-g", "support_agent", False),  # granted platform_admin on 1 Mar -> critical
            _acct("emp-r", "support_agent", True),  # granted it_admin, MFA on -> ok
            _acct("svc-1", "svc_backup", False, actor_type="service"),  # not a person: not examined
            _acct("emp-gone", "it_admin", False, status="terminated"),  # not active: not examined
            _acct("emp-late", "it_admin", False, start_date="2025-04-01"),  # starts after as_of
        ],
        "audit_events": [
            _grant("g-1", "2025-03-01 09:00:00", "emp-g", "platform_admin"),
            _grant("g-2", "2025-03-02 09:00:00", "emp-r", "it_admin"),
            # A grant after as_of does not change the role as of 10 Mar; a denied grant never does.
            _grant("g-late", "2025-03-11 09:00:00", "sup-2", "platform_admin"),
            _grant("g-denied", "2025-03-03 09:00:00", "sup-2", "it_admin", outcome="denied"),
        ],
    }  # fmt: skip
    by = control_findings("security_mfa_missing", tables, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:it-1": alarm(
                "critical",
                reason="it-1 (employee) holds role it_admin, which is privileged, but MFA is disabled.",
                evidence=["it-1"],
                observed_at=dt.datetime(2025, 3, 10),
            ),
            "actor:sup-1": alarm(
                "high",
                reason="sup-1 (employee) holds role support_agent, which requires MFA, but MFA is not recorded in the "
                "directory.",
            ),
            "actor:sup-2": ok(
                reason="sup-2 (contractor) holds role support_agent, which requires MFA, and MFA is enabled."
            ),
            "actor:emp-x": finding(
                "info",
                "info",
                reason="emp-x (employee) holds role intern, which is not in the role matrix, so its MFA need is unknown.",
            ),
            "actor:emp-g": alarm(
                "critical",
                reason="emp-g (employee) holds role platform_admin (granted; directory role support_agent), which is "
                "privileged, but MFA is disabled.",
                evidence=["emp-g", "g-1"],
            ),
            "actor:emp-r": ok(),
        },
    )


def test_the_newest_grant_wins_by_time_then_id_across_days(make_db, policy) -> None:
    """Grants read from the ingest's rollup of them (audit_role_grant_days): emp-g was granted platform_admin on
    1 Mar, then support_agent twice at the same instant on 4 Mar (g-3a, g-3b: the larger id wins, as the events
    once did). As of 3 Mar the role is platform_admin; as of 10 Mar, support_agent from g-3b."""
    con = make_db(
        {
            "directory_accounts": [_acct("emp-g", "support_agent", False)],
            "audit_events": [
                _grant("g-1", "2025-03-01 09:00:00", "emp-g", "platform_admin"),
                _grant("g-3b", "2025-03-04 09:00:00", "emp-g", "support_agent"),
                _grant("g-3a", "2025-03-04 09:00:00", "emp-g", "support_agent"),
            ],
        }
    )
    assert con.execute("select count(*) from audit_role_grant_days").fetchall() == [(3,)]

    def row(as_of: dt.date) -> tuple:
        out = run_query(con, "security_mfa_missing", {"as_of": as_of}, policy)
        return out.select("severity", "evidence").row(0)

    assert row(dt.date(2025, 3, 3)) == ("critical", ["emp-g", "g-1"])
    assert row(AS_OF) == ("high", ["emp-g", "g-3b"])
