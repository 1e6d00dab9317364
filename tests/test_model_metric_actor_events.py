"""metric_actor_events on hand-made audit events (answers worked out by hand): every event of one actor, with
whether it is a successful personal-data action and the records it touched."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query


def test_metric_actor_events(make_db, policy) -> None:
    con = make_db({"audit_events": [
        audit_event("e1", "ann", "2025-03-03 09:00:00", "read", record_count=10),  # a data action, 10 records
        audit_event("e2", "ann", "2025-03-03 10:00:00", "share", record_count=None),  # no count: 1 record
        audit_event("e3", "ann", "2025-03-04 08:00:00", "export", outcome="denied", record_count=99),  # used no data
        audit_event("e4", "ann", "2025-03-04 09:00:00", "login", geo_country="DE"),  # not a data action
        audit_event("e5", "bob", "2025-03-03 09:00:00", "read", record_count=7),  # another actor: left out
    ]})  # fmt: skip
    out = run_query(con, "metric_actor_events", {"actor_id": "ann"}, policy).sort("event_date", "action")
    assert out.select("event_date", "action", "outcome", "geo_country", "is_data_action", "records").rows() == [
        (dt.date(2025, 3, 3), "read", "success", None, True, 10),
        (dt.date(2025, 3, 3), "share", "success", None, True, 1),
        (dt.date(2025, 3, 4), "export", "denied", None, False, 99),
        (dt.date(2025, 3, 4), "login", "success", "DE", False, 1),
    ]
    assert out["actor_type"].unique().to_list() == ["employee"]
