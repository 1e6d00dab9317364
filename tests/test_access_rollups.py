"""The two ingest rollups access.out_of_role and access.off_hours read equal what the events give.

`audit_role_action_days` (per day, actor, judged role, action and category list) and `audit_local_hour_days` (per
day, actor, time zone and local clock hour) are compared with the same figures computed in Python from a
hand-made fixture: a customer user whose enrichment left the role empty (judged as customer_user), a denied and
a failed read and a login (none counted as a data action), a read without categories, a service account (no
local hours), and an Adelaide night worker whose events straddle the end of daylight saving on 2025-04-06
(03:00 ACDT, UTC+10:30, becomes 02:00 ACST, UTC+9:30, at 16:30 UTC: half way through a UTC hour, so the local
hour of each event there comes from its own conversion). A recompute of one day equals a full derive.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

import duckdb
import pytest

from compliance.config.bundle import load_policy
from compliance.ingest.derive import derive_event_rollups

POLICY = load_policy()

DAY1, DAY2 = dt.date(2025, 4, 5), dt.date(2025, 4, 6)
DATA_ACTIONS = {"read", "search", "export", "create", "update", "delete", "deidentify", "share"}
ADELAIDE = "Australia/Adelaide"


def _event(n: int, at: dt.datetime, **over: object) -> dict[str, object]:
    row: dict[str, object] = {
        "event_id": f"ev-{n:03d}", "occurred_at": at, "event_date": at.date(), "actor_id": "night",
        "actor_type": "employee", "actor_role": "support_agent", "actor_timezone": ADELAIDE, "action": "read",
        "outcome": "success", "system": "crm", "resource_type": "contact", "categories": ["user.contact.email"],
        "purpose": "essential.service", "record_count": 3,
    }  # fmt: skip
    return row | over


def _events() -> list[dict[str, object]]:
    # The night worker every 10 minutes from 15:55 to 17:25 UTC on 2025-04-05 (around the 16:30 change), at
    # 17:35, then once on day 2; exports (every third) and a search among them, one without a record count.
    start = dt.datetime(2025, 4, 5, 15, 55)
    rows = [
        _event(n, start + dt.timedelta(minutes=10 * n), action=("export" if n % 3 == 0 else "read")) for n in range(10)
    ]
    rows += [
        _event(20, dt.datetime(2025, 4, 5, 17, 35)),
        _event(10, dt.datetime(2025, 4, 5, 16, 31), action="search", record_count=None),
        _event(11, dt.datetime(2025, 4, 5, 16, 32), outcome="denied"),  # used no data
        _event(12, dt.datetime(2025, 4, 5, 16, 33), outcome="failure"),  # used no data
        _event(13, dt.datetime(2025, 4, 5, 16, 34), action="login", categories=[]),  # an hour's activity, no data
        _event(14, dt.datetime(2025, 4, 5, 16, 35), categories=[]),  # a read of no personal data
        _event(15, dt.datetime(2025, 4, 6, 2, 0), action="update", categories=["user.name", "user.contact.email"]),
        _event(16, dt.datetime(2025, 4, 5, 9, 0), actor_id="cu1", actor_type="customer_user", actor_role=None,
               actor_timezone=None),  # judged as customer_user; local hours in UTC
        _event(17, dt.datetime(2025, 4, 5, 9, 5), actor_id="cu1", actor_type="customer_user", actor_role=None,
               actor_timezone=None, action="export"),
        _event(18, dt.datetime(2025, 4, 6, 1, 0), actor_id="svc", actor_type="service", actor_role=None,
               actor_timezone=None, action="export"),  # a data action with no role; no local hours (a service)
        _event(19, dt.datetime(2025, 4, 6, 1, 1), actor_id="con", actor_type="contractor", actor_role="analyst",
               actor_timezone="Asia/Kolkata", action="share", categories=["user.name"]),
    ]  # fmt: skip
    return rows


@pytest.fixture
def con(make_db) -> duckdb.DuckDBPyConnection:
    return make_db({"audit_events": _events()})


def _role_action_days(events: list[dict[str, object]]) -> list[tuple]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in events:
        if r["outcome"] == "success" and r["action"] in DATA_ACTIONS and r["categories"]:
            role = r["actor_role"] or ("customer_user" if r["actor_type"] == "customer_user" else None)
            groups[(r["event_date"], r["actor_id"], role, r["action"], tuple(r["categories"]))].append(r)
    return sorted(
        (*k, len(v), sum(r["record_count"] or 1 for r in v), max(r["occurred_at"] for r in v))
        for k, v in groups.items()
    )


def _local_hour(r: dict[str, object]) -> dt.datetime:
    at = r["occurred_at"]
    assert isinstance(at, dt.datetime)
    local = at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(str(r["actor_timezone"] or "UTC"))).replace(tzinfo=None)
    return local.replace(minute=0, second=0, microsecond=0)


def _local_hour_days(events: list[dict[str, object]]) -> list[tuple]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in events:
        if r["outcome"] == "success" and r["actor_type"] in ("employee", "contractor"):
            groups[(r["event_date"], r["actor_id"], r["actor_timezone"] or "UTC", _local_hour(r))].append(r)
    out = []
    for k, v in groups.items():
        data = [r for r in v if r["action"] in ("read", "search", "export") and r["categories"]]
        out.append(
            (
                *k,
                len(v),
                len(data),
                sum(r["record_count"] or 1 for r in data) if data else None,
                sum(1 for r in data if r["action"] == "export"),
                min((r["occurred_at"] for r in data), default=None),
                max((r["occurred_at"] for r in data), default=None),
            )
        )
    return sorted(out, key=str)


def test_role_action_rollup_equals_the_events(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        """select r.event_date, r.actor_id, r.actor_role, r.action, l.categories, r.events, r.records, r.last_at
        from audit_role_action_days as r inner join audit_category_lists as l using (categories_key)"""
    ).fetchall()
    assert sorted((*r[:4], tuple(r[4]), *r[5:]) for r in rows) == _role_action_days(_events())
    assert (DAY1, "cu1", "customer_user", "export", ("user.contact.email",), 1, 3,
            dt.datetime(2025, 4, 5, 9, 5)) in _role_action_days(_events())  # fmt: skip
    assert any(r[1] == "svc" and r[2] is None for r in rows)  # no role known: kept, for the control to refuse


def test_local_hour_rollup_equals_the_events(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(
        """select event_date, actor_id, actor_timezone, local_hour, events, data_events, data_records, exports,
                  data_first_at, data_last_at
        from audit_local_hour_days"""
    ).fetchall()
    assert sorted(rows, key=str) == _local_hour_days(_events())
    # Worked by hand: 15:55-16:25 UTC are 02:25-02:55 ACDT (+10:30); 16:31-17:25 UTC are 02:01-02:55 ACST (+9:30),
    # the local hour 02:00 a second time; 17:35 UTC is 03:05 ACST. (Converting 16:35 with the offset of its UTC
    # hour's start would give 03:05.) Hour 02:00: ev-000..009, the search ev-010, the login ev-013 and the read
    # without categories ev-014 (the denied and failed reads do not count): 13 events, 11 of them on personal
    # data, 31 records (10 x 3 and the search's missing count as 1), exports ev-000, 003, 006, 009.
    night = {r[3]: r[4:8] for r in rows if r[1] == "night" and r[0] == DAY1}
    assert night == {dt.datetime(2025, 4, 6, 2, 0): (13, 11, 31, 4), dt.datetime(2025, 4, 6, 3, 0): (1, 1, 3, 0)}
    # Day 2's update at 02:00 UTC is 11:30 ACST: an hour of activity, none on personal data to read.
    assert [r[3:8] for r in rows if r[1] == "night" and r[0] == DAY2] == [
        (dt.datetime(2025, 4, 6, 11, 0), 1, 0, None, 0)
    ]
    assert "svc" not in {r[1] for r in rows}
    assert ("con", "Asia/Kolkata", dt.datetime(2025, 4, 6, 6, 0)) in {r[1:4] for r in rows}  # 01:01 UTC + 5:30


def test_recomputing_one_day_equals_a_full_derive(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from audit_events where event_id = 'ev-015'").fetchall()  # day 2 changed
    assert derive_event_rollups(con, [DAY2], policy=POLICY) == 1
    tables = ("audit_role_action_days", "audit_local_hour_days")
    partial = {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in tables}
    derive_event_rollups(con, policy=POLICY)
    assert partial == {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in tables}
    assert not any(r[1] == "night" and r[0] == DAY2 for r in partial["audit_local_hour_days"])
