"""erasure_requests and erasure_request_records on a hand-made register and inventory, as of 2025-03-10 (answers
worked out by hand; grace 30 days; none of the stores `s` is a backup in the data map)."""

from __future__ import annotations

import datetime as dt

from erasure_case import INVENTORY, PARAMS, REGISTER

from compliance.queries import run_query


def test_erasure_requests(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "erasure_requests", PARAMS, policy).sort("request_id")
    D = dt.date
    assert out.select("request_id", "completed_date", "grace_end_date").rows() == [
        ("r1", D(2025, 1, 10), D(2025, 2, 9)),
        ("r2", D(2025, 1, 20), D(2025, 2, 19)),
        ("r3", D(2025, 3, 1), D(2025, 3, 31)),
        ("r4", D(2025, 1, 5), D(2025, 2, 4)),
        ("r8", D(2025, 2, 1), D(2025, 3, 3)),
    ]  # r5 open, r6 an access request, r7 completed after as_of


def test_erasure_request_records(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER, "inventory_records": INVENTORY})
    out = run_query(con, "erasure_request_records", PARAMS, policy).sort("request_id", "record_key")
    T = dt.datetime
    assert out.select("request_id", "record_key", "is_backup", "is_held", "erased_at").rows() == [
        ("r1", "billing/s/d", False, True, None),
        ("r1", "call-service/s/c", False, False, None),
        ("r1", "crm/s/a", False, False, T(2025, 1, 10, 11)),
        ("r1", "crm/s/b", False, False, T(2025, 2, 20)),
        ("r2", "crm/s/f", False, False, T(2025, 1, 20, 9)),
        ("r3", "crm/s/g", False, False, T(2025, 3, 2)),
        ("r4", "crm/s/h", False, True, None),
    ]  # crm/s/e was created after r1 completed: new data
