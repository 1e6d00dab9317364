"""retention.record_past_retention on a hand-made inventory, as of 2025-03-10 (answers worked out by hand).

Rules used (data/policy/retention.yaml): call recordings 90 days from created_at + 7 grace; user.contact
90 days from contract_ended_at + 30 grace; user.name in system billing 2555 days from created_at (beats
the category rule user.name, 90 days from contract end); user.content.private 730 days from
last_activity_at + 30 grace.
"""

from __future__ import annotations

import datetime as dt

from rows import inventory_record

from compliance.queries import run_query
from tests.findings_support import alarm, assert_findings, finding, ok

AS_OF = dt.date(2025, 3, 10)


def _record(system: str, store: str, record_id: str, category: str, created: str, **kw: object) -> dict[str, object]:
    """A record of the inventory snapshot taken on as_of."""
    return inventory_record(system, store, record_id, category, created, snapshot_at="2025-03-10 00:00:00", **kw)


def _rec(record_id: str, created: str, **kw: object) -> dict[str, object]:
    """A call recording."""
    return _record("call-service", "call_recordings", record_id, "user.content.private.call_recording", created, **kw)


def test_record_past_retention(control_findings) -> None:
    tables = {
        "inventory_records": [
            # Created 2024-11-01 + 90 days = due 2025-01-30; 39 days past due on 10 Mar, grace 7:
            # alarm, 32 days beyond the grace (> 30) -> critical.
            _rec("rec-old", "2024-11-01 08:00:00"),
            # Created 2024-12-01 -> due 2025-03-01, 9 days past (> 7 grace, 2 beyond it) -> alarm high.
            _rec("rec-mid", "2024-12-01 08:00:00"),
            # Created 2024-12-05 -> due 2025-03-05, 5 days past, within the 7-day grace -> ok.
            _rec("rec-grace", "2024-12-05 08:00:00"),
            # Deleted before as_of -> ok.
            _rec("rec-deleted", "2024-11-01 08:00:00", deleted_at="2025-02-01 03:00:00"),
            # Deleted only after as_of: on 10 Mar it was still held -> alarm critical like rec-old.
            _rec("rec-deleted-later", "2024-11-01 08:00:00", deleted_at="2025-03-20 03:00:00"),
            # Past retention like rec-old but on legal hold -> info.
            _rec("rec-hold", "2024-11-01 08:00:00", legal_hold=True),
            # Created after as_of: did not exist on 10 Mar -> not examined.
            _rec("rec-future", "2025-03-15 08:00:00"),
            # Contract not ended: the clock has not started -> ok.
            _record("crm", "contacts", "c-active", "user.contact.email", "2020-01-01 00:00:00"),
            # Contract ended 2024-10-01 + 90 = due 2024-12-30; 70 days past, grace 30, 40 beyond -> critical.
            _record("crm", "contacts", "c-ended", "user.contact.email", "2020-01-01 00:00:00",
                    contract_ended_at="2024-10-01 00:00:00"),
            # Billing names: the system rule (2555 days from created 2020-01-01 = due 2026-12-30) wins over
            # the category rule (which would have run from the 2023 contract end) -> ok, 660 days to go.
            _record("billing", "invoices", "inv-1", "user.name", "2020-01-01 00:00:00",
                    contract_ended_at="2023-01-01 00:00:00"),
            # Support ticket never active since creation: the clock runs from created 2022-01-01, due
            # 2024-01-01 (730 days), 434 days past as of 10 Mar 2025 -> critical.
            _record("support-desk", "tickets", "t-1", "user.content.private", "2022-01-01 00:00:00"),
            # No rule covers user.biometric -> alarm medium.
            _record("crm", "contacts", "c-bio", "user.biometric", "2024-01-01 00:00:00"),
        ]
    }  # fmt: skip
    rows = control_findings("retention_record_past_retention", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "record:call-service/call_recordings/rec-old": alarm(
                "critical",
                reason="Record call-service/call_recordings/rec-old (user.content.private.call_recording) is 39 days past "
                "its retention due date 2025-01-30 as of 2025-03-10 and neither deleted nor de-identified; rule "
                "user.content.private.call_recording: 90 days from created_at 2024-11-01, grace 7 days, then "
                "delete; critical: over 30 days beyond the grace.",
                observed_at=dt.datetime(2025, 1, 30),
                evidence=["call-service/call_recordings/rec-old"],
            ),
            "record:call-service/call_recordings/rec-mid": alarm("high"),
            "record:call-service/call_recordings/rec-grace": ok(),
            "record:call-service/call_recordings/rec-deleted": ok(),
            "record:call-service/call_recordings/rec-deleted-later": alarm("critical"),
            "record:call-service/call_recordings/rec-hold": finding("info", "info"),
            "record:crm/contacts/c-active": ok(),
            "record:crm/contacts/c-ended": alarm("critical"),
            "record:billing/invoices/inv-1": ok(),
            "record:support-desk/tickets/t-1": alarm("critical"),
            "record:crm/contacts/c-bio": alarm("medium"),
        },
    )
    assert rows["record:crm/contacts/c-bio"]["reason"].startswith(
        "Record crm/contacts/c-bio (user.biometric): no retention rule covers category user.biometric"
    )
    assert "legal hold" in rows["record:call-service/call_recordings/rec-hold"]["reason"]
    assert (
        "user.name (system billing): 2555 days from created_at 2020-01-01"
        in rows["record:billing/invoices/inv-1"]["reason"]
    )
    assert "660 days to go" in rows["record:billing/invoices/inv-1"]["reason"]
    assert "434 days past its retention due date 2024-01-01" in rows["record:support-desk/tickets/t-1"]["reason"]
    assert (
        "last_activity_at 2022-01-01 (creation, no activity since)" in rows["record:support-desk/tickets/t-1"]["reason"]
    )


def test_legal_hold_not_exempt_when_settings_say_so(make_db, policy) -> None:
    con = make_db({"inventory_records": [_rec("rec-hold", "2024-11-01 08:00:00", legal_hold=True)]})
    out = run_query(
        con, "retention_record_past_retention", {"as_of": AS_OF, "retention_legal_hold_exempts": False}, policy
    )
    row = out.row(0, named=True)
    assert (row["status"], row["severity"]) == ("alarm", "critical")
    assert "legal hold does not exempt it" in row["reason"]
