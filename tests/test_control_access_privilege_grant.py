"""access.privilege_grant on hand-made role grants, as of 2025-03-10 (answers worked out by hand).

Role matrix: it_admin and platform_admin are privileged and may grant roles; no other role may grant.
Severity: critical = privileged role granted by an unexpected grantor; high = either; medium = a role
the matrix does not know, granted by an expected grantor.
"""

from __future__ import annotations

import datetime as dt

from rows import role_grant

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def test_access_privilege_grant(control_findings) -> None:
    rows = [
        # emp-x: two ordinary grants the same day, by it_admin and platform_admin -> one ok row.
        role_grant("g-x1", "2025-03-03 09:00:00", "it-1", "it_admin", "emp-x", "support_agent"),
        role_grant("g-x2", "2025-03-03 10:00:00", "pa-1", "platform_admin", "emp-x", "support_lead"),
        # emp-y: platform_admin is privileged -> high, although it_admin may grant.
        role_grant("g-y", "2025-03-04 10:00:00", "it-1", "it_admin", "emp-y", "platform_admin"),
        # emp-z: a sales_rep may not grant roles -> high.
        role_grant("g-z", "2025-03-05 10:00:00", "sales-1", "sales_rep", "emp-z", "data_analyst"),
        # emp-w: a sales_rep granting it_admin (privileged): both problems -> critical.
        role_grant("g-w", "2025-03-05 11:00:00", "sales-1", "sales_rep", "emp-w", "it_admin"),
        # emp-v: a role unknown to the matrix, by it_admin -> medium.
        role_grant("g-v", "2025-03-06 10:00:00", "it-1", "it_admin", "emp-v", "intern"),
        # emp-u: a grantor whose role is unknown is not an expected grantor -> high.
        role_grant("g-u", "2025-03-07 10:00:00", "ghost", None, "emp-u", "support_agent"),
        # A denied grant and one after as_of are not examined.
        role_grant("g-denied", "2025-03-08 10:00:00", "sales-1", "sales_rep", "emp-t", "platform_admin",
                   outcome="denied"),
        role_grant("g-future", "2025-03-11 10:00:00", "sales-1", "sales_rep", "emp-s", "platform_admin"),
    ]  # fmt: skip
    by = control_findings("access_privilege_grant", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-x@2025-03-03": ok(
                reason="it-1 (it_admin) granted support_agent to emp-x at 2025-03-03 09:00:00 UTC. pa-1 (platform_admin) "
                "granted support_lead to emp-x at 2025-03-03 10:00:00 UTC: all non-privileged roles, granted by "
                "roles that may grant roles.",
                evidence=["g-x1", "g-x2"],
            ),
            "actor:emp-y@2025-03-04": alarm("high"),
            "actor:emp-z@2025-03-05": alarm("high"),
            "actor:emp-w@2025-03-05": alarm(
                "critical",
                reason="sales-1 (sales_rep) granted it_admin to emp-w at 2025-03-05 11:00:00 UTC; it_admin is a "
                "privileged role; sales_rep is not among the roles that may grant roles.",
                evidence=["g-w"],
                observed_at=dt.datetime(2025, 3, 5, 11, 0),
            ),
            "actor:emp-v@2025-03-06": alarm("medium"),
            "actor:emp-u@2025-03-07": alarm(
                "high",
                reason="ghost (unknown role) granted support_agent to emp-u at 2025-03-07 10:00:00 UTC; an unknown role "
                "is not among the roles that may grant roles.",
            ),
        },
    )
    assert by["actor:emp-v@2025-03-06"]["reason"].endswith("; intern is not in the role matrix.")
