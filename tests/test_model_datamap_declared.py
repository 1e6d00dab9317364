"""The data map's declarations as the controls and datamap_observed_vs_declared judge them, against the repository's
data map (answers worked out by hand from data_map.yaml and policy_map.yaml's prohibited uses), as of 2025-03-10:
declared_data_categories (a key is declared for a system when a data-map category of it equals or descends from it)
and data_use_observations (a purpose is declared when a use of the system equals it or is an ancestor of it)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def test_declared_data_categories(make_db, policy) -> None:
    con = make_db({})
    out = run_query(con, "declared_data_categories", {}, policy)
    systems = {key: sorted(out.filter(out["data_category"] == key)["system_id"].to_list()) for key in (
        "user.contact.email", "user.contact", "user.biometric.voice", "user.financial", "user.financial.bank_account",
        "user.content.private.call_recording", "user.content")}  # fmt: skip
    assert systems == {
        "user.contact.email": ["auth", "crm", "privacy-ops", "support-desk"],  # declared as such
        "user.contact": ["auth", "billing", "call-service", "crm", "privacy-ops", "support-desk"],  # their ancestor
        "user.biometric.voice": [],  # declared nowhere
        "user.financial": ["billing"],
        "user.financial.bank_account": [],  # finer than billing's user.financial: not declared
        "user.content.private.call_recording": ["call-service"],
        "user.content": ["call-service", "support-desk"],
    }


def _ev(event_id: str, day: str, system: str | None, purpose: str | None, **kw) -> dict:
    return {"event_id": event_id, "occurred_at": f"{day} 10:00:00", "event_date": day, "actor_id": "emp-1",
            "actor_type": "employee", "system": system, "action": kw.pop("action", "read"),
            "outcome": kw.pop("outcome", "success"), "purpose": purpose, "record_count": kw.pop("records", 2)} | kw  # fmt: skip


def test_data_use_observations(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                # a descendant of crm's essential.service: declared
                _ev("e1", "2025-03-01", "crm", "essential.service.operations", records=None),
                _ev("e2", "2025-03-04", "crm", "essential.service.operations", records=5),
                # analytics.reporting is analytics's use, not billing's: declared elsewhere
                _ev("e3", "2025-03-02", "billing", "analytics.reporting"),
                # prohibited, whatever the data map says; and declared nowhere
                _ev("e4", "2025-03-03", "call-service", "marketing.advertising.third_party"),
                # an ancestor of crm's essential.service: coarser than declared, not covered
                _ev("e5", "2025-03-03", "crm", "essential"),
                _ev("e6", "2025-03-03", "crm", "sales", outcome="denied"),  # used no data
                _ev("e7", "2025-03-03", "crm", "sales", action="login"),  # not a data action
                _ev("e8", "2025-03-11", "crm", "sales"),  # after as_of
            ]
        }
    )
    out = run_query(con, "data_use_observations", {"as_of": AS_OF}, policy).sort("system_id", "purpose")
    cols = ["system_id", "purpose", "events", "records", "declared", "declared_anywhere", "prohibited", "verdict"]
    assert out.select(cols).rows() == [
        ("billing", "analytics.reporting", 1, 2, False, True, False, "undeclared"),
        ("call-service", "marketing.advertising.third_party", 1, 2, False, False, True, "prohibited"),
        ("crm", "essential", 1, 2, False, False, False, "undeclared"),
        ("crm", "essential.service.operations", 2, 6, True, True, False, "allowed"),
    ]
    crm = out.filter(out["purpose"] == "essential.service.operations").row(0, named=True)
    assert (crm["first_seen"], crm["last_seen"]) == (dt.date(2025, 3, 1), dt.date(2025, 3, 4))
