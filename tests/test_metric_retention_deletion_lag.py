"""retention_deletion_lag on a hand-made inventory, as of 2025-03-10 (answers worked out by hand from retention.yaml).

lag = days from the due date (clock + period) to the first of deleted_at / deidentified_at.
"""

from __future__ import annotations

import datetime as dt

from rows import inventory_record as _rec  # a short name keeps the aligned tables below

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


ENDED = "2024-06-01 00:00:00"  # user.contact: 90 days from contract end -> due 2024-08-30, grace 30


def test_retention_deletion_lag(make_db, policy) -> None:
    con = make_db(
        {
            "inventory_records": [
                _rec("crm", "contacts", "c1", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
                     deleted_at="2024-09-05 00:00:00"),  # lag 6: within grace
                _rec("crm", "contacts", "c2", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
                     deleted_at="2024-10-14 00:00:00"),  # lag 45: beyond grace
                _rec("crm", "contacts", "c3", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
                     deleted_at="2024-07-01 00:00:00"),  # lag -60: early (e.g. an erasure request)
                _rec("crm", "contacts", "c4", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
                     deleted_at="2025-04-01 00:00:00"),  # after as_of: not yet erased
                _rec("crm", "contacts", "c5", "user.contact.email", "2024-01-01 00:00:00",
                     deleted_at="2024-12-01 00:00:00"),  # clock (contract end) never started: no due date
                # recordings: 90 days from created_at, grace 7: 2024-01-01 -> due 2024-03-31 (leap year).
                _rec("call-service", "call_recordings", "rec1", "user.content.private.call_recording",
                     "2024-01-01 00:00:00", deleted_at="2024-04-20 00:00:00"),  # lag 20: beyond grace
                _rec("call-service", "call_recordings", "rec2", "user.content.private.call_recording",
                     "2024-01-01 00:00:00", deidentified_at="2024-04-05 00:00:00",
                     deleted_at="2024-08-01 00:00:00"),  # first erasure 5 Apr: lag 5
                # product usage: 395 days from created_at, grace 30: 2023-01-01 -> due 2024-01-31.
                _rec("analytics", "usage_events", "u1", "user.behavior.product_usage", "2023-01-01 00:00:00",
                     deidentified_at="2024-05-10 00:00:00"),  # lag 100
            ]
        }
    )  # fmt: skip
    out = run_query(con, "retention_deletion_lag", {"as_of": AS_OF}, policy)
    assert out.rows() == [
        # system, erased, median, p90, max, within grace, beyond grace, early, 0-7, 8-30, 31-90, >90
        ("analytics", 1, 100, 100, 100, 0, 1, 0, 0, 0, 0, 1),
        ("call-service", 2, 5, 20, 20, 1, 1, 0, 1, 1, 0, 0),  # lags 5, 20 (discrete quantiles)
        ("crm", 3, 6, 45, 45, 2, 1, 1, 1, 0, 1, 0),  # lags -60, 6, 45
    ]
