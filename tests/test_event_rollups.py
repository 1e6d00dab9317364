"""The daily rollups of audit events (compliance.ingest.derive.derive_event_rollups) equal what the events give.

A hand-made fixture over three days: 26 reads of contacts on one day by two people with tied timestamps (so
the newest-20 cut and its tie-break by event id matter), a failed read and a login (never counted as a
purpose use), an event without a system whose resource_type names it in the data map, and a use the data map
does not allow. Every rollup row is compared with the same figure computed in Python from the events, and a
recompute of one day (what the incremental daily load does) with a full one. The three controls that read the
rollups are then checked against the events directly: counts, and the newest 20 ids as evidence (found on the
newest days the counts point to: at the third day, a use's newest 20 span all three).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import duckdb
import pytest
from rows import dsr_request

from compliance.config.bundle import load_policy
from compliance.ingest.derive import ROLLUP_TABLES, derive_event_rollups
from compliance.queries import get_query, run_query

POLICY = load_policy()

DAY1, DAY2, DAY3 = dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 3)
DATA_ACTIONS = {"read", "search", "export", "create", "update", "delete", "deidentify", "share"}


def _event(n: int, day: dt.date, minute: int, **over: object) -> dict[str, object]:
    at = dt.datetime.combine(day, dt.time(9, minute))
    row: dict[str, object] = {
        "event_id": f"ev-{n:03d}", "occurred_at": at, "event_date": day, "actor_id": "emp-a",
        "actor_type": "employee", "action": "read", "outcome": "success", "system": "crm",
        "resource_type": "contact", "categories": ["user.contact.email"], "purpose": "essential.service",
        "record_count": 2,
    }  # fmt: skip
    return row | over


def _events() -> list[dict[str, object]]:
    rows = [_event(n, DAY1, n // 3, actor_id="emp-a" if n % 2 else "emp-b") for n in range(26)]  # ties by 3
    rows += [
        _event(30, DAY1, 50, outcome="failure"),  # a failed read used no data: no purpose use
        _event(31, DAY1, 51, action="login", categories=[], purpose=None),
        _event(32, DAY2, 5, system=None, categories=["user.contact.email", "user.name"]),  # system from its type
        _event(33, DAY2, 6, purpose="marketing.advertising.third_party", record_count=None),  # not allowed
        _event(34, DAY3, 7, categories=["user.biometric"]),
    ]
    # Subjects processed in regions: s1 (EU) in eu-fra on days 1 and 3 and in us-east on day 3; s2 (EU) in eu-fra
    # and in ap-sin (no lawful mechanism) on day 2, its failed touch on day 1 not counting; s3 of unknown
    # jurisdiction on day 2.
    rows += [_event(35, DAY3, 8, categories=[], purpose=None), _event(36, DAY2, 7, categories=[], purpose=None)]
    touches = {0: ("s1", "EU", "eu-fra"), 30: ("s2", "EU", "eu-fra"), 32: ("s3", None, "eu-fra"),
               33: ("s2", "EU", "ap-sin"), 34: ("s1", "EU", "us-east"), 35: ("s1", "EU", "eu-fra"),
               36: ("s2", "EU", "eu-fra")}  # fmt: skip
    for row in rows:
        if (n := int(str(row["event_id"])[3:])) in touches:
            subject, jurisdiction, region = touches[n]
            row |= {"subject_id": subject, "subject_jurisdiction": jurisdiction, "processing_region": region}
    return rows


@pytest.fixture
def con(make_db) -> duckdb.DuckDBPyConnection:
    return make_db({"audit_events": _events()})


def _newest(rows: list[dict[str, object]], n: int = 20) -> list[str]:
    ordered = sorted(rows, key=lambda r: (r["occurred_at"], r["event_id"]), reverse=True)
    return [str(r["event_id"]) for r in ordered[:n]]


def _purpose_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, object]]:
    systems = dict(con.sql("select distinct resource_type, system_id from ref_resource_types").fetchall())
    return [
        r | {"system_id": r["system"] or systems.get(r["resource_type"]), "records": r["record_count"] or 1}
        for r in _events()
        if r["purpose"] and r["outcome"] == "success" and r["action"] in DATA_ACTIONS
    ]


def test_category_rollups_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in _events():
        for category in r["categories"]:
            groups[(r["event_date"], category)].append(r)
    days = con.sql("select event_date, data_category, events, first_at, last_at from audit_category_days").fetchall()
    assert sorted(days) == sorted(
        (*k, len(v), min(r["occurred_at"] for r in v), max(r["occurred_at"] for r in v)) for k, v in groups.items()
    )
    assert len(groups[(DAY1, "user.contact.email")]) == 27
    # counted per category list, the rollup still counts the events of the model its evidence is read from
    model = get_query("audit_category_events").sql
    counted = con.sql(
        f"""select event_date, data_category, count(*), min(occurred_at), max(occurred_at)
            from ({model}) group by event_date, data_category"""
    ).fetchall()
    assert sorted(days) == sorted(counted)


def test_purpose_rollups_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    uses = _purpose_rows(con)
    assert {r["event_id"] for r in uses} == {f"ev-{n:03d}" for n in [*range(26), 32, 33, 34]}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in uses:
        groups[(r["event_date"], r["actor_id"], r["system_id"], r["purpose"])].append(r)
    days = con.sql(
        "select event_date, actor_id, system_id, purpose, events, records, first_at, last_at from audit_purpose_days"
    ).fetchall()
    assert sorted(days) == sorted(
        (*k, len(v), sum(r["records"] for r in v), min(r["occurred_at"] for r in v), max(r["occurred_at"] for r in v))
        for k, v in groups.items()
    )


def test_transfer_rollups_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    touches = [r for r in _events() if r.get("subject_id") and r.get("processing_region") and r["outcome"] == "success"]
    groups: dict[tuple, list[dict]] = defaultdict(list)
    firsts: dict[tuple, dt.date] = {}
    for r in touches:
        groups[(r["event_date"], r["subject_jurisdiction"], r["processing_region"])].append(r)
        key = (r["subject_jurisdiction"], r["processing_region"], r["subject_id"])
        firsts[key] = min(firsts.get(key, r["event_date"]), r["event_date"])
    days = con.sql("select event_date, jurisdiction, region, events, first_at, last_at from audit_transfer_days")
    assert sorted(days.fetchall(), key=str) == sorted(
        ((*k, len(v), min(r["occurred_at"] for r in v), max(r["occurred_at"] for r in v)) for k, v in groups.items()),
        key=str,
    )
    subjects = con.sql("select jurisdiction, region, subject_id, first_date from audit_transfer_subjects").fetchall()
    assert sorted(subjects, key=str) == sorted(((*k, d) for k, d in firsts.items()), key=str)
    assert ("EU", "eu-fra", "s1", DAY1) in subjects


def test_first_seen_days_equal_the_events(con: duckdb.DuckDBPyConnection) -> None:
    """Every actor, subject, system and category with its first day; systems and categories are read from the
    rollups of every event (by system-hour, by category), the others from the events."""
    firsts: dict[tuple[str, str], dt.date] = {}
    for r in _events():
        values = [("actor", r["actor_id"]), ("subject", r.get("subject_id")), ("system", r["system"])]
        for kind, value in values + [("category", c) for c in r["categories"]]:
            if value is not None:
                firsts[(kind, value)] = min(firsts.get((kind, value), r["event_date"]), r["event_date"])
    stored = con.sql("select kind, value, first_date from audit_first_seen").fetchall()
    assert sorted(stored) == sorted((*k, d) for k, d in firsts.items())
    assert ("category", "user.biometric", DAY3) in stored and ("system", "crm", DAY1) in stored


PROCESSING = {"read", "search", "export", "create", "update", "share"}  # a data action other than erasing
# The register's delete requests: s1's completed, s2's still open (both watched); s3 asked for access alone.
REQUESTS = [
    dsr_request("r1", "EU", "delete", "2025-02-20 09:00:00", "completed", "2025-03-01 12:00:00", subject_id="s1"),
    dsr_request("r2", "EU", "delete", "2025-03-01 09:00:00", subject_id="s2"),
    dsr_request("r3", "EU", "access", "2025-03-01 09:00:00", subject_id="s3"),
]


def _erasure_processing(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    sql = "select event_date, subject_id, event_id, is_disclosure, occurred_at from audit_erasure_subject_days"
    return sorted(con.sql(sql).fetchall())


def _processing_of(events: list[dict[str, object]], subjects: set[str]) -> list[tuple]:
    return sorted(
        (r["event_date"], r["subject_id"], r["event_id"], r["action"] in ("export", "share"), r["occurred_at"])
        for r in events
        if r.get("subject_id") in subjects and r["outcome"] == "success" and r["action"] in PROCESSING
    )


def test_erasure_subject_days_hold_the_processing_of_subjects_with_a_delete_request(make_db) -> None:
    """Every successful data action other than an erasure on a subject the register holds a delete request of,
    whatever its status (s1, s2), none of s3 (an access request): s2's failed read of day 1 does not count."""
    con = make_db({"audit_events": _events(), "dsr_requests": REQUESTS})
    rows = _erasure_processing(con)
    assert rows == _processing_of(_events(), {"s1", "s2"})
    assert {r[1] for r in rows} == {"s1", "s2"} and "ev-030" not in {r[2] for r in rows}


