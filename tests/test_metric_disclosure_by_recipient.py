"""disclosure_by_recipient with the repository's recipients.yaml, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

ts = dt.datetime


def _share(event_id: str, actor: str, recipient: str, records: int | None, categories: list[str], **kw) -> dict:
    at = kw.pop("at", "2025-03-01 10:00:00")
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": actor,
            "actor_type": "employee", "action": kw.pop("action", "share"), "outcome": kw.pop("outcome", "success"),
            "recipient": recipient, "record_count": records, "categories": categories} | kw  # fmt: skip


def test_disclosure_by_recipient(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                # a sub-domain of aws's domain amazonaws.com, in upper case
                _share("a1", "e1", "S3.eu-central-1.AMAZONAWS.com", 100, ["user.name"]),
                _share("a2", "e2", "aws", 50, ["system.operations"], at="2025-03-02 10:00:00"),
                _share("a3", "e1", "dropbox.com", 7, ["user.contact.email", "user.name"], action="export"),
                _share("a4", "e1", "dropbox.com", 9, ["user.name"], outcome="denied"),  # nothing left
                _share("a5", "e1", "zendesk.com", 1, ["user.name"], at="2025-03-11 10:00:00"),  # after as_of
            ]
        }
    )
    params = {"as_of": dt.date(2025, 3, 10), "start_date": None, "end_date": None}
    out = run_query(con, "disclosure_by_recipient", params, policy)
    # unapproved first, then by records
    assert out.rows() == [
        ("dropbox.com", None, None, None, None, False, 1, 7, 1, "user.contact.email, user.name",
         ts(2025, 3, 1, 10), ts(2025, 3, 1, 10)),
        ("s3.eu-central-1.amazonaws.com", "aws", "Amazon Web Services", "US", "dpf", True, 1, 100, 1, "user.name",
         ts(2025, 3, 1, 10), ts(2025, 3, 1, 10)),
        ("aws", "aws", "Amazon Web Services", "US", "dpf", True, 1, 50, 1, "system.operations",
         ts(2025, 3, 2, 10), ts(2025, 3, 2, 10)),
    ]  # fmt: skip


def test_counted_from_the_daily_rollup_across_days_and_a_window(make_db, policy) -> None:
    """One recipient over three days: events, records, distinct actors and categories summed from the rollup
    (audit_disclosure_days) equal the events' own figures, whole and in a window of the middle day."""
    con = make_db(
        {
            "audit_events": [
                _share("b1", "e1", "Dropbox.com", 3, ["user.name"], at="2025-03-01 08:00:00"),
                _share("b2", "e1", "dropbox.com", 4, ["user.name"], at="2025-03-01 09:00:00"),  # same group-day
                _share("b3", "e2", "dropbox.com", 5, ["user.contact.email"], at="2025-03-02 10:00:00"),
                _share("b4", "e1", "dropbox.com", None, [], action="export", at="2025-03-03 11:00:00"),  # no list
                _share("b5", "e3", "dropbox.com", 6, ["user.name"], action="read", at="2025-03-02 12:00:00"),  # no
            ]
        }
    )
    rollup = con.sql(
        "select event_date, recipient, actor_id, events, records from audit_disclosure_days order by all"
    ).fetchall()
    assert rollup == [
        (dt.date(2025, 3, 1), "dropbox.com", "e1", 2, 7),
        (dt.date(2025, 3, 2), "dropbox.com", "e2", 1, 5),
        (dt.date(2025, 3, 3), "dropbox.com", "e1", 1, 1),  # no record count counts one
    ]
    params = {"as_of": dt.date(2025, 3, 10), "start_date": None, "end_date": None}
    whole = run_query(con, "disclosure_by_recipient", params, policy)
    assert whole.rows() == [
        ("dropbox.com", None, None, None, None, False, 4, 13, 2, "user.contact.email, user.name",
         ts(2025, 3, 1, 8), ts(2025, 3, 3, 11)),
    ]  # fmt: skip
    middle = run_query(
        con, "disclosure_by_recipient", params | {"start_date": dt.date(2025, 3, 2), "end_date": dt.date(2025, 3, 2)},
        policy,
    )  # fmt: skip
    assert middle.rows() == [
        ("dropbox.com", None, None, None, None, False, 1, 5, 1, "user.contact.email",
         ts(2025, 3, 2, 10), ts(2025, 3, 2, 10)),
    ]  # fmt: skip
    # The control judges the same disclosures, matched the same way.
    assert run_query(con, "disclosure_events", {"as_of": dt.date(2025, 3, 10)}, policy).height == 4
