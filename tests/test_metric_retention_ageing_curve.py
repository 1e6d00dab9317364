"""retention_ageing_curve on a hand-made inventory, as of 2025-03-10 with 30-day age bins (answers worked out by
hand from retention.yaml: recordings 90 days from created_at, grace 7; user.name 90 days from contract end)."""

from __future__ import annotations

import datetime as dt

from rows import inventory_record as _rec  # a short name keeps the aligned tables below

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
REC = "user.content.private.call_recording"


INVENTORY = [
    _rec("call-service", "call_recordings", "r1", REC, "2025-03-01 00:00:00"),  # age 9 -> bin 0, held
    # age 99 -> bin 3; due 2025-03-01, 9 days past > grace 7, held -> past retention
    _rec("call-service", "call_recordings", "r2", REC, "2024-12-01 00:00:00"),
    _rec("call-service", "call_recordings", "r3", REC, "2024-12-05 00:00:00", deleted_at="2025-03-05 00:00:00"),
    # age 98 -> bin 3; 8 days past > 7, but on legal hold: held, not counted past retention
    _rec("call-service", "call_recordings", "r4", REC, "2024-12-02 00:00:00", legal_hold=True),
    _rec("call-service", "call_recordings", "r5", REC, "2025-03-20 00:00:00"),  # created after as_of
    # age 30 -> bin 1 (30 // 30); the contract has not ended, so its clock has not started
    _rec("crm", "contacts", "c1", "user.name", "2025-02-08 00:00:00"),
]  # fmt: skip


def test_retention_ageing_curve(make_db, policy) -> None:
    con = make_db({"inventory_records": INVENTORY})
    out = run_query(con, "retention_ageing_curve", {"as_of": AS_OF, "age_bin_days": 30}, policy)
    assert out.rows() == [
        # system, store, category, bin, age from, records, held, past retention, period, grace, clock
        ("call-service", "call_recordings", REC, 0, 0, 1, 1, 0, 90, 7, "created_at"),
        ("call-service", "call_recordings", REC, 3, 90, 3, 2, 1, 90, 7, "created_at"),  # r2, r3, r4
        ("crm", "contacts", "user.name", 1, 30, 1, 1, 0, 90, 30, "contract_ended_at"),
    ]
