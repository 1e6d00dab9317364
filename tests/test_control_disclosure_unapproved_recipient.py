"""disclosure.unapproved_recipient on hand-made share/export events, as of 2025-03-10 (answers worked out by hand
from recipients.yaml)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import assert_fields, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _event(event_id: str, action: str, recipient: str, at: str, categories: list[str], records: int, **kw) -> dict:
    fields = {"actor_id": "e1", "action": action, "resource_type": "contact", "recipient": recipient,
              "categories": categories, "record_count": records} | kw  # fmt: skip
    return audit_event(event_id, at=at, **fields)


def test_disclosure_unapproved_recipient(control_findings) -> None:
    tables = {
        "audit_events": [
            # Not an approved recipient (matched case-insensitively): alarm high, 500 + 20 records.
            _event("d1", "export", "Mailchimp.com", "2025-03-01 10:00:00", ["user.contact.email", "user.name"], 500),
            _event("d2", "share", "mailchimp.com", "2025-03-03 10:00:00", ["user.contact.email"], 20, actor_id="e2"),
            # A sub-domain of aws's amazonaws.com: aws, approved for all of `user`: ok.
            _event("d3", "export", "s3.eu-central-1.amazonaws.com", "2025-03-02 10:00:00", ["user.contact.email"], 1000),
            # twilio (by id) is not approved for user.contact.email: alarm medium ...
            _event("d4", "share", "twilio", "2025-03-04 10:00:00", ["user.contact.phone_number", "user.contact.email"], 3),
            # ... while this twilio.com sub-domain event is within its categories.
            _event("d5", "share", "api.twilio.com", "2025-03-05 10:00:00", ["user.behavior.call_activity"], 7),
            # Failed shares disclosed nothing.
            _event("d6", "share", "evil.example", "2025-03-05 11:00:00", ["user.name"], 9, outcome="denied"),
            # Ends with the alias but is not a sub-domain of it: not approved.
            _event("d7", "share", "notamazonaws.com", "2025-03-06 10:00:00", [], 1, actor_id="e3"),
            # After as_of: ignored.
            _event("d8", "share", "mailchimp.com", "2025-03-11 10:00:00", ["user.name"], 1),
        ]
    }  # fmt: skip
    rows = control_findings("disclosure_unapproved_recipient", tables, as_of=AS_OF)
    assert verdict_list(rows, "status", "severity", "evidence") == [
        ("recipient:aws", "ok", "info", ["d3"]),
        ("recipient:mailchimp.com", "alarm", "high", ["d2", "d1"]),
        ("recipient:notamazonaws.com", "alarm", "high", ["d7"]),
        ("recipient:twilio", "alarm", "medium", ["d4"]),  # only the out-of-scope event
    ]
    assert_fields(
        rows,
        {
            "recipient:mailchimp.com": {
                "reason": (
                    "Personal data went to mailchimp.com, which is not an approved recipient: 2 share/export events "
                    "(520 records; categories user.contact.email, user.name) by e1, e2 from 2025-03-01 to 2025-03-03."
                )
            },
            "recipient:notamazonaws.com": {
                "reason": (
                    "Personal data went to notamazonaws.com, which is not an approved recipient: 1 share/export events "
                    "(1 records) by e3 from 2025-03-06 to 2025-03-06."
                )
            },
            "recipient:twilio": {
                "reason": (
                    "Approved recipient twilio received categories outside its approved list (user.contact.email) in 1 "
                    "of 2 share/export events (3 records) from 2025-03-04 to 2025-03-05; it is approved for "
                    "user.behavior.call_activity, user.contact.phone_number, user.content.private.call_recording."
                ),
                "observed_at": dt.datetime(2025, 3, 4, 10, 0),  # the out-of-scope event
            },
            "recipient:aws": {
                "reason": (
                    "Approved recipient aws received 1 share/export events (1000 records) from 2025-03-02 to "
                    "2025-03-02, all within its approved categories."
                )
            },
        },
    )


def test_evidence_is_the_newest_twenty_of_many_days(control_findings) -> None:
    """Evidence spans days (it is read from each recipient's newest days only): aws gets 9 events a day on 1-4 Mar,
    3 of them at one instant, so its newest 20 are 4 Mar's 9, 3 Mar's 9 and 2 of 2 Mar's, the tie at 09:00 broken by
    id (largest first); twilio's 2 out-of-scope events are older than its 24 in-scope ones, yet they are its
    evidence."""
    rows: list[dict] = []
    for day in (1, 2, 3, 4):
        for n in range(9):
            minute = 0 if n < 3 else n  # three at 09:00 exactly
            at = f"2025-03-0{day} 09:{minute:02d}:00"
            rows.append(_event(f"a{day}-{n}", "export", "aws", at, ["user.contact.email"], 1))
    for day in (5, 6, 7, 8):
        for n in range(6):
            at = f"2025-03-0{day} 10:{n:02d}:00"
            rows.append(_event(f"t{day}-{n}", "share", "twilio", at, ["user.behavior.call_activity"], 1))
    rows += [
        _event("t0-a", "share", "twilio", "2025-03-01 08:00:00", ["user.contact.email"], 2),
        _event("t0-b", "share", "twilio", "2025-03-02 08:00:00", ["user.contact.email", "user.name"], 2),
    ]
    found = control_findings("disclosure_unapproved_recipient", {"audit_events": rows}, as_of=AS_OF)
    aws = sorted((r for r in rows if r["recipient"] == "aws"), key=lambda r: (r["occurred_at"], r["event_id"]))
    newest = [r["event_id"] for r in reversed(aws)][:20]
    assert newest[-2:] == ["a2-8", "a2-7"] and newest[9:12] == ["a3-8", "a3-7", "a3-6"]
    assert verdict_list(found, "status", "severity", "evidence") == [
        ("recipient:aws", "ok", "info", newest),
        ("recipient:twilio", "alarm", "medium", ["t0-b", "t0-a"]),
    ]
    assert found["recipient:twilio"]["reason"] == (
        "Approved recipient twilio received categories outside its approved list (user.contact.email, user.name) in 2 "
        "of 26 share/export events (4 records) from 2025-03-01 to 2025-03-08; it is approved for "
        "user.behavior.call_activity, user.contact.phone_number, user.content.private.call_recording."
    )
    assert found["recipient:twilio"]["observed_at"] == dt.datetime(2025, 3, 2, 8, 0)
