"""mfa_coverage with the repository's roles.yaml (worked out by hand)."""

from __future__ import annotations

from compliance.queries import run_query


def _account(actor_id: str, role: str | None, status: str = "active", mfa: bool | None = True) -> dict:
    return {"actor_id": actor_id, "actor_type": "employee", "role": role, "status": status, "mfa_enabled": mfa}


def test_mfa_coverage(make_db, policy) -> None:
    con = make_db(
        {
            "directory_accounts": [
                _account("e1", "support_agent"),
                _account("e2", "support_agent", mfa=False),  # the gap
                _account("e3", "support_agent", "terminated", mfa=False),  # not active: no gap
                _account("e4", "platform_admin", mfa=None),  # unknown counts as without
                _account("s1", "svc_backup", mfa=False),  # a service role needs no MFA
                _account("x1", None),
            ]
        }
    )
    out = run_query(con, "mfa_coverage", {}, policy)
    # role, privileged, requires_mfa, accounts, active, active with MFA, active without; roles that
    # require MFA first, then most active accounts without it, then by name
    assert out.rows() == [
        ("platform_admin", True, True, 1, 1, 0, 1),
        ("support_agent", False, True, 3, 2, 1, 1),
        ("svc_backup", False, False, 1, 1, 0, 1),
        ("(none)", False, False, 1, 1, 1, 0),
    ]
