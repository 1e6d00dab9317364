"""personal_category_lists on hand-made audit events (worked out by hand): the keys of the category lists that hold
at least one data category, and not the empty list's."""

from __future__ import annotations

from rows import audit_event

from compliance.queries import run_query

EVENTS = [
    audit_event("e1", "ann", "2025-03-01 09:00:00", "login"),  # the empty list
    audit_event("e2", "ann", "2025-03-01 10:00:00", "read"),  # ["user.contact.email"]
    audit_event("e3", "bob", "2025-03-01 11:00:00", "export", categories=["user.contact.email", "user.name"]),
    audit_event("e4", "bob", "2025-03-01 12:00:00", "search", categories=["user.contact.email", "user.name"]),  # e3's
]


def test_personal_category_lists(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    keys = run_query(con, "personal_category_lists", {}, policy)["categories_key"].to_list()
    assert len(keys) == len(set(keys))
    every_list = con.execute("select categories_key, categories from audit_category_lists").fetchall()
    # Exactly the lists with a category: whatever else the table holds (the empty list, the data map's lists).
    assert sorted(keys) == sorted(key for key, categories in every_list if len(categories) > 0)
    assert any(len(categories) == 0 for _, categories in every_list)
    event_keys = dict(con.execute("select event_id, categories_key from audit_events").fetchall())
    assert {event_keys["e2"], event_keys["e3"], event_keys["e4"]} <= set(keys)
    assert event_keys["e1"] not in keys
    assert event_keys["e3"] == event_keys["e4"]  # one list, one key, listed once
