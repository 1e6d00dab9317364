"""retention_schedule_by_store on a hand-made inventory, as of 2025-03-10 (answers worked out by hand from
data_map.yaml and retention.yaml)."""

from __future__ import annotations

import datetime as dt

from rows import inventory_record as _rec  # a short name keeps the aligned tables below

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
ENDED = "2024-06-01 00:00:00"  # user.contact: 90 days from contract end -> due 2024-08-30, grace 30 -> 2024-09-29


INVENTORY = [
    _rec("crm", "contacts", "c1", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED),  # past
    _rec("crm", "contacts", "c2", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
         deleted_at="2024-09-05 00:00:00"),  # erased
    _rec("crm", "contacts", "c3", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
         legal_hold=True),  # past, but exempt under legal hold
    _rec("crm", "contacts", "c4", "user.contact.email", "2024-01-01 00:00:00"),  # contract running: no clock yet
    _rec("crm", "contacts", "c5", "user.contact.email", "2025-03-20 00:00:00"),  # created after as_of: left out
    _rec("crm", "contacts", "c6", "user.contact.email", "2024-01-01 00:00:00", contract_ended_at=ENDED,
         deidentified_at="2025-03-20 00:00:00"),  # de-identified only after as_of: still held, past
    # billing: the system rule for user.name (2555 days from created_at) beats the category rule (90 days).
    _rec("billing", "invoices", "b1", "user.name", "2024-01-01 00:00:00"),
    # a category the data map does not declare for crm/contacts, and no retention rule covers
    _rec("crm", "contacts", "x1", "user.biometric.voice", "2024-01-01 00:00:00"),
]  # fmt: skip


def test_retention_schedule_by_store(make_db, policy) -> None:
    con = make_db({"inventory_records": INVENTORY})
    out = run_query(con, "retention_schedule_by_store", {"as_of": AS_OF}, policy)
    # 32 (system, store, category) entries in data_map.yaml, plus the one undeclared combination.
    assert out.height == 33
    by_key = {(r["system"], r["store"], r["data_category"]): r for r in out.to_dicts()}
    cols = ["declared", "policy_sections", "rule_category", "rule_scope", "period_days", "clock", "grace_days",
            "action", "records", "held", "erased", "past_retention", "legal_hold_exempt"]  # fmt: skip
    got = {k: tuple(by_key[k][c] for c in cols) for k in by_key}
    assert got["crm", "contacts", "user.contact.email"] == (
        # c1..c4 and c6 (c5 is after as_of): held c1, c3, c4, c6; erased c2; past c1, c6; exempt c3
        True, "2, 3, 4, 6", "user.contact", "category", 90, "contract_ended_at", 30, "delete", 5, 4, 1, 2, 1,
    )  # fmt: skip
    assert got["billing", "invoices", "user.name"] == (
        True, "2, 3, 6, 7", "user.name", "system", 2555, "created_at", 30, "delete", 1, 1, 0, 0, 0,
    )  # fmt: skip
    assert got["crm", "contacts", "user.biometric.voice"] == (
        False, None, None, None, None, None, None, None, 1, 1, 0, 0, 0,
    )  # fmt: skip
    # Declared entries without records still show their rule (privacy-ops: the system rule for user.name).
    assert got["privacy-ops", "dsr_cases", "user.name"] == (
        True, "8, 9", "user.name", "system", 730, "created_at", 30, "delete", 0, 0, 0, 0, 0,
    )  # fmt: skip
    assert by_key["billing", "invoices", "user.name"]["basis"] == "Names on invoices are kept seven years for tax law."
    # Sorted by system, store, category.
    keys = [(r["system"], r["store"], r["data_category"]) for r in out.to_dicts()]
    assert keys == sorted(keys)
