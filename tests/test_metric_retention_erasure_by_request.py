"""retention_erasure_by_request on a hand-made register and inventory, as of 2025-03-10 (answers worked out by
hand; the erasure grace is 30 days and legal hold exempts, per settings.yaml)."""

from __future__ import annotations

import datetime as dt

from erasure_case import AS_OF, INVENTORY, REGISTER

from compliance.queries import run_query


def test_retention_erasure_by_request(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER, "inventory_records": INVENTORY})
    out = run_query(con, "retention_erasure_by_request", {"as_of": AS_OF}, policy)
    D = dt.date
    columns = ["request_id", "completed_date", "grace_end_date", "records", "erased_within_grace",
               "erased_after_grace", "still_stored", "legal_hold", "systems", "days_to_last_erasure", "finding"]  # fmt: skip
    assert out.select(columns).rows() == [
        # r4: only a held record, never erased -> legal_hold
        ("r4", D(2025, 1, 5), D(2025, 2, 4), 1, 0, 0, 0, 1, 1, None, "legal_hold"),
        # r1: a in time, b late (last erasure 20 Feb = 41 days after completion), c stored, d held; 3 systems
        ("r1", D(2025, 1, 10), D(2025, 2, 9), 4, 1, 1, 1, 1, 3, 41, "incomplete"),
        ("r2", D(2025, 1, 20), D(2025, 2, 19), 1, 1, 0, 0, 0, 1, 0, "complete"),
        ("r8", D(2025, 2, 1), D(2025, 3, 3), 0, 0, 0, 0, 0, 0, None, "complete"),
        # r3: erased the day after it was marked completed: the claim was false, whatever the grace
        ("r3", D(2025, 3, 1), D(2025, 3, 31), 1, 0, 1, 0, 0, 1, 1, "incomplete"),
    ]
    # The verdicts are those of the control retention.erasure_incomplete.
    control = run_query(con, "retention_erasure_incomplete", {"as_of": AS_OF}, policy)
    statuses = {r["resource"]: r["status"] for r in control.to_dicts()}
    assert statuses == {"dsr:r1": "alarm", "dsr:r2": "ok", "dsr:r3": "alarm", "dsr:r4": "info", "dsr:r8": "ok"}
