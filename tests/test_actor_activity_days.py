"""audit_actor_activity_days (compliance.ingest.derive) on hand-made audit events, answers worked out by hand: one
row per UTC day, actor and actor type over successful events, with the personal-data actions (`data_*`) and the
reads, searches and exports of personal data (`bulk_*`, backups apart) that the access controls read from it."""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from compliance.config.bundle import load_policy
from compliance.ingest.derive import derive_event_rollups

POLICY = load_policy()

COLUMNS = (
    "event_date, actor_id, actor_type, events, personal_events, first_at, last_at, data_events, data_records, "
    "data_role, data_last_at, bulk_events, bulk_records, bulk_last_at, backup_events, backup_records"
)


def _rows(con) -> list[tuple]:
    return con.sql(f"select {COLUMNS} from audit_actor_activity_days order by event_date, actor_id").fetchall()


def test_actor_days_count_successful_events_by_kind(make_db) -> None:
    con = make_db({"audit_events": [
        audit_event("a1", "ann", "2025-03-03 08:00:00"),  # a login: counted, not on personal data
        audit_event("a2", "ann", "2025-03-03 09:00:00", "read", record_count=10),
        audit_event("a3", "ann", "2025-03-03 15:00:00", "update", record_count=None, actor_role="engineer",
                    categories=["user.contact.email"]),  # counts 1 record
        audit_event("a4", "ann", "2025-03-03 16:00:00", "export", record_count=99, outcome="denied"),  # not counted
        audit_event("a5", "ann", "2025-03-04 07:00:00", "create", categories=[], record_count=4),  # no category
        # svc: a backup (a service export to an approved recipient) and an export to an unknown one.
        audit_event("s1", "svc", "2025-03-03 01:00:00", "export", actor_type="service", actor_role=None,
                    record_count=500, recipient="aws"),
        audit_event("s2", "svc", "2025-03-03 02:00:00", "export", actor_type="service", actor_role=None,
                    record_count=7, recipient="unknown.example"),
    ]})  # fmt: skip
    at = dt.datetime
    assert _rows(con) == [
        # ann, 3 March: login, read (10 records), update (1 record, as engineer, the day's last data action).
        (dt.date(2025, 3, 3), "ann", "employee", 3, 2, at(2025, 3, 3, 8), at(2025, 3, 3, 15), 2, 11, "engineer",
         at(2025, 3, 3, 15), 1, 10, at(2025, 3, 3, 9), 0, 0),
        (dt.date(2025, 3, 3), "svc", "service", 2, 2, at(2025, 3, 3, 1), at(2025, 3, 3, 2), 2, 507, None,
         at(2025, 3, 3, 2), 2, 7, at(2025, 3, 3, 2), 1, 500),
        # ann, 4 March: a create without a category is a data action, but neither personal nor a bulk read.
        (dt.date(2025, 3, 4), "ann", "employee", 1, 0, at(2025, 3, 4, 7), at(2025, 3, 4, 7), 1, 4, "support_agent",
         at(2025, 3, 4, 7), 0, 0, None, 0, 0),
    ]  # fmt: skip


def test_recomputing_one_day_leaves_the_others(make_db) -> None:
    con = make_db({"audit_events": [
        audit_event("a1", "ann", "2025-03-03 09:00:00", "read", record_count=10),
        audit_event("a2", "ann", "2025-03-04 09:00:00", "read", record_count=20),
    ]})  # fmt: skip
    before = _rows(con)
    con.execute("update audit_events set record_count = 30 where event_id = 'a2'").fetchall()
    assert derive_event_rollups(con, [dt.date(2025, 3, 4)], policy=POLICY) == 1
    after = _rows(con)
    assert after[0] == before[0]  # 3 March untouched
    assert after[1][8] == 30 and after[1][12] == 30  # data_records and bulk_records of 4 March
