"""The retention chain models on a hand-made inventory (answers worked out by hand from retention.yaml).

inventory_retention_due: the governing rule, clock start and due date of every record.
inventory_retention_as_of: the records that existed on the as-of date, erasures as of then, and the one
retention status that retention.record_past_retention alarms on and the retention metrics count.
"""

from __future__ import annotations

import datetime as dt

from rows import inventory_record

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
ENDED = "2024-06-01 00:00:00"  # user.contact: 90 days from contract end -> due 2024-08-30, grace 30


def _rec(record_id: str, category: str, created: str, system: str = "crm", store: str = "contacts", **kw) -> dict:
    return inventory_record(system, store, record_id, category, created, **kw)


ROWS = {
    "inventory_records": [
        _rec("past", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED),  # 192 days past due
        _rec("grace", "user.contact.email", "2024-01-01 00:00:00",
             contract_ended_at="2024-11-20 00:00:00"),  # due 2025-02-18: 20 days past, within grace 30
        _rec("erased", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
             deleted_at="2024-09-05 00:00:00"),
        _rec("later", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
             deleted_at="2025-04-01 00:00:00"),  # deleted after as_of: still held, past due
        _rec("hold", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED, legal_hold=True),
        _rec("running", "user.contact.email", "2024-01-01 00:00:00"),  # no contract end: clock not started
        _rec("norule", "user.unknown_category", "2024-01-01 00:00:00"),
        _rec("future", "user.contact.email", "2025-03-11 00:00:00"),  # created after as_of
        # recordings: 90 days from created_at, grace 7: 2024-01-01 -> due 2024-03-31 (leap year)
        _rec("rec", "user.content.private.call_recording", "2024-01-01 00:00:00",
             system="call-service", store="call_recordings"),
    ]
}  # fmt: skip


def test_inventory_retention_due(make_db, policy) -> None:
    out = run_query(make_db(ROWS), "inventory_retention_due", {}, policy).sort("record_id")
    got = out.select("record_id", "period_days", "clock", "grace_days", "clock_date", "due_date").rows()
    d = dt.date
    assert got == [
        ("erased", 90, "contract_ended_at", 30, d(2024, 6, 1), d(2024, 8, 30)),
        ("future", 90, "contract_ended_at", 30, None, None),
        ("grace", 90, "contract_ended_at", 30, d(2024, 11, 20), d(2025, 2, 18)),
        ("hold", 90, "contract_ended_at", 30, d(2024, 6, 1), d(2024, 8, 30)),
        ("later", 90, "contract_ended_at", 30, d(2024, 6, 1), d(2024, 8, 30)),
        ("norule", None, None, None, None, None),
        ("past", 90, "contract_ended_at", 30, d(2024, 6, 1), d(2024, 8, 30)),
        ("rec", 90, "created_at", 7, d(2024, 1, 1), d(2024, 3, 31)),
        ("running", 90, "contract_ended_at", 30, None, None),
    ]


def test_inventory_retention_as_of(make_db, policy) -> None:
    params = {"as_of": AS_OF, "retention_legal_hold_exempts": True}
    out = run_query(make_db(ROWS), "inventory_retention_as_of", params, policy).sort("record_id")
    got = out.select("record_id", "is_erased", "days_past_due", "retention_status").rows()
    assert got == [
        ("erased", True, 192, "erased"),
        ("grace", False, 20, "within_retention"),
        ("hold", False, 192, "legal_hold"),
        ("later", False, 192, "past_retention"),  # its deletion on 2025-04-01 had not happened yet
        ("norule", False, None, "no_rule"),
        ("past", False, 192, "past_retention"),
        ("rec", False, 344, "past_retention"),
        ("running", False, None, "clock_not_running"),
    ]  # "future" did not exist yet
    held = run_query(
        make_db(ROWS), "inventory_retention_as_of", params | {"retention_legal_hold_exempts": False}, policy
    )
    assert held.filter(held["record_id"] == "hold")["retention_status"].to_list() == ["past_retention"]
