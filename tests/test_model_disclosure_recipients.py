"""disclosure_recipients with the repository's recipients.yaml (worked out by hand): each recipient a disclosure
named, once, with the approved recipient it matches by id, domain or sub-domain."""

from __future__ import annotations

from compliance.queries import run_query


def _share(event_id: str, recipient: str, at: str = "2025-03-01 10:00:00") -> dict:
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": "e1",
            "actor_type": "employee", "action": "share", "outcome": "success", "recipient": recipient,
            "categories": ["user.name"]}  # fmt: skip


def test_disclosure_recipients(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _share("a1", "S3.eu-central-1.AMAZONAWS.com"),  # a sub-domain of aws's amazonaws.com
                _share("a2", "s3.eu-central-1.amazonaws.com", at="2025-03-02 10:00:00"),  # the same, once
                _share("a3", "aws"),  # the id itself
                _share("a4", "notamazonaws.com"),  # ends with the domain but is not a sub-domain of it
                _share("a5", "dropbox.com"),  # no approved recipient
                {**_share("a6", "zendesk.com"), "outcome": "denied"},  # not a disclosure: never listed
            ]
        }
    )
    out = run_query(con, "disclosure_recipients", {}, policy).sort("recipient")
    assert out.rows() == [
        ("aws", "aws"),
        ("dropbox.com", None),
        ("notamazonaws.com", None),
        ("s3.eu-central-1.amazonaws.com", "aws"),
    ]