def _add_read(con: duckdb.DuckDBPyConnection, event_id: str, day: dt.date, subject: str, action: str = "read") -> None:
    con.execute(
        "insert into audit_events by name select $id as event_id, $at as occurred_at, $day as event_date,"
        " 'emp-c' as actor_id, 'employee' as actor_type, $action as action, 'success' as outcome, 'crm' as system,"
        " 'contact' as resource_type, ['user.name'] as categories, $subject as subject_id",
        {"id": event_id, "at": dt.datetime.combine(day, dt.time(23)), "day": day, "action": action, "subject": subject},
    ).fetchall()


def test_erasure_subject_days_kept_day_by_day(make_db) -> None:
    """Recomputing some days (a daily load) keeps the processing of the other days and equals a derive of every
    day: a day replaced, a late event of an earlier day, a new day, an emptied day."""
    con = make_db({"audit_events": _events(), "dsr_requests": REQUESTS})

    def recompute(*days: dt.date) -> list[tuple]:
        derive_event_rollups(con, list(days), policy=POLICY)
        kept = _erasure_processing(con)
        derive_event_rollups(con, policy=POLICY)
        assert kept == _erasure_processing(con)
        return kept

    # day 3 replaced by an erasure of s1 (not processing) and a share of s2's data (a disclosure)
    con.execute("delete from audit_events where event_date = $d", {"d": DAY3}).fetchall()
    _add_read(con, "ev-901", DAY3, "s1", action="delete")
    _add_read(con, "ev-902", DAY3, "s2", action="share")
    events = [r for r in _events() if r["event_date"] != DAY3]
    late = dt.datetime.combine(DAY3, dt.time(23))
    assert recompute(DAY3) == sorted([*_processing_of(events, {"s1", "s2"}), (DAY3, "s2", "ev-902", True, late)])
    # a late read of day 1 (s1) and a new day (s3: no delete request, no row)
    day4 = DAY3 + dt.timedelta(days=1)
    _add_read(con, "ev-903", DAY1, "s1")
    _add_read(con, "ev-904", day4, "s3")
    after = recompute(DAY1, day4)
    assert (DAY1, "s1", "ev-903", False, dt.datetime.combine(DAY1, dt.time(23))) in after
    assert all(r[1] != "s3" for r in after)
    # day 1 emptied: its rows gone, the others kept
    con.execute("delete from audit_events where event_date = $d", {"d": DAY1}).fetchall()
    assert recompute(DAY1) == [r for r in after if r[0] != DAY1]


