"""Hand-made contract rows for the query tests, with the defaults most tests share, so a test states only
what its case is about (conftest.build_db fills every other column with NULL)."""

from __future__ import annotations

PERSONAL_ACTIONS = ("read", "export")  # these touch a contact's email address; other actions touch no data


def audit_event(event_id: str, actor_id: str, at: str, action: str = "login", **fields: object) -> dict[str, object]:
    """An audit event of a support agent at `at` ('YYYY-MM-DD HH:MM:SS' UTC) that succeeded."""
    personal = action in PERSONAL_ACTIONS
    row: dict[str, object] = {
        "event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": actor_id,
        "actor_type": "employee", "actor_role": "support_agent", "action": action, "outcome": "success",
        "resource_type": "contact" if personal else None,
        "categories": ["user.contact.email"] if personal else [], "actor_timezone": "UTC",
    }  # fmt: skip
    return row | fields


def disclosure_event(event_id: str, recipient: str | None, **kw: object) -> dict[str, object]:
    """A successful share of 5 records of names by employee e1 to `recipient` on 2025-03-01 10:00 UTC; `at`,
    `action`, `outcome` and `records` (the record count) change it."""
    at = str(kw.pop("at", "2025-03-01 10:00:00"))
    return {"event_id": event_id, "occurred_at": at, "event_date": at[:10], "actor_id": "e1",
            "actor_type": "employee", "action": kw.pop("action", "share"), "outcome": kw.pop("outcome", "success"),
            "recipient": recipient, "record_count": kw.pop("records", 5), "categories": ["user.name"]} | kw  # fmt: skip


def directory_account(
    actor_id: str, status: str = "active", end_date: str | None = None, **fields: object
) -> dict[str, object]:
    """A support agent in the directory since 2023-01-01, with MFA on."""
    row: dict[str, object] = {"actor_id": actor_id, "actor_type": "employee", "role": "support_agent",
                              "status": status, "start_date": "2023-01-01", "end_date": end_date, "mfa_enabled": True}  # fmt: skip
    return row | fields


def dsr_request(
    request_id: str,
    jurisdiction: str,
    request_type: str,
    received: str,
    status: str = "open",
    completed: str | None = None,
    **fields: object,
) -> dict[str, object]:
    """A request of the DSR register from subject `s-<request_id>` (`fields` sets any other column, or overrides)."""
    row: dict[str, object] = {"request_id": request_id, "subject_id": "s-" + request_id, "jurisdiction": jurisdiction,
                              "request_type": request_type, "received_at": received, "completed_at": completed,
                              "status": status}  # fmt: skip
    return row | fields


def inventory_record(
    system: str, store: str, record_id: str, category: str, created: str, **fields: object
) -> dict[str, object]:
    """A record of the data inventory's snapshot of 2025-03-09 (`fields` sets any other column, or overrides)."""
    row: dict[str, object] = {"snapshot_at": "2025-03-09 00:00:00", "system": system, "store": store,
                              "record_id": record_id, "data_category": category, "created_at": created}  # fmt: skip
    return row | fields


def log_line(service: str, line_id: str, at: str, **fields: object) -> dict[str, object]:
    """An INFO line of `service`'s diagnostic log at `at` (`fields` sets any other column, or overrides)."""
    row: dict[str, object] = {"service": service, "line_id": line_id, "occurred_at": at, "level": "INFO"}
    return row | fields


def role_grant(
    event_id: str, at: str, grantor: str, grantor_role: str | None, grantee: str, role: str, **fields: object
) -> dict[str, object]:
    """An audit event: `grantor` (holding `grantor_role`) grants `role` to `grantee` at `at`."""
    grant = {"actor_role": grantor_role, "target_actor_id": grantee, "role": role} | fields
    return audit_event(event_id, grantor, at, "role_grant", **grant)


def finding_row(
    control_id: str, resource: str, status: str = "alarm", severity: str = "high", **fields: object
) -> dict[str, object]:
    """A row of the findings table: `control_id`'s verdict on `resource` in policy section 5, reason "r", with no
    observation time and no evidence (`fields` sets any other column, or overrides)."""
    row: dict[str, object] = {"control_id": control_id, "policy_section": "5", "resource": resource, "status": status,
                              "severity": severity, "reason": "r", "observed_at": None, "evidence": []}  # fmt: skip
    return row | fields
