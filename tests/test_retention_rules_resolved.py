"""retention_rules_resolved: the governing retention rule per (system, store, category), derived at ingest.

Rules used (data/policy/retention.yaml), plus one store rule added by hand below because the policy has
none: user.contact in billing/invoices, 365 days from created_at, no grace, then de-identify.
- user.contact.address in system billing: 2555 days (a system rule);
- user.contact: 90 days from contract_ended_at (a category rule);
- user.name in system billing: 2555 days from created_at, beating the category rule user.name (90 days);
- user.name in system privacy-ops: 730 days from created_at;
- user.content.private.call_recording: 90 days + 7 grace, nearer than user.content.private (730 days).
No rule covers user.biometric, nor user.name_alias (it starts with "user.name" but is not below it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
from rows import inventory_record

from compliance.ingest.derive import build_retention_rules
from compliance.ingest.load import ingest
from compliance.queries import run_query

STORE_RULE = {
    "data_category": "user.contact",
    "system_id": "billing",
    "store_id": "invoices",
    "period_days": 365,
    "clock": "created_at",
    "grace_days": 0,
    "action": "deidentify",
    "basis": "Hand-made store rule for this test.",
    "specificity": 3,
}


def _rec(system: str, store: str, record_id: str, category: str) -> dict[str, object]:
    return inventory_record(
        system, store, record_id, category, "2020-01-01 00:00:00", snapshot_at="2025-03-10 00:00:00"
    )


INVENTORY = [
    _rec("billing", "invoices", "a1", "user.contact.address"),
    _rec("billing", "archive", "a2", "user.contact.address"),
    _rec("billing", "invoices", "n1", "user.name"),
    _rec("crm", "contacts", "a3", "user.contact.address"),
    _rec("call-service", "call_recordings", "t1", "user.content.private.call_recording.transcript"),
    _rec("crm", "contacts", "b1", "user.biometric"),
    _rec("crm", "contacts", "b2", "user.biometric"),  # same key as b1: still one row
    _rec("crm", "contacts", "x1", "user.name_alias"),
]
COLS = ["rule_category", "rule_system", "rule_store", "specificity", "period_days", "clock", "grace_days", "action"]


def _rules(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str, str], tuple]:
    rows = con.sql(f"select system, store, data_category, {', '.join(COLS)} from retention_rules_resolved").fetchall()
    keys = [r[:3] for r in rows]
    assert len(keys) == len(set(keys)), "one row per (system, store, data_category)"
    return {r[:3]: r[3:] for r in rows}


def test_most_specific_rule_per_key(make_db) -> None:
    con = make_db({"ref_retention": [STORE_RULE], "inventory_records": INVENTORY})
    got = _rules(con)
    # The store rule beats the billing system rule on user.contact.address even though its key is shorter.
    assert got["billing", "invoices", "user.contact.address"] == (
        "user.contact", "billing", "invoices", 3, 365, "created_at", 0, "deidentify",
    )  # fmt: skip
    # Another billing store: the store rule does not apply, the system rule beats the category rule user.contact.
    assert got["billing", "archive", "user.contact.address"] == (
        "user.contact.address", "billing", None, 2, 2555, "created_at", 30, "delete",
    )  # fmt: skip
    assert got["billing", "invoices", "user.name"] == (
        "user.name", "billing", None, 2, 2555, "created_at", 30, "delete",
    )  # fmt: skip
    # Outside billing only the category rule of the nearest ancestor, user.contact, covers an address.
    assert got["crm", "contacts", "user.contact.address"] == (
        "user.contact", None, None, 1, 90, "contract_ended_at", 30, "delete",
    )  # fmt: skip
    # The nearest (longest) ancestor wins: call_recording, not user.content.private.
    assert got["call-service", "call_recordings", "user.content.private.call_recording.transcript"] == (
        "user.content.private.call_recording", None, None, 1, 90, "created_at", 7, "delete",
    )  # fmt: skip
    assert got["crm", "contacts", "user.biometric"] == (None,) * len(COLS)
    assert got["crm", "contacts", "user.name_alias"] == (None,) * len(COLS)
    # Keys the data map declares but the inventory does not hold are resolved too (retention_schedule_by_store
    # and datamap_matrix show their rule).
    assert got["privacy-ops", "dsr_cases", "user.name"] == (
        "user.name", "privacy-ops", None, 2, 730, "created_at", 30, "delete",
    )  # fmt: skip
    # 32 data-map entries (billing/invoices/user.contact.address and user.name among them) + 5 other keys.
    assert len(got) == 37
    # Rebuilding replaces the rows rather than adding to them.
    assert build_retention_rules(con) == 37


def test_control_uses_the_resolved_store_rule(make_db, policy) -> None:
    # Created 2020-01-01: the store rule (365 days) made it due 2020-12-31; the system rule (2555 days)
    # would not be due before 2026-12-29.
    con = make_db({"ref_retention": [STORE_RULE], "inventory_records": INVENTORY[:1]})
    out = run_query(con, "retention_record_past_retention", {"as_of": dt.date(2025, 3, 10)}, policy).to_dicts()
    assert [(r["resource"], r["status"], r["severity"]) for r in out] == [
        ("record:billing/invoices/a1", "alarm", "critical")
    ]
    assert "rule user.contact (store billing/invoices): 365 days from created_at 2020-01-01" in out[0]["reason"]


def test_ingest_builds_the_table(tmp_path: Path) -> None:
    inv = tmp_path / "export" / "inventory" / "records.csv"
    inv.parent.mkdir(parents=True)
    inv.write_text(
        "snapshot_at,system,store,record_id,subject_id,tenant_id,data_category,created_at,last_activity_at,"
        "contract_ended_at,deleted_at,deidentified_at,legal_hold\n"
        "2025-03-10T00:00:00Z,crm,contacts,r1,,,user.biometric,2024-01-01T00:00:00Z,,,,,false\n"
        "2025-03-10T00:00:00Z,billing,invoices,r2,,,user.name,2024-01-01T00:00:00Z,,,,,false\n"
    )
    db = tmp_path / "audit.duckdb"
    ingest([tmp_path / "export"], db, findings=False)
    with duckdb.connect(str(db), read_only=True) as con:
        got = _rules(con)
    assert got["crm", "contacts", "user.biometric"] == (None,) * len(COLS)
    assert got["billing", "invoices", "user.name"][:5] == ("user.name", "billing", None, 2, 2555)
    assert len(got) == 33  # the 32 data-map entries + crm/contacts/user.biometric
