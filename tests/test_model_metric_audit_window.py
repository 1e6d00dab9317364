"""metric_audit_window on hand-made audit events (answers worked out by hand): the events up to the as-of date,
within the optional start and end dates (NULL leaves that side open)."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.queries import run_query

EVENTS = [
    audit_event("e1", "ann", "2025-02-27 23:59:59"),
    audit_event("e2", "ann", "2025-02-28 00:00:00", "read", record_count=4),
    audit_event("e3", "bob", "2025-03-05 12:00:00", "export", outcome="denied"),  # every outcome is kept
    audit_event("e4", "bob", "2025-03-10 09:00:00"),
    audit_event("e5", "bob", "2025-03-11 00:00:00"),  # after as_of: never in the window
]


def _ids(con, start: dt.date | None, end: dt.date | None, policy) -> list[str]:
    params = {"as_of": dt.date(2025, 3, 10), "start_date": start, "end_date": end}
    out = run_query(con, "metric_audit_window", params, policy).sort("occurred_at")
    return [f"{actor}@{at:%m-%d}" for actor, at in out.select("actor_id", "occurred_at").rows()]


def test_metric_audit_window(make_db, policy) -> None:
    con = make_db({"audit_events": EVENTS})
    # Open on both sides: everything up to as_of (its whole day included).
    assert _ids(con, None, None, policy) == ["ann@02-27", "ann@02-28", "bob@03-05", "bob@03-10"]
    # Bounds are dates, both included.
    assert _ids(con, dt.date(2025, 2, 28), dt.date(2025, 3, 5), policy) == ["ann@02-28", "bob@03-05"]
    # An end after as_of does not reach past it.
    assert _ids(con, dt.date(2025, 3, 6), dt.date(2025, 3, 31), policy) == ["bob@03-10"]
    row = run_query(con, "metric_audit_window", {"as_of": dt.date(2025, 3, 10), "start_date": dt.date(2025, 2, 28),
                    "end_date": dt.date(2025, 2, 28)}, policy).row(0, named=True)  # fmt: skip
    assert (row["action"], row["outcome"], row["record_count"]) == ("read", "success", 4)
    # The category list by its key (audit_category_lists), as the ingest keyed it.
    listed = con.execute(
        "select categories from audit_category_lists where categories_key = $key", {"key": row["categories_key"]}
    ).fetchall()
    assert listed == [(["user.contact.email"],)]
