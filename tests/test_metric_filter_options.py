"""filter_options: the data map's categories and systems plus those only the exports show."""

from __future__ import annotations

from compliance.queries import run_query


def test_filter_options(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                {"event_id": "a1", "occurred_at": "2025-03-01 10:00:00", "actor_id": "e1", "actor_type": "employee",
                 "action": "read", "outcome": "success", "system": "crm", "categories": ["user.name"]},
                {"event_id": "a2", "occurred_at": "2025-03-01 10:00:00", "actor_id": "e1", "actor_type": "employee",
                 "action": "read", "outcome": "success", "system": "shadow-it", "categories": ["user.biometric.voice"]},
            ],
            "inventory_records": [
                {"system": "crm", "store": "contacts", "record_id": "r1", "data_category": "user.political_opinion",
                 "created_at": "2025-01-01 00:00:00"},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "filter_options", {}, policy)
    declared_categories = set(out.filter((out["kind"] == "category") & out["declared"])["value"])
    assert declared_categories == set(policy.declared_categories)
    declared_systems = set(out.filter((out["kind"] == "system") & out["declared"])["value"])
    assert declared_systems == {s.id for s in policy.data_map.systems}
    # what only the exports show, marked undeclared
    assert out.filter(~out["declared"]).rows() == [
        ("category", "user.biometric.voice", False),
        ("category", "user.political_opinion", False),
        ("system", "shadow-it", False),
    ]
