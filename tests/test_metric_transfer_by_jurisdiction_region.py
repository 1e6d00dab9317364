"""transfer_by_jurisdiction_region with the repository's transfers.yaml, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

import pytest
from rows import audit_event

from compliance.queries import run_query


def _event(event_id: str, subject: str | None, jurisdiction: str | None, region: str | None, **kw) -> dict:
    at = kw.pop("at", "2025-03-01 10:00:00")
    fields = {"actor_id": "e1", "action": "read", "subject_id": subject, "subject_jurisdiction": jurisdiction,
              "processing_region": region}  # fmt: skip
    return audit_event(event_id, at=at, **(fields | kw))


def test_transfer_by_jurisdiction_region(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _event("a1", "s1", "EU", "eu-fra"),
                _event("a2", "s1", "EU", "eu-fra"),
                _event("a3", "s2", "EU", "eu-fra"),
                _event("a4", "s2", "EU", "au-syd"),  # transfers.yaml gives EU nothing in au-syd
                _event("a5", "s3", None, "us-east"),  # jurisdiction unknown: cannot be judged
                _event("a6", "s1", "EU", "eu-fra", outcome="denied"),  # processed nothing
                _event("a7", "s1", "EU", None),  # no region named
                _event("a8", None, None, "eu-fra"),  # no subject
                _event("a9", "s1", "EU", "eu-fra", at="2025-03-11 10:00:00"),  # after as_of
            ]
        }
    )
    params = {"as_of": dt.date(2025, 3, 10), "start_date": None, "end_date": None}
    out = run_query(con, "transfer_by_jurisdiction_region", params, policy)
    # jurisdiction, region, region_country, mechanism, lawful, events, subjects
    assert out.rows() == [
        ("EU", "au-syd", "AU", None, False, 1, 1),
        ("EU", "eu-fra", "DE", "none_needed", True, 3, 2),
        ("unknown", "us-east", "US", None, None, 1, 1),
    ]


WINDOWED = [
    _event("w1", "s1", "EU", "eu-fra", at="2025-02-01 10:00:00"),
    _event("w2", "s1", "EU", "eu-fra", at="2025-03-01 10:00:00"),
    _event("w3", "s2", "EU", "eu-fra", at="2025-03-05 10:00:00"),
    _event("w4", "s3", "EU", "eu-fra", at="2025-02-10 10:00:00"),
]


@pytest.mark.parametrize(
    ("start", "end", "events", "subjects"),
    [
        (None, None, 4, 3),  # s1, s2, s3
        (None, dt.date(2025, 2, 28), 2, 2),  # w1 and w4: s1 and s3 (their first days by 28 Feb)
        (dt.date(2025, 3, 1), None, 2, 2),  # w2 and w3: s1 (first seen in February, still in this window) and s2
        (dt.date(2025, 2, 5), dt.date(2025, 3, 2), 2, 2),  # w4 and w2: s3 and s1
        (dt.date(2025, 3, 2), dt.date(2025, 3, 4), None, None),  # no event: no row
    ],
)
def test_the_window_counts_its_own_events_and_subjects(make_db, policy, start, end, events, subjects) -> None:
    con = make_db({"audit_events": WINDOWED})
    params = {"as_of": dt.date(2025, 3, 10), "start_date": start, "end_date": end}
    out = run_query(con, "transfer_by_jurisdiction_region", params, policy)
    expected = [] if events is None else [("EU", "eu-fra", "DE", "none_needed", True, events, subjects)]
    assert out.rows() == expected
