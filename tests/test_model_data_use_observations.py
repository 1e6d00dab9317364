"""data_use_observations on hand-made audit events, as of 2025-03-10, against the repository's data map and
policy_map.yaml's prohibited uses (answers worked out by hand): a purpose is declared when a use of the system equals
it or is an ancestor of it. Read by purpose.undeclared_use and datamap_observed_vs_declared."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


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
