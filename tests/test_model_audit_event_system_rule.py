"""audit_event_system_rule with the repository's data_map.yaml (worked out by hand): the system each event belongs to,
which the disclosures and the rollups datamap_matrix and datamap_observed_vs_declared read are counted by."""

from __future__ import annotations

from compliance.queries import run_query


def _event(event_id: str, system: str | None, resource_type: str | None, **kw) -> dict:
    at = kw.pop("at", "2025-03-01 10:00:00")
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": "e1",
            "actor_type": "employee", "action": "read", "outcome": "success", "system": system,
            "resource_type": resource_type, "record_count": kw.pop("records", 3)} | kw  # fmt: skip


def test_audit_event_system_rule(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _event("a1", "crm", "call_record"),  # the recording system wins over the resource_type's
                _event("a2", None, "call_record"),  # call-service lists call_record (one row, not one per category)
                _event("a3", None, "account", records=None),  # auth's store; no record count counts as one record
                _event("a4", None, "no_such_type"),  # the data map lists no such resource_type: no system
                _event("a5", None, None),  # neither names a system
                _event("a6", None, "contact", at="2025-03-11 10:00:00"),  # any date: the contact type is crm's
            ]
        }
    )
    out = run_query(con, "audit_event_system_rule", {}, policy).sort("event_id")
    assert out.select("event_id", "system_id", "records").rows() == [
        ("a1", "crm", 3),
        ("a2", "call-service", 3),
        ("a3", "auth", 1),
        ("a4", None, 3),
        ("a5", None, 3),
        ("a6", "crm", 3),
    ]
