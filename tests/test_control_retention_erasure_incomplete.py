"""retention.erasure_incomplete on hand-made requests and records, as of 2025-03-10 with the 30-day
erasure grace of settings.yaml, which applies to backup stores only (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml
from conftest import build_db
from rows import dsr_request, inventory_record

from compliance.config.bundle import Policy, load_policy
from compliance.paths import POLICY_DIR
from compliance.queries import run_query
from tests.findings_support import assert_fields

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, subject_id: str, completed_at: str | None, request_type: str = "delete") -> dict[str, object]:
    status = "completed" if completed_at else "open"
    return dsr_request(
        request_id, "EU", request_type, "2024-11-15 09:00:00", status, completed_at, subject_id=subject_id
    )


def _rec(key: str, subject_id: str, **kw: object) -> dict[str, object]:
    system, store, record_id = key.split("/")
    fields = {"snapshot_at": "2025-03-10 00:00:00", "subject_id": subject_id} | kw
    return inventory_record(system, store, record_id, "user.name", "2024-06-01 00:00:00", **fields)


@pytest.fixture(scope="module")
def backup_policy(tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """The repository's policy with one backup store added to the CRM (data map `backup: true`)."""
    root = tmp_path_factory.mktemp("policy") / "policy"
    shutil.copytree(POLICY_DIR, root)
    data_map = yaml.safe_load((root / "data_map.yaml").read_text(encoding="utf-8"))
    crm = next(s for s in data_map["systems"] if s["id"] == "crm")
    crm["stores"].append({"id": "contacts_backup", "kind": "bucket", "backup": True, "data_categories": ["user.name"]})
    (root / "data_map.yaml").write_text(yaml.safe_dump(data_map, sort_keys=False), encoding="utf-8")
    return load_policy(root)


def test_erasure_incomplete(backup_policy: Policy) -> None:
    policy = backup_policy
    con = build_db(
        policy,
        {
            "dsr_requests": [
                # Completed 10 Jan: 59 days before as_of.
                _req("del-late", "s1", "2025-01-10 12:00:00"),
                # Completed 1 Mar; its record was deleted the next day: the claim was false, though it is gone now.
                _req("del-after", "s2", "2025-03-01 12:00:00"),
                _req("del-ok", "s3", "2025-01-05 12:00:00"),
                # Completed 1 Mar: the backup grace runs to 31 Mar -> ok although a backup record is still there.
                _req("del-grace", "s4", "2025-03-01 12:00:00"),
                _req("del-hold", "s5", "2025-01-01 12:00:00"),
                # Completed 1 Jan: the backup grace ended 31 Jan; its backup record went 15 Feb (38 days past).
                _req("del-backup-late", "s8", "2025-01-01 12:00:00"),
                # Not completed deletes: not examined.
                _req("acc-1", "s6", "2025-01-01 12:00:00", request_type="access"),
                _req("del-open", "s7", None),
            ],
            "inventory_records": [
                _rec("crm/contacts/c1", "s1"),  # never erased: the claim was false, still stored
                _rec("call-service/call_records/cr1", "s1", deleted_at="2025-01-10 08:00:00"),  # before completion
                _rec("support-desk/tickets/t1", "s1", deidentified_at="2025-02-20 00:00:00"),  # after completion
                _rec("billing/invoices/i1", "s1", legal_hold=True),  # kept under legal hold: excepted
                _rec("crm/contacts/c-new", "s1", created_at="2025-02-01 00:00:00"),  # created after: not covered
                _rec("crm/contacts/c2", "s2", deleted_at="2025-03-02 09:00:00"),
                _rec("crm/contacts/c3", "s3", deleted_at="2025-01-05 11:00:00"),
                _rec("crm/contacts_backup/b3", "s3", deleted_at="2025-01-20 00:00:00"),  # within the backup grace
                _rec("crm/contacts/c4", "s4", deleted_at="2025-03-01 10:00:00"),
                _rec("crm/contacts_backup/b4", "s4"),
                _rec("billing/invoices/i5", "s5", legal_hold=True),
                _rec("crm/contacts/c8", "s8", deleted_at="2024-12-31 10:00:00"),
                _rec("crm/contacts_backup/b8", "s8", deleted_at="2025-02-15 00:00:00"),
                _rec("crm/contacts/c6", "s6"),
                _rec("crm/contacts/c7", "s7"),
            ],
        },
    )  # fmt: skip
    out = run_query(con, "retention_erasure_incomplete", {"as_of": AS_OF}, policy)
    per_request = run_query(con, "retention_erasure_by_request", {"as_of": AS_OF}, policy)
    con.close()
    # The per-request metric judges the backup grace the same way.
    assert dict(per_request.select("request_id", "finding").iter_rows()) == {
        "del-late": "incomplete", "del-after": "incomplete", "del-ok": "complete", "del-grace": "in_grace",
        "del-hold": "legal_hold", "del-backup-late": "incomplete",
    }  # fmt: skip
    rows = {r["resource"]: r for r in out.to_dicts()}
    assert {k: (r["status"], r["severity"]) for k, r in rows.items()} == {
        "dsr:del-late": ("alarm", "critical"),
        "dsr:del-after": ("alarm", "high"),
        "dsr:del-ok": ("ok", "info"),
        "dsr:del-grace": ("ok", "info"),
        "dsr:del-hold": ("info", "info"),
        "dsr:del-backup-late": ("alarm", "critical"),
    }
    assert_fields(
        rows,
        {
            "dsr:del-late": {
                # 4 records existed at completion (c-new came later): c1 and t1 were not erased by then, i1 is on hold.
                "reason": (
                    "Delete request del-late (EU, subject s1) completed 2025-01-10 12:00:00, but 2 of the subject's 4 "
                    "record(s) in crm, support-desk were not deleted or de-identified by then, so the completion claim "
                    "was false (1 erased afterwards, 1 still stored as of 2025-03-10); 1 record(s) kept under legal "
                    "hold are excepted; critical: still stored over 30 days after the claim."
                ),
                "evidence": ["billing/invoices/i1", "crm/contacts/c1", "support-desk/tickets/t1"],
                "observed_at": dt.datetime(2025, 1, 10, 12),
            },
            "dsr:del-grace": {
                "reason": (
                    "Delete request del-grace (EU, subject s4) completed 2025-03-01 12:00:00; its primary stores were "
                    "erased by then, and the 30-day backup grace for 1 backup record(s) runs to 2025-03-31, not yet "
                    "over as of 2025-03-10."
                )
            },
            "dsr:del-ok": {"evidence": ["del-ok"]},
        },
    )
    assert "(1 erased afterwards, 0 still stored as of 2025-03-10)" in rows["dsr:del-after"]["reason"]
    assert "legal hold" in rows["dsr:del-hold"]["reason"]
    assert "1 of the subject's 2 record(s) in backups of crm" in rows["dsr:del-backup-late"]["reason"]
    assert rows["dsr:del-backup-late"]["evidence"] == ["crm/contacts_backup/b8"]
