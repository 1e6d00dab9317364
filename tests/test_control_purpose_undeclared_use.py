"purpose.undeclared_use on hand-made audit events, as of 2025-03-10 (answers worked out by hand from data_map.yaml)."

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import assert_fields, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _event(
    event_id: str, actor: str, at: str, system: str | None, resource_type: str, purpose: str | None, **kw
) -> dict:
    fields = {"action": "read", "system": system, "resource_type": resource_type, "purpose": purpose} | kw
    return audit_event(event_id, actor, at, **fields)


def test_purpose_undeclared_use(control_findings, policy) -> None:
    tables = {
        "audit_events": [
            # crm declares essential.service.operations.support: allowed.
            _event("p1", "e1", "2025-03-01 09:00:00", "crm", "contact", "essential.service.operations.support", record_count=10),
            # No system: resource_type contact maps to crm, which declares essential.service (record_count 1 by default).
            _event("p2", "e1", "2025-03-01 10:00:00", None, "contact", "essential.service"),
            # crm declares no analytics use: undeclared (high) ...
            _event("p3", "e2", "2025-03-02 11:00:00", "crm", "contact", "analytics.reporting", record_count=5),
            # ... and `sales` is prohibited (no sale): the same actor-day becomes critical.
            _event("p4", "e2", "2025-03-02 12:00:00", "crm", "contact", "sales", record_count=100),
            # Neither a system nor a mapped resource_type: no declaration can allow it.
            _event("p5", "e3", "2025-03-03 08:00:00", None, "mystery", "essential.service"),
            # A denied attempt used no data: ignored.
            _event("p6", "e4", "2025-03-03 09:00:00", "crm", "contact", "sales", outcome="denied"),
            # A descendant of analytics' declared analytics.reporting: allowed.
            _event("p7", "e5", "2025-03-04 09:00:00", "analytics", "usage_event", "analytics.reporting.campaign_insights", record_count=3),
            # Non-data event, and an event after the as-of date: ignored.
            _event("p8", "e1", "2025-03-04 10:00:00", "auth", "account", None, action="login"),
            _event("p9", "e6", "2025-03-11 10:00:00", "crm", "contact", "sales"),
        ]
    }  # fmt: skip
    rows = control_findings("purpose_undeclared_use", tables, as_of=AS_OF)
    assert verdict_list(rows, "status", "severity", "evidence") == [
        ("actor:e2@2025-03-02", "alarm", "critical", ["p4", "p3"]),
        ("actor:e3@2025-03-03", "alarm", "high", ["p5"]),
        ("use:analytics/analytics.reporting.campaign_insights", "ok", "info", ["p7"]),
        ("use:crm/essential.service", "ok", "info", ["p2"]),
        ("use:crm/essential.service.operations.support", "ok", "info", ["p1"]),
    ]
    assert_fields(
        rows,
        {
            "actor:e2@2025-03-02": {
                # 2 events, 5 + 100 records; details sorted by purpose.
                "reason": (
                    "Actor e2 used personal data on 2025-03-02 for purposes the data map does not allow, in 2 events "
                    "(105 records): analytics.reporting on crm (not a declared use of that system) in 1 events; sales "
                    "on crm (prohibited: the policy promises no sale of personal data) in 1 events."
                ),
                "observed_at": dt.datetime(2025, 3, 2, 12, 0),
            },
            "use:crm/essential.service.operations.support": {
                "reason": (
                    "Purpose essential.service.operations.support is a declared use of crm: 1 events (10 records) by 1 "
                    "actors from 2025-03-01 to 2025-03-01."
                )
            },
        },
    )
    assert (
        "essential.service on an unmapped system (not a declared use of that system)"
        in rows["actor:e3@2025-03-03"]["reason"]
    )
