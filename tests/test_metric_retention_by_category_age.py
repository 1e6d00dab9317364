"""retention_by_category_age on a hand-made inventory, as of 2025-03-10 (answers worked out by hand from retention.yaml)."""

from __future__ import annotations

import datetime as dt

from rows import inventory_record as _rec  # a short name keeps the aligned tables below

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


# user.contact: 90 days from contract_ended_at + 30 grace. Contract ended 2024-06-01: 282 days before as_of,
# so 192 days past due, beyond grace.
ENDED = "2024-06-01 00:00:00"
INVENTORY = [
    _rec("crm", "contacts", "c1", "user.contact.email", "2025-03-01 00:00:00"),  # age 9; contract running
    _rec("crm", "contacts", "c2", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED),  # age 434
    _rec("crm", "contacts", "c3", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED, legal_hold=True),
    _rec("crm", "contacts", "c4", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
         deleted_at="2024-09-15 00:00:00"),
    _rec("crm", "contacts", "c5", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
         deleted_at="2025-04-01 00:00:00"),  # deleted after as_of: still held on as_of
    # product usage: 395 days from created_at.
    _rec("analytics", "usage_events", "u1", "user.behavior.product_usage", "2024-12-01 00:00:00"),  # age 99
    _rec("analytics", "usage_events", "u2", "user.behavior.product_usage", "2023-01-01 00:00:00",
         deidentified_at="2024-03-01 00:00:00"),  # age 799
    # recordings: 90 days from created_at + 7: due 1 Apr 2025.
    _rec("call-service", "call_recordings", "rec1", "user.content.private.call_recording", "2025-01-01 00:00:00"),  # age 68
    _rec("crm", "contacts", "c9", "user.contact.email", "2025-03-11 00:00:00"),  # created after as_of
]  # fmt: skip


def test_retention_by_category_age(make_db, policy) -> None:
    con = make_db({"inventory_records": INVENTORY})
    out = run_query(con, "retention_by_category_age", {"as_of": AS_OF}, policy)  # legal hold exempts (settings)
    assert out.rows() == [
        # category, system, bucket, order, records, past retention, legal-hold exempt, deleted, de-identified
        ("user.behavior.product_usage", "analytics", "91-365", 3, 1, 0, 0, 0, 0),
        ("user.behavior.product_usage", "analytics", "2y+", 5, 1, 0, 0, 0, 1),
        ("user.contact.email", "crm", "0-30", 1, 1, 0, 0, 0, 0),
        ("user.contact.email", "crm", "1-2y", 4, 4, 2, 1, 1, 0),  # c2, c5 past; c3 on hold; c4 deleted
        ("user.content.private.call_recording", "call-service", "31-90", 2, 1, 0, 0, 0, 0),
    ]


def test_legal_hold_not_exempting(make_db, policy) -> None:
    con = make_db({"inventory_records": INVENTORY})
    out = run_query(con, "retention_by_category_age", {"as_of": AS_OF, "retention_legal_hold_exempts": False}, policy)
    row = out.filter(out["age_bucket"] == "1-2y").row(0)
    assert row == ("user.contact.email", "crm", "1-2y", 4, 4, 3, 0, 1, 0)  # c3 now counts as past retention
