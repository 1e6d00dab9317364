"""datamap.undeclared_category on hand-made events and records, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event, inventory_record

from tests.findings_support import assert_fields, verdicts

AS_OF = dt.date(2025, 3, 10)


def _event(event_id: str, at: str, categories: list[str]) -> dict:
    return audit_event(event_id, "e1", at, "read", categories=categories)


def test_datamap_undeclared_category(control_findings) -> None:
    tables = {
        "audit_events": [
            # user.contact.email is a declared leaf; user.biometric is declared nowhere.
            _event("e1", "2025-03-01 09:00:00", ["user.contact.email", "user.biometric"]),
            # user.contact is an ANCESTOR of declared leaves (a coarser exporter label): declared.
            _event("e2", "2025-03-02 10:00:00", ["user.contact"]),
            # A DESCENDANT of a declared leaf is finer than the map knows: undeclared.
            _event("e3", "2025-03-05 08:00:00", ["user.contact.email.work"]),
            # After the as-of date: not seen yet.
            _event("e4", "2025-03-20 08:00:00", ["user.genetic"]),
            # A non-data event has no categories.
            _event("e5", "2025-03-06 08:00:00", []),
        ],
        "inventory_records": [
            inventory_record("crm", "contacts", "r1", "user.contact.email", "2025-01-15 12:00:00"),
            inventory_record("legacy", "blobs", "r2", "user.biometric", "2024-12-01 07:30:00"),
        ],
    }  # fmt: skip
    rows = control_findings("datamap_undeclared_category", tables, as_of=AS_OF)
    assert verdicts(rows, "status", "severity", "evidence") == {
        # e1 (2025-03-01) and record r2 (created 2024-12-01); evidence newest first.
        "category:user.biometric": ("alarm", "high", ["e1", "legacy/blobs/r2"]),
        "category:user.contact": ("ok", "info", ["e2"]),
        # e1 and crm/contacts/r1 (created 2025-01-15).
        "category:user.contact.email": ("ok", "info", ["e1", "crm/contacts/r1"]),
        "category:user.contact.email.work": ("alarm", "high", ["e3"]),
    }
    assert_fields(
        rows,
        {
            "category:user.biometric": {
                "reason": (
                    "Data category user.biometric was observed in 1 audit events and 1 inventory records from "
                    "2024-12-01 to 2025-03-01, but no system of the data map declares it."
                ),
                "observed_at": dt.datetime(2025, 3, 1, 9, 0),
            },
            "category:user.contact": {
                # Systems whose stores hold a user.contact.* leaf in data_map.yaml.
                "reason": (
                    "Data category user.contact was observed in 1 audit events and 0 inventory records from 2025-03-02 "
                    "to 2025-03-02; the data map declares it for auth, billing, call-service, crm, privacy-ops, "
                    "support-desk."
                )
            },
        },
    )
    assert rows["category:user.contact.email"]["reason"].endswith(
        "; the data map declares it for auth, crm, privacy-ops, support-desk."
    )