def test_a_first_day_not_reached_by_its_recomputed_days_is_read_again(con: duckdb.DuckDBPyConnection) -> None:
    """s2, first seen on day 1 (a failed read), loses that event: days 1 and 2 recomputed together first see it on
    day 2, later than its stored day 1, which is read again rather than kept."""
    con.execute("delete from audit_events where event_id = 'ev-030'").fetchall()
    derive_event_rollups(con, [DAY1, DAY2], policy=POLICY)
    kept = sorted(con.sql("select * from audit_first_seen").fetchall(), key=str)
    assert ("subject", "s2", DAY2) in kept
    derive_event_rollups(con, policy=POLICY)
    assert kept == sorted(con.sql("select * from audit_first_seen").fetchall(), key=str)


def test_recomputing_some_days_equals_a_full_derive(con: duckdb.DuckDBPyConnection) -> None:
    # A daily load replaced day 2's events: recompute that day only.
    con.execute("delete from audit_events where event_date = $d", {"d": DAY2}).fetchall()
    con.execute(
        "insert into audit_events by name select 'ev-900' as event_id, timestamp '2025-03-02 10:00:00' as occurred_at,"
        " date '2025-03-02' as event_date, 'emp-c' as actor_id, 'employee' as actor_type, 'read' as action,"
        " 'success' as outcome, 'crm' as system, 'contact' as resource_type, ['user.name'] as categories,"
        " 'essential.service' as purpose, 's1' as subject_id, 'EU' as subject_jurisdiction,"
        " 'eu-fra' as processing_region"
    ).fetchall()
    assert derive_event_rollups(con, [DAY2], policy=POLICY) == 1
    partial = {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in ROLLUP_TABLES}
    assert derive_event_rollups(con, policy=POLICY) == 3
    assert partial == {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in ROLLUP_TABLES}
    assert ("emp-c", "crm", 1) in con.sql("select actor_id, system_id, events from audit_purpose_days").fetchall()
    # s2 and s3 were only touched (successfully) on day 2, whose events were replaced by ev-900 (s1)
    assert con.sql("select region, subject_id, first_date from audit_transfer_subjects order by all").fetchall() == [
        ("eu-fra", "s1", DAY1),
        ("us-east", "s1", DAY3),
    ]


