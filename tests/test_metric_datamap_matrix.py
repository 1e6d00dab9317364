"""datamap_matrix over the repository's policy files plus a few hand-made events, as of 2025-03-10.

Expected rows worked out by hand from data_map.yaml, policy_map.yaml, retention.yaml and recipients.yaml.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from rows import audit_event, inventory_record

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
ALL_JURISDICTIONS = "AU, EU, UK, US-CA, US-CO, US-CT, US-OTHER, US-TX, US-VA"


def _event(event_id: str, at: str, system: str | None, categories: list[str], purpose: str | None) -> dict:
    return audit_event(event_id, "e1", at, "read", system=system, categories=categories, purpose=purpose)


def test_datamap_matrix(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _event("m1", "2025-03-01 10:00:00", "crm", ["user.contact.email", "user.name"], "essential.service.operations.support"),
                # No system: resource_type contact is crm's.
                _event("m2", "2025-03-02 10:00:00", None, ["user.contact.email"], "essential.service"),
                _event("m3", "2025-03-03 10:00:00", "crm", ["user.biometric"], None),  # declared nowhere
                _event("m4", "2025-03-20 10:00:00", "crm", ["user.contact.email"], "essential.service"),  # after as_of
            ],
            "inventory_records": [
                inventory_record("crm", "contacts", "r1", "user.contact.email", "2025-01-15 00:00:00"),
                inventory_record("legacy", "blobs", "r2", "user.genetic", "2025-01-15 00:00:00"),
            ],
        }
    )  # fmt: skip
    out = run_query(con, "datamap_matrix", {"as_of": AS_OF}, policy)

    # crm declares 5 categories, 3 uses and sections 2, 3, 4, 6: 5 x 3 x 4 rows.
    assert out.filter(pl.col("declared") & (pl.col("system_id") == "crm")).height == 60

    email = out.filter(
        (pl.col("policy_section") == "2")
        & (pl.col("system_id") == "crm")
        & (pl.col("data_category") == "user.contact.email")
    )
    account = "Account details (name, email, role, authentication signals)"
    common = ("2", "crm", "contacts", "user.contact.email", account)
    # retention: rule user.contact (90 days from contract end, delete); recipients: crm's aws covers `user`.
    # observed: m1 and m2 touch crm's user.contact.email; by use, essential.service covers m1's purpose too.
    assert email.rows() == [
        (*common, "essential.legal_obligation", "Compliance with legal obligations", "legal_obligation",
         ALL_JURISDICTIONS, 90, "contract_ended_at", "delete", "aws (dpf)", True, 2, 0, 1),
        (*common, "essential.service", "Provide, maintain, and improve the Services", "contract",
         ALL_JURISDICTIONS, 90, "contract_ended_at", "delete", "aws (dpf)", True, 2, 2, 1),
        (*common, "essential.service.operations.support", "Customer support and service communications", "contract",
         ALL_JURISDICTIONS, 90, "contract_ended_at", "delete", "aws (dpf)", True, 2, 1, 1),
    ]  # fmt: skip

    # call recordings go to aws (user) and twilio (call_recording listed): both mechanisms shown.
    recording = out.filter((pl.col("data_category") == "user.content.private.call_recording") & pl.col("declared"))
    assert set(recording["recipients"]) == {"aws (dpf), twilio (sccs)"}
    assert set(recording["retention_period_days"]) == {90}

    # Analytics reporting: consent in EU/UK, legitimate interests elsewhere -> two rows per category and section.
    analytics = out.filter(
        (pl.col("policy_section") == "4") & (pl.col("data_category") == "user.device.device_id")
        & (pl.col("data_use") == "analytics.reporting")
    )  # fmt: skip
    assert analytics.select("legal_basis", "jurisdictions").rows() == [
        ("consent", "EU, UK"),
        ("legitimate_interests", "AU, US-CA, US-CO, US-CT, US-OTHER, US-TX, US-VA"),
    ]

    undeclared = out.filter(~pl.col("declared")).select(
        "system_id", "data_category", "policy_section", "data_use", "observed_events", "inventory_records"
    )
    assert undeclared.rows() == [
        ("crm", "user.biometric", None, None, 1, 0),
        ("legacy", "user.genetic", None, None, 0, 1),
    ]
