"""audit_disclosures (worked out by hand): every successful share or export that names a recipient, whatever its
date, with the system it left and the recipient in lower case."""

from __future__ import annotations

from rows import disclosure_event

from compliance.queries import run_query


def test_audit_disclosures(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                disclosure_event(
                    "a1", "S3.eu-central-1.AMAZONAWS.com", system="crm"
                ),  # lower-cased; its system as recorded
                disclosure_event(
                    "a2", "Dropbox.com", action="export", records=None, resource_type="contact"
                ),  # no record count
                disclosure_event("a3", "dropbox.com", outcome="denied"),  # not a disclosure: it failed
                disclosure_event("a4", "aws", action="read"),  # not a share or an export
                disclosure_event("a5", None),  # no recipient
                disclosure_event("a6", "aws", at="2031-01-01 10:00:00"),  # any date: the model has no as-of
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
