"""erasure_request_records' erasure_status, each record's erasure verdict, on hand-made requests, records and one
backup store, as of 2025-03-10 with a 30-day grace (answers worked out by hand; test_model_erasure_requests covers
which records the model holds)."""

from __future__ import annotations

from erasure_case import BACKUP, PARAMS, record_of
from rows import dsr_request

from compliance.queries import run_query

REQUESTS = [
    # r1 completed 10 Jan at noon: its backup grace ends 9 Feb, over by as_of.
    dsr_request("r1", "EU", "delete", "2025-01-02 10:00:00", "completed", "2025-01-10 12:00:00"),
    # r2 completed 1 Mar at noon: its backup grace ends 31 Mar, not over by as_of.
    dsr_request("r2", "EU", "delete", "2025-02-20 10:00:00", "completed", "2025-03-01 12:00:00"),
]
RECORDS = [
    record_of("crm/s/a", "r1", deleted_at="2025-01-10 11:00:00"),  # primary, gone an hour before the completion
    record_of("crm/s/b", "r1", deleted_at="2025-01-10 13:00:00"),  # primary, gone an hour after it: the claim was false
    record_of("crm/s/c", "r1"),  # primary, never erased
    record_of("billing/s/d", "r1", legal_hold=True),  # primary under legal hold: the hold is not part of the status
    record_of("crm/backup/e", "r1", deidentified_at="2025-02-09 23:00:00"),  # backup, on the grace's last day
    record_of("crm/backup/f", "r1", deleted_at="2025-02-10 00:00:00"),  # backup, the day after the grace
    record_of("crm/backup/g", "r1"),  # backup, never erased, grace over
    record_of("crm/backup/h", "r2"),  # backup, not erased yet, grace running
    record_of("crm/backup/i", "r2", deleted_at="2025-03-05 00:00:00"),  # backup, erased within the grace
    record_of("crm/backup/j", "r2", deleted_at="2025-03-20 00:00:00"),  # backup, erased after as_of: not yet by then
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