@pytest.mark.parametrize("as_of", [DAY1, DAY2, DAY3])
def test_controls_read_the_rollups_exactly(con: duckdb.DuckDBPyConnection, policy, as_of: dt.date) -> None:
    events = [r for r in _events() if r["event_date"] <= as_of]
    datamap = run_query(con, "datamap_undeclared_category", {"as_of": as_of}, policy)
    for row in datamap.iter_rows(named=True):
        category = row["resource"].removeprefix("category:")
        carrying = [r for r in events if category in r["categories"]]
        assert row["evidence"] == _newest(carrying)
        assert f"observed in {len(carrying)} audit events" in row["reason"]
    purpose = run_query(con, "purpose_undeclared_use", {"as_of": as_of}, policy)
    uses = [r for r in _purpose_rows(con) if r["event_date"] <= as_of]
    allowed = purpose.filter(purpose["status"] == "ok").row(0, named=True)
    assert allowed["resource"] == "use:crm/essential.service"
    crm = [r for r in uses if r["system_id"] == "crm" and r["purpose"] == "essential.service"]
    assert allowed["evidence"] == _newest(crm)
    if as_of == DAY3:  # one of day 3, one of day 2, and the newest 18 of day 1's 26 (cut inside a tie at 09:02)
        assert allowed["evidence"][:2] == ["ev-034", "ev-032"] and len(allowed["evidence"]) == 20
    assert f": {len(crm)} events ({sum(r['records'] for r in crm)} records) by 2 actors" in allowed["reason"]
    alarms = purpose.filter(purpose["status"] == "alarm")
    assert alarms["resource"].to_list() == (["actor:emp-a@2025-03-02"] if as_of >= DAY2 else [])
    if as_of >= DAY2:
        assert alarms["evidence"].to_list() == [["ev-033"]]
    transfer = run_query(con, "transfer_no_safeguard", {"as_of": as_of}, policy)
    got = {r["resource"]: (r["status"], r["evidence"]) for r in transfer.iter_rows(named=True)}
    eu_fra = {DAY1: ["ev-000"], DAY2: ["ev-036", "ev-000"], DAY3: ["ev-035", "ev-036", "ev-000"]}[as_of]
    expected = {"transfer:EU/eu-fra": ("ok", eu_fra)}
    if as_of >= DAY2:
        expected |= {"subject:s2": ("alarm", ["ev-033"]), "source:audit": ("info", ["ev-032"])}
    if as_of >= DAY3:
        expected |= {"transfer:EU/us-east": ("ok", ["ev-034"])}
    assert got == expected
    if as_of >= DAY3:
        assert (
            got["transfer:EU/eu-fra"]
            and "3 events touching 2 EU subjects"
            in transfer.filter(transfer["resource"] == "transfer:EU/eu-fra")["reason"][0]
        )


