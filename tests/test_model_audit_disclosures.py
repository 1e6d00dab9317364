"""audit_disclosures (worked out by hand): every successful share or export that names a recipient, whatever its
date, with the system it left and the recipient in lower case."""

from __future__ import annotations

from compliance.queries import run_query


def _event(event_id: str, recipient: str | None, **kw) -> dict:
    at = kw.pop("at", "2025-03-01 10:00:00")
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": "e1",
            "actor_type": "employee", "action": kw.pop("action", "share"), "outcome": kw.pop("outcome", "success"),
            "recipient": recipient, "record_count": kw.pop("records", 5), "categories": ["user.name"]} | kw  # fmt: skip


def test_audit_disclosures(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _event("a1", "S3.eu-central-1.AMAZONAWS.com", system="crm"),  # lower-cased; its system as recorded
                _event("a2", "Dropbox.com", action="export", records=None, resource_type="contact"),  # no record count
                _event("a3", "dropbox.com", outcome="denied"),  # not a disclosure: it failed
                _event("a4", "aws", action="read"),  # not a share or an export
                _event("a5", None),  # no recipient
                _event("a6", "aws", at="2031-01-01 10:00:00"),  # any date: the model has no as-of
            ]
        }
    )
    systems = dict(con.sql("select distinct resource_type, system_id from ref_resource_types").fetchall())
    out = run_query(con, "audit_disclosures", {}, policy).sort("event_id")
    assert out.select("event_id", "recipient", "system_id", "records").rows() == [
        ("a1", "s3.eu-central-1.amazonaws.com", "crm", 5),
        ("a2", "dropbox.com", systems["contact"], 1),  # the data map's system of its resource type
        ("a6", "aws", None, 5),
    ]
    assert systems["contact"] is not None
