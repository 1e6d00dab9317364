"""erasure_request_verdicts on hand-made delete requests, one per verdict, with one backup store, as of 2025-03-10
with a 30-day grace (answers worked out by hand from each record's erasure_status, which
test_model_erasure_request_records covers)."""

from __future__ import annotations

import datetime as dt

from erasure_case import BACKUP, PARAMS, record_of
from rows import dsr_request

from compliance.queries import run_query


def _deleted(request_id: str, completed: str) -> dict[str, object]:
    return dsr_request(request_id, "EU", "delete", "2024-12-20 10:00:00", "completed", completed)


REQUESTS = [
    _deleted("v1", "2025-01-10 12:00:00"),  # backup grace ended 9 Feb
    _deleted("v2", "2025-01-10 12:00:00"),
    _deleted("v3", "2025-03-01 12:00:00"),  # backup grace runs to 31 Mar
    _deleted("v4", "2025-01-05 12:00:00"),
    _deleted("v5", "2025-02-01 12:00:00"),  # the subject has no records
    _deleted("v6", "2025-01-05 12:00:00"),
]
RECORDS = [
    record_of("crm/s/a", "v1"),  # false_claim, still stored
    record_of("crm/s/j", "v1", deidentified_at="2025-01-20 00:00:00"),  # false_claim, erased later
    record_of("crm/backup/b", "v1"),  # backup_late, still stored
    record_of("billing/s/c", "v1", legal_hold=True),  # not erased, but held: excepted
    record_of("crm/s/d", "v2", deleted_at="2025-01-10 11:00:00"),  # in_time
    record_of("crm/backup/e", "v2", deleted_at="2025-02-15 00:00:00"),  # backup_late, erased later
    record_of("crm/s/g", "v3", deleted_at="2025-03-01 10:00:00"),  # in_time
    record_of("crm/backup/f", "v3"),  # in_grace
    record_of("billing/s/h", "v4", legal_hold=True),  # only a held record left
    record_of("crm/s/i", "v6", deleted_at="2025-01-05 09:00:00"),  # in_time
]


def test_erasure_request_verdicts(make_db, policy) -> None:
    con = make_db({"dsr_requests": REQUESTS, "inventory_records": RECORDS, "ref_data_map": [BACKUP]})
    out = run_query(con, "erasure_request_verdicts", PARAMS, policy).sort("request_id")
    counts = ["records", "erased_in_time", "false_claims", "false_claims_erased_later", "backups_late",
              "backups_in_grace", "legal_hold", "erased_late", "still_stored", "systems"]  # fmt: skip
    D = dt.date
    assert out.select("request_id", *counts, "late_systems", "remaining_keys", "last_erased_date", "verdict").rows() == [
        # a and j not erased by the completion (false claims, j erased later), b past the grace, c held
        ("v1", 4, 0, 2, 1, 1, 0, 1, 1, 2, 2, "crm", ["billing/s/c", "crm/backup/b", "crm/s/a", "crm/s/j"],
         D(2025, 1, 20), "false_claim"),
        # d in time; the backup e erased 6 days after its grace ended
        ("v2", 2, 1, 0, 0, 1, 0, 0, 1, 0, 1, "crm", ["crm/backup/e"], D(2025, 2, 15), "backup_late"),
        # g in time; the backup f not erased yet, inside its grace: still stored, no alarm yet
        ("v3", 2, 1, 0, 0, 0, 1, 0, 0, 1, 1, None, None, D(2025, 3, 1), "in_grace"),
        # only h, held, is left
        ("v4", 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, None, ["billing/s/h"], None, "legal_hold"),
        ("v5", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, None, None, None, "complete"),  # nothing to erase
        ("v6", 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, None, None, D(2025, 1, 5), "complete"),
    ]  # fmt: skip
