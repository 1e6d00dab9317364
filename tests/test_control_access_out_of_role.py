"""access.out_of_role on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Role matrix (data/policy/roles.yaml): support_agent may read/search/update/create user.name, user.contact,
user.account.username, user.content.private, user.behavior.call_activity; customer_user may read, search,
create, update, delete, export user.name, user.contact, user.job_title, user.behavior.call_activity,
user.content.private, user.account; svc_call_pipeline may create/update/read/delete/deidentify/share call data.
A granted category covers its descendants (user.contact covers user.contact.email).
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def _ev(event_id: str, actor_id: str, at: str, role: str | None, action: str, cats: list[str], **kw: object):
    """An action of a `role` on one contact record holding `cats`."""
    fields = {"actor_role": role, "resource_type": "contact", "categories": cats, "record_count": 1} | kw
    return audit_event(event_id, actor_id, at, action, **fields)


def test_access_out_of_role(control_findings) -> None:
    contact = ["user.contact.email", "user.name"]
    rows = [
        # emp-a, support_agent: a contact read is permitted ...
        _ev("a-read", "emp-a", "2025-03-03 09:00:00", "support_agent", "read", contact),
        # ... but on 4 Mar an export (support_agent may not export at all: both categories denied) and a read
        # of an invoice (user.financial is not granted; user.name is) -> one alarm for the day, high.
        _ev("a-export", "emp-a", "2025-03-04 09:00:00", "support_agent", "export", contact, record_count=40,
            recipient="google.com"),
        _ev("a-invoice", "emp-a", "2025-03-04 08:00:00", "support_agent", "read", ["user.financial", "user.name"],
            resource_type="invoice"),
        # emp-b, support_agent: descendants of granted categories with permitted actions -> ok.
        _ev("b-read", "emp-b", "2025-03-03 09:00:00", "support_agent", "read", ["user.contact.email"]),
        _ev("b-update", "emp-b", "2025-03-04 09:00:00", "support_agent", "update", ["user.account.username"],
            resource_type="account"),
        # ... a denied export, a login and an event after as_of are not examined.
        _ev("b-denied", "emp-b", "2025-03-05 09:00:00", "support_agent", "export", contact, outcome="denied"),
        _ev("b-login", "emp-b", "2025-03-05 08:00:00", "support_agent", "login", [], resource_type=None),
        _ev("b-future", "emp-b", "2025-03-11 09:00:00", "support_agent", "export", contact),
        # cu-1, customer user whose role the enrichment left empty: treated as customer_user -> permitted -> ok.
        _ev("cu1-read", "cu-1", "2025-03-03 09:00:00", None, "read", ["user.contact.email"],
            actor_type="customer_user"),
        # cu-2, customer_user reading credentials: user.authorization is not granted -> alarm high.
        _ev("cu2-creds", "cu-2", "2025-03-05 09:00:00", "customer_user", "read", ["user.authorization.credentials"],
            actor_type="customer_user", resource_type="account"),
        # ghost: an employee with no known role (not in the directory) -> alarm medium.
        _ev("ghost-read", "ghost", "2025-03-06 09:00:00", None, "read", ["user.contact.email"]),
        # svc-pipe, svc_call_pipeline: reading call activity is permitted, exporting recordings is not -> high.
        _ev("svc-read", "svc-pipe", "2025-03-07 01:00:00", "svc_call_pipeline", "read",
            ["user.behavior.call_activity"], actor_type="service", resource_type="call_record"),
        _ev("svc-export", "svc-pipe", "2025-03-07 02:00:00", "svc_call_pipeline", "export",
            ["user.content.private.call_recording"], actor_type="service", resource_type="call_recording",
            record_count=300, recipient="aws"),
    ]  # fmt: skip
    by = control_findings("access_out_of_role", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-a@2025-03-04": alarm(
                "high",
                reason="emp-a used personal data beyond what their role permits on 2025-03-04: export of "
                "user.contact.email, user.name as support_agent (1 event, 40 records); read of user.financial as "
                "support_agent (1 event, 1 record); the role matrix grants none of these.",
                evidence=["a-invoice", "a-export"],  # time order
                observed_at=dt.datetime(2025, 3, 4, 9, 0),
            ),
            "actor:emp-b": ok(
                reason="emp-b: 2 successful personal-data actions (2 records, 2 kinds of action), all permitted for their "
                "role (support_agent)."
            ),
            "actor:cu-1": ok(),
            "actor:cu-2@2025-03-05": alarm("high"),
            "actor:ghost@2025-03-06": alarm(
                "medium",
                reason="ghost is not in the directory (no role known): the role matrix authorises none of its "
                "personal-data actions on 2025-03-06: read of user.contact.email (1 event, 1 record).",
            ),
            "actor:svc-pipe@2025-03-07": alarm("high", evidence=["svc-export"]),
        },
    )
    assert by["actor:cu-1"]["reason"].endswith("all permitted for their role (customer_user).")
