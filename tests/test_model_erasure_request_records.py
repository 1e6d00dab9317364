"""erasure_request_records' erasure_status, each record's erasure verdict, on hand-made requests, records and one
backup store, as of 2025-03-10 with a 30-day grace (answers worked out by hand; test_model_erasure_requests covers
which records the model holds)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query

PARAMS = {"as_of": dt.date(2025, 3, 10), "retention_erasure_grace_days": 30, "retention_legal_hold_exempts": True}
# The store `backup` of the CRM is a backup in the data map; every other store is a primary store.
BACKUP = {"system_id": "crm", "store_id": "backup", "is_backup": True, "data_category": "user.name"}


def _record(key: str, request_id: str, **kw: object) -> dict[str, object]:
    system, store, record_id = key.split("/")
    return {"snapshot_at": "2025-03-10 00:00:00", "system": system, "store": store, "record_id": record_id,
            "subject_id": "s-" + request_id, "data_category": "user.name", "created_at": "2024-06-01 00:00:00"} | kw  # fmt: skip


REQUESTS = [
    # r1 completed 10 Jan at noon: its backup grace ends 9 Feb, over by as_of.
    dsr_request("r1", "EU", "delete", "2025-01-02 10:00:00", "completed", "2025-01-10 12:00:00"),
    # r2 completed 1 Mar at noon: its backup grace ends 31 Mar, not over by as_of.
    dsr_request("r2", "EU", "delete", "2025-02-20 10:00:00", "completed", "2025-03-01 12:00:00"),
]
RECORDS = [
    _record("crm/s/a", "r1", deleted_at="2025-01-10 11:00:00"),  # primary, gone an hour before the completion
    _record("crm/s/b", "r1", deleted_at="2025-01-10 13:00:00"),  # primary, gone an hour after it: the claim was false
    _record("crm/s/c", "r1"),  # primary, never erased
    _record("billing/s/d", "r1", legal_hold=True),  # primary under legal hold: the hold is not part of the status
    _record("crm/backup/e", "r1", deidentified_at="2025-02-09 23:00:00"),  # backup, on the grace's last day
    _record("crm/backup/f", "r1", deleted_at="2025-02-10 00:00:00"),  # backup, the day after the grace
    _record("crm/backup/g", "r1"),  # backup, never erased, grace over
    _record("crm/backup/h", "r2"),  # backup, not erased yet, grace running
    _record("crm/backup/i", "r2", deleted_at="2025-03-05 00:00:00"),  # backup, erased within the grace
    _record("crm/backup/j", "r2", deleted_at="2025-03-20 00:00:00"),  # backup, erased after as_of: not yet by then
]


def test_erasure_status(make_db, policy) -> None:
    con = make_db({"dsr_requests": REQUESTS, "inventory_records": RECORDS, "ref_data_map": [BACKUP]})
    out = run_query(con, "erasure_request_records", PARAMS, policy).sort("record_key")
    assert out.select("record_key", "is_backup", "is_held", "erasure_status").rows() == [
        ("billing/s/d", False, True, "false_claim"),
        ("crm/backup/e", True, False, "in_time"),
        ("crm/backup/f", True, False, "backup_late"),
        ("crm/backup/g", True, False, "backup_late"),
        ("crm/backup/h", True, False, "in_grace"),
        ("crm/backup/i", True, False, "in_time"),
        ("crm/backup/j", True, False, "in_grace"),
        ("crm/s/a", False, False, "in_time"),
        ("crm/s/b", False, False, "false_claim"),
        ("crm/s/c", False, False, "false_claim"),
    ]
