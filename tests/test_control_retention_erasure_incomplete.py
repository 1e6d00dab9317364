"""retention.erasure_incomplete on hand-made requests and records, as of 2025-03-10 with the 30-day
erasure grace of settings.yaml (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, subject_id: str, completed_at: str | None, request_type: str = "delete") -> dict[str, object]:
    return {
        "request_id": request_id, "subject_id": subject_id, "jurisdiction": "EU", "request_type": request_type,
        "received_at": "2024-11-15 09:00:00", "completed_at": completed_at,
        "status": "completed" if completed_at else "open",
    }  # fmt: skip


def _rec(key: str, subject_id: str, **kw: object) -> dict[str, object]:
    system, store, record_id = key.split("/")
    return {
        "snapshot_at": "2025-03-10 00:00:00", "system": system, "store": store, "record_id": record_id,
        "subject_id": subject_id, "data_category": "user.name", "created_at": "2024-06-01 00:00:00", **kw,
    }  # fmt: skip


def test_erasure_incomplete(make_db, policy) -> None:
    con = make_db(
        {
            "dsr_requests": [
                # Completed 10 Jan: grace ends 9 Feb, 29 days before as_of -> examined, high if incomplete.
                _req("del-late", "s1", "2025-01-10 12:00:00"),
                # Completed 1 Dec: grace ended 31 Dec, 69 days before as_of -> critical if incomplete.
                _req("del-old", "s2", "2024-12-01 12:00:00"),
                _req("del-ok", "s3", "2025-01-05 12:00:00"),
                # Completed 1 Mar: grace runs to 31 Mar -> ok although a record is still there.
                _req("del-grace", "s4", "2025-03-01 12:00:00"),
                _req("del-hold", "s5", "2025-01-01 12:00:00"),
                # Not completed deletes: not examined.
                _req("acc-1", "s6", "2025-01-01 12:00:00", request_type="access"),
                _req("del-open", "s7", None),
            ],
            "inventory_records": [
                _rec("crm/contacts/c1", "s1"),  # never erased: late, still stored
                _rec("call-service/call_records/cr1", "s1", deleted_at="2025-01-20 00:00:00"),  # in time
                _rec("support-desk/tickets/t1", "s1", deidentified_at="2025-02-20 00:00:00"),  # after 9 Feb: late
                _rec("billing/invoices/i1", "s1", legal_hold=True),  # kept under legal hold: excepted
                _rec("crm/contacts/c-new", "s1", created_at="2025-02-01 00:00:00"),  # created after: not covered
                _rec("crm/contacts/c2", "s2"),
                _rec("crm/contacts/c3", "s3", deleted_at="2025-01-06 00:00:00"),
                _rec("crm/contacts/c4", "s4"),
                _rec("billing/invoices/i5", "s5", legal_hold=True),
                _rec("crm/contacts/c6", "s6"),
                _rec("crm/contacts/c7", "s7"),
            ],
        }
    )  # fmt: skip
    out = run_query(con, "retention_erasure_incomplete", {"as_of": AS_OF}, policy)
    rows = {r["resource"]: r for r in out.to_dicts()}
    assert {k: (r["status"], r["severity"]) for k, r in rows.items()} == {
        "dsr:del-late": ("alarm", "high"),
        "dsr:del-old": ("alarm", "critical"),
        "dsr:del-ok": ("ok", "info"),
        "dsr:del-grace": ("ok", "info"),
        "dsr:del-hold": ("info", "info"),
    }
    late = rows["dsr:del-late"]
    # 4 records existed at completion (c-new came later); c1 and t1 missed the 9 Feb grace end, i1 is on hold.
    assert late["reason"] == (
        "Delete request del-late (EU, subject s1) completed 2025-01-10, but 2 of the subject's 4 record(s) in crm,"
        " support-desk were not deleted or de-identified by the end of the 30-day grace on 2025-02-09 (1 still stored"
        " as of 2025-03-10); 1 record(s) kept under legal hold are excepted; high: within 30 days past the grace."
    )
    assert late["evidence"] == ["billing/invoices/i1", "crm/contacts/c1", "support-desk/tickets/t1"]
    assert late["observed_at"] == dt.datetime(2025, 2, 9)
    assert "legal hold" in rows["dsr:del-hold"]["reason"]
    assert rows["dsr:del-grace"]["reason"] == (
        "Delete request del-grace (EU, subject s4) completed 2025-03-01; the 30-day grace for its 1 record(s) runs"
        " to 2025-03-31, not yet over as of 2025-03-10."
    )
    assert rows["dsr:del-ok"]["evidence"] == ["del-ok"]