def test_a_use_s_actors_are_counted_up_to_the_as_of_date(con: duckdb.DuckDBPyConnection, policy) -> None:
    """A third actor's first use of crm/essential.service on day 3 (a daily load): the ok row counts 2 actors as of
    day 2 and 3 as of day 3, from each actor's first day of the use (audit_use_actors), kept day by day as a full
    derive keeps it."""
    _add_read(con, "ev-910", DAY3, "s9")
    con.execute("update audit_events set purpose = 'essential.service' where event_id = 'ev-910'").fetchall()
    derive_event_rollups(con, [DAY3], policy=POLICY)
    kept = sorted(con.sql("select * from audit_use_actors").fetchall(), key=str)
    assert ("crm", "essential.service", "emp-c", DAY3) in kept
    for as_of, actors in ((DAY2, 2), (DAY3, 3)):
        found = run_query(con, "purpose_undeclared_use", {"as_of": as_of}, policy)
        [reason] = found.filter(found["resource"] == "use:crm/essential.service")["reason"].to_list()
        assert f"by {actors} actors" in reason, reason
    derive_event_rollups(con, policy=POLICY)
    assert kept == sorted(con.sql("select * from audit_use_actors").fetchall(), key=str)


def _rollup_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {t: sorted(con.sql(f"select * from {t}").fetchall(), key=str) for t in ROLLUP_TABLES}


def test_a_derive_of_every_day_in_spans_equals_one_pass(con: duckdb.DuckDBPyConnection, monkeypatch) -> None:
    from compliance.ingest import derive

    monkeypatch.setattr(derive, "_SPAN_EVENTS", 10**9)
    assert derive._day_spans(con) == [(DAY1, DAY3)]
    derive_event_rollups(con, policy=POLICY)
    one_pass = _rollup_rows(con)
    monkeypatch.setattr(derive, "_SPAN_EVENTS", 2)  # a span a day
    assert derive._day_spans(con) == [(DAY1, DAY1), (DAY2, DAY2), (DAY3, DAY3)]
    derive_event_rollups(con, policy=POLICY)
    assert _rollup_rows(con) == one_pass
    assert sum(len(rows) for rows in one_pass.values()) > 50


@pytest.mark.parametrize(
    ("counts", "span_events", "spans"),
    [
        ([10, 1, 1, 30, 2], 12, [(0, 1), (2, 3), (4, 4)]),  # 44 events in 4 spans of 11: the last day left alone
        ([5, 5, 5], 5, [(0, 0), (1, 1), (2, 2)]),
        ([5, 5, 5], 8, [(0, 1), (2, 2)]),  # 2 spans of 7.5
        ([1, 1, 1], 100, [(0, 2)]),
        ([100], 1, [(0, 0)]),  # at least one day a span
    ],
)
def test_day_spans_cover_every_day_once_in_order(make_db, monkeypatch, counts, span_events, spans) -> None:
    from compliance.ingest import derive

    days = [DAY1 + dt.timedelta(days=i) for i in range(len(counts))]
    rows = [_event(i, day, 0, event_id=f"d{d}-{i}") for d, day in enumerate(days) for i in range(counts[d])]
    con = make_db({"audit_events": rows})
    monkeypatch.setattr(derive, "_SPAN_EVENTS", span_events)
    assert derive._day_spans(con) == [(days[a], days[b]) for a, b in spans]


def test_events_without_a_date_are_grouped_in_spans_too(make_db, monkeypatch) -> None:
    """A loaded event always has a date; a hand-made table may not, and a derive of every day counted its events
    before spans existed: they are their own span, last."""
    from compliance.ingest import derive

    rows = [_event(1, DAY1, 0), _event(2, DAY2, 0), _event(3, DAY2, 1, event_date=None)]
    con = make_db({"audit_events": rows})
    monkeypatch.setattr(derive, "_SPAN_EVENTS", 1)
    assert derive._day_spans(con) == [(DAY1, DAY1), (DAY2, DAY2), None]
    derive_event_rollups(con, policy=POLICY)
    spans = _rollup_rows(con)
    monkeypatch.setattr(derive, "_SPAN_EVENTS", 10**9)
    derive_event_rollups(con, policy=POLICY)
    assert _rollup_rows(con) == spans
    assert con.sql("select sum(events) from audit_system_hours where event_date is null").fetchall() == [(1,)]
