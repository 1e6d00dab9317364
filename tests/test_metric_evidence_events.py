"""evidence_events: the raw audit, usage and diagnostic rows behind a finding's evidence ids."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

ts = dt.datetime


def test_evidence_events(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                {"event_id": "evt1", "occurred_at": "2025-03-03 10:00:00", "actor_id": "e1", "actor_type": "employee",
                 "actor_role": "support_agent", "system": "crm", "action": "export", "outcome": "success",
                 "resource_type": "contact", "resource_id": "ct1", "categories": ["user.name", "user.contact.email"],
                 "subject_id": "s1", "record_count": 40, "purpose": "essential.service", "geo_country": "GB",
                 "source_ip": "10.0.0.1", "processing_region": "eu-fra", "recipient": "dropbox.com"},
                {"event_id": "evt2", "occurred_at": "2025-03-03 11:00:00", "actor_id": "e1", "actor_type": "employee",
                 "action": "login", "outcome": "success"},  # not in the evidence
            ],
            "usage_events": [
                {"event_id": "ue1", "occurred_at": "2025-03-02 09:00:00", "user_id": "s2", "event_name": "call_logged",
                 "feature": "call_tracker", "session_id": "ses1", "country": "DE", "consent_analytics": False},
            ],
            "diagnostic_logs": [
                {"line_id": "ln1", "occurred_at": "2025-03-04 08:00:00", "service": "relay", "level": "WARNING",
                 "message": "retry", "host": "h1", "processing_region": "us-east", "request_id": "rq1",
                 "status_code": 502, "tls_version": "TLSv1.0"},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "evidence_events", {"evidence_ids": ["evt1", "ue1", "ln1", "missing"]}, policy)
    assert out.rows() == [
        ("usage", "ue1", ts(2025, 3, 2, 9), None, "s2", "call_logged", "call_tracker", None, "session:ses1", None,
         None, None, "DE", None, "consent_analytics false"),
        ("audit", "evt1", ts(2025, 3, 3, 10), "e1", "s1", "export", "crm", "success", "contact:ct1",
         "user.name, user.contact.email", 40, "essential.service", "GB / 10.0.0.1 / eu-fra", "dropbox.com",
         "role support_agent"),
        ("diagnostic", "ln1", ts(2025, 3, 4, 8), None, None, "WARNING", "relay", "502", "request:rq1", None, None,
         None, "h1 / us-east", None, "tls TLSv1.0; retry"),
    ]  # fmt: skip
