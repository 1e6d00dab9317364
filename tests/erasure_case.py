"""A hand-made DSR register and inventory shared by the erasure tests (the models erasure_requests and
erasure_request_records, and the metric retention_erasure_by_request that reads them), as of 2025-03-10.
A helper module, not a test module, so no test file imports another."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request, inventory_record

AS_OF = dt.date(2025, 3, 10)
# The settings every erasure test runs with: a 30-day grace for backups, records under legal hold exempt.
PARAMS = {"as_of": AS_OF, "retention_erasure_grace_days": 30, "retention_legal_hold_exempts": True}
# The store `backup` of the CRM is a backup in the data map; every other store is a primary store.
BACKUP = {"system_id": "crm", "store_id": "backup", "is_backup": True, "data_category": "user.name"}


def record_of(key: str, request_id: str, **kw: object) -> dict[str, object]:
    """An inventory record `system/store/record_id` of the request's subject s-<request id>, holding user.name since
    2024-06-01 (long before any request here), in the snapshot of 2025-03-10 (`kw` sets any other column)."""
    system, store, record_id = key.split("/")
    return {"snapshot_at": "2025-03-10 00:00:00", "system": system, "store": store, "record_id": record_id,
            "subject_id": "s-" + request_id, "data_category": "user.name", "created_at": "2024-06-01 00:00:00"} | kw  # fmt: skip


def _req(request_id: str, subject: str, completed: str | None, *, kind: str = "delete", status: str = "completed"):
    return dsr_request(request_id, "EU", kind, "2025-01-02 10:00:00", status, completed, subject_id=subject)


def _rec(record_id: str, subject: str, system: str, created: str = "2024-06-01 00:00:00", **kw) -> dict:
    return inventory_record(system, "s", record_id, "user.name", created, subject_id=subject, **kw)


REGISTER = [
    _req("r1", "s1", "2025-01-10 12:00:00"),
    _req("r2", "s2", "2025-01-20 12:00:00"),
    _req("r3", "s3", "2025-03-01 12:00:00"),
    _req("r4", "s4", "2025-01-05 12:00:00"),
    _req("r8", "s8", "2025-02-01 12:00:00"),  # the subject has no records
    _req("r5", "s5", None, status="open"),  # not completed: left out
    _req("r6", "s6", "2025-01-10 12:00:00", kind="access"),  # not a deletion: left out
    _req("r7", "s7", "2025-03-15 12:00:00"),  # completed after as_of: left out
]
# None of these stores is a backup in the data map: a record must be gone when the request is marked completed
# (the erasure grace applies to backups only; test_control_retention_erasure_incomplete covers backups).
INVENTORY = [
    _rec("a", "s1", "crm", deleted_at="2025-01-10 11:00:00"),  # before the completion: in time
    _rec("b", "s1", "crm", deidentified_at="2025-02-20 00:00:00"),  # 41 days after the completion: late
    _rec("c", "s1", "call-service"),  # never erased
    _rec("d", "s1", "billing", legal_hold=True),  # kept under legal hold: excepted
    _rec("e", "s1", "crm", created="2025-01-15 00:00:00"),  # created after the request completed: new data
    _rec("f", "s2", "crm", deleted_at="2025-01-20 09:00:00"),
    _rec("g", "s3", "crm", deleted_at="2025-03-02 00:00:00"),  # the day after the completion: late
    _rec("h", "s4", "crm", legal_hold=True),
]
