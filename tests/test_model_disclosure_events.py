"""disclosure_events with the repository's recipients.yaml, as of 2025-03-10 (worked out by hand): the disclosures
that disclosure.unapproved_recipient judges and disclosure_by_recipient counts, and whom each went to."""

from __future__ import annotations

import datetime as dt

from rows import disclosure_event

from compliance.queries import run_query


def test_disclosure_events(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                disclosure_event(
                    "a1", "S3.eu-central-1.AMAZONAWS.com"
                ),  # a sub-domain of aws's amazonaws.com, upper case
                disclosure_event("a2", "aws", records=None),  # the id itself; no record count counts as one record
                disclosure_event("a3", "dropbox.com", action="export"),  # no approved recipient
                disclosure_event("a4", "notamazonaws.com"),  # ends with the domain but is not a sub-domain of it
                disclosure_event("a5", "dropbox.com", outcome="denied"),  # not a disclosure: it failed
                disclosure_event("a6", "aws", action="read"),  # not a share or an export
                disclosure_event("a7", None),  # no recipient
                disclosure_event("a8", "aws", at="2025-03-11 10:00:00"),  # after as_of
            ]
        }
    )
    out = run_query(con, "disclosure_events", {"as_of": dt.date(2025, 3, 10)}, policy).sort("event_id")
    assert out.select("event_id", "recipient", "recipient_id", "records").rows() == [
        ("a1", "s3.eu-central-1.amazonaws.com", "aws", 5),
        ("a2", "aws", "aws", 1),
        ("a3", "dropbox.com", None, 5),
        ("a4", "notamazonaws.com", None, 5),
    ]
