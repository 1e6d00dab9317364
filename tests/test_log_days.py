"""The per-day tables of the usage and diagnostic logs kept at ingest (compliance.ingest.derive.LOG_DAYS) and the two
controls that read them instead of every line: retention.log_past_retention (lines per source and day) and
datamap.personal_data_in_logs (lines per service and day that hold personal data, and each service-day's 20 newest
of them). Answers worked out by hand; the tables kept load by load equal the tables computed from every line."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from rows import log_line

from compliance.config.bundle import load_policy
from compliance.ingest.derive import LOG_DAYS, derive_log_days
from compliance.ingest.load import ingest
from compliance.queries import run_query
from tests.test_incremental_findings import _USAGE_HEADER, _assert_same, _export_event, _live, _stored

POLICY = load_policy()
AS_OF = dt.date(2025, 3, 10)


# --- the controls on hand-made lines ---------------------------------------------------------------------


def _flagged(service: str, prefix: str, day: str, count: int) -> list[dict]:
    """`count` lines of `service` on `day` that each hold a phone number, one a minute from 10:00, ids prefix-00..."""
    return [
        log_line(service, f"{prefix}-{i:02d}", f"{day} 10:{i:02d}:00", message=f"sms to 0412 345 {i:03d} failed")
        for i in range(count)
    ]


def test_the_20_newest_flagged_lines_span_days_and_as_of_dates(make_db, policy) -> None:
    """api holds flagged lines on three days: 3 on 03-01, 12 on 03-02 and 25 on 03-04, and 5 plain lines on 03-03.
    As of 03-10 the 20 newest are 20 of 03-04's (the day keeps its 20 newest: 05..24); as of 03-03, 03-04's are not
    there yet and the 15 of 03-01 and 03-02 are all the evidence, newest first."""
    plain = [log_line("api", f"p-{i}", f"2025-03-03 09:0{i}:00", message="GET /v1/calls 200") for i in range(5)]
    lines = [*_flagged("api", "c", "2025-03-01", 3), *_flagged("api", "a", "2025-03-02", 12),
             *_flagged("api", "b", "2025-03-04", 25), *plain]  # fmt: skip
    con = make_db({"diagnostic_logs": lines})
    assert con.execute("select count(*) from diagnostic_flagged_lines").fetchall() == [(3 + 12 + 20,)]

    late = run_query(con, "datamap_personal_data_in_logs", {"as_of": AS_OF}, policy).row(0, named=True)
    assert late["evidence"] == [f"b-{i:02d}" for i in range(24, 4, -1)]
    assert late["reason"] == (
        "Service api logged personal data in 40 of 45 diagnostic lines from 2025-03-01 to 2025-03-04: 0 with email "
        "addresses, 40 with phone numbers, 0 with card numbers."
    )
    assert late["observed_at"] == dt.datetime(2025, 3, 4, 10, 24)

    early = run_query(con, "datamap_personal_data_in_logs", {"as_of": dt.date(2025, 3, 3)}, policy).row(0, named=True)
    assert early["evidence"] == [f"a-{i:02d}" for i in range(11, -1, -1)] + [f"c-{i:02d}" for i in range(2, -1, -1)]
    assert "personal data in 15 of 20 diagnostic lines from 2025-03-01 to 2025-03-02" in early["reason"]


@pytest.mark.parametrize(
    ("table", "source", "row_of"),
    [
        ("usage_events", "usage", lambda i, at: {"event_id": i, "occurred_at": at}),
        ("diagnostic_logs", "diagnostic", lambda i, at: log_line("api", i, at)),
    ],
)
def test_the_20_oldest_expired_lines_of_a_source_span_days(make_db, policy, table, source, row_of) -> None:
    """Lines counted from the ingest's per-day table, and read only on the days that hold the 20 oldest expired ones:
    12 expired lines on day 1 (two a clock hour, tied times broken by id), 12 on day 2 and 3 on day 5, and 2 within
    retention. The 20 oldest: the 12 of day 1, then the 8 oldest of day 2."""
    start = AS_OF - dt.timedelta(days=500 if source == "usage" else 60)  # beyond 395 + 7 and 30 + 7 days
    day1 = [(f"x1-{i:02d}", f"{start} {10 + i // 2:02d}:00:00") for i in range(12)]
    day2 = [(f"x2-{i:02d}", f"{start + dt.timedelta(days=1)} {10 + i:02d}:30:00") for i in range(12)]
    day5 = [(f"x5-{i:02d}", f"{start + dt.timedelta(days=4)} 0{i}:00:00") for i in range(3)]
    recent = [("r-1", "2025-03-01 10:00:00"), ("r-2", "2025-03-02 10:00:00")]
    con = make_db({table: [row_of(i, at) for i, at in day5 + recent + day2 + day1]})
    out = run_query(con, "retention_log_past_retention", {"as_of": AS_OF}, policy)
    found = out.filter(out["resource"] == f"source:{source}").row(0, named=True)
    assert found["status"] == "alarm"
    assert "still holds 27 of 29 lines" in found["reason"]
    assert found["evidence"] == [i for i, _ in day1] + [i for i, _ in day2[:8]]
    # As of the day before the recent lines, they are not there yet; as of a day when only day 5 had not expired,
    # day 5's lines are no evidence.
    before = run_query(con, "retention_log_past_retention", {"as_of": dt.date(2025, 2, 28)}, policy)
    assert "holds 27 of 27 lines" in before.filter(before["resource"] == f"source:{source}")["reason"][0]


# --- the tables kept load by load ----------------------------------------------------------------------


def _diagnostic(at: str, message: str, service: str = "api") -> dict:
    return {"occurred_at": at, "service": service, "level": "INFO", "message": message, "host": "api-1"}


def _delivery(folder: Path, day: str, usage: list[tuple[str, str]], diagnostic: list[dict]) -> Path:
    """A delivery of a login on `day`, usage events (id, time) and diagnostic lines."""
    for sub in ("audit", "usage", "diagnostic"):
        (folder / sub).mkdir(parents=True)
    login = _export_event(f"login-{day}", f"{day}T08:00:00Z", "emp_1", action="login")
    (folder / "audit" / f"{day}.jsonl").write_text(json.dumps(login) + "\n")
    rows = "".join(f"{e},{at},t1,s1,page_view,calls,,DE,,true\n" for e, at in usage)
    (folder / "usage" / f"usage-{day}.csv").write_text(f"{_USAGE_HEADER}\n{rows}")
    (folder / "diagnostic" / f"{day}.jsonl").write_text("".join(json.dumps(d) + "\n" for d in diagnostic))
    return folder


def _log_day_rows(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {log.table: con.execute(f"select * from {log.table} order by all").fetchall() for log in LOG_DAYS}


def _kept_and_from_every_line(db: Path, scratch: Path) -> tuple[dict, dict]:
    """The tables as the loads kept them, and as computed from every line of a copy of the database."""
    with duckdb.connect(str(db), read_only=True) as con:
        kept = _log_day_rows(con)
    shutil.copyfile(db, scratch)
    with duckdb.connect(str(scratch)) as con:
        for log in LOG_DAYS:
            derive_log_days(con, log)
        return kept, _log_day_rows(con)


def _phone_lines(day: str, count: int) -> list[dict]:
    return [_diagnostic(f"{day}T12:{i:02d}:00Z", f"sms to 0412 345 {i:03d} failed") for i in range(count)]


def test_each_load_computes_again_the_days_it_changed(tmp_path: Path) -> None:
    """Usage u1 re-sent dated three days later moves from 03-01 to 03-04, and u2 re-sent empties 03-01; a diagnostic
    line sent again is a duplicate, a late one counts on its own day, and 25 lines holding phone numbers on 03-05 keep
    their 20 newest. After every load the tables equal those computed from every line, and the stored findings a live
    run; after all, one whole load's."""
    mail = _diagnostic("2025-03-01T09:00:00Z", "password reset for jane@example.com")
    plain = _diagnostic("2025-03-01T09:30:00Z", "GET /v1/calls 200")
    deliveries = [
        _delivery(tmp_path / "d0", "2025-03-01", [("u1", "2025-03-01T10:00:00Z"), ("u2", "2025-03-01T11:00:00Z")],
                  [mail, plain]),
        _delivery(tmp_path / "d1", "2025-03-05", [("u3", "2025-03-05T10:00:00Z"), ("u1", "2025-03-04T10:00:00Z")],
                  [plain, _diagnostic("2025-03-02T23:59:59Z", "late"), *_phone_lines("2025-03-05", 25)]),
        _delivery(tmp_path / "d2", "2025-03-06", [("u2", "2025-03-06T09:00:00Z")], []),
    ]  # fmt: skip
    daily = tmp_path / "daily.duckdb"
    for delivery in deliveries:
        ingest([delivery], daily, policy=POLICY)
        kept, from_every_line = _kept_and_from_every_line(daily, tmp_path / "scratch.duckdb")
        assert kept == from_every_line
        _assert_same(_stored(daily).drop("as_of"), _live(daily))

    at = dt.datetime.fromisoformat
    assert kept["usage_event_days"] == [
        (dt.date(2025, 3, 4), 1, at("2025-03-04 10:00"), at("2025-03-04 10:00")),
        (dt.date(2025, 3, 5), 1, at("2025-03-05 10:00"), at("2025-03-05 10:00")),
        (dt.date(2025, 3, 6), 1, at("2025-03-06 09:00"), at("2025-03-06 09:00")),
    ]
    days = [(d, lines, email, phone, flagged) for d, _, lines, _, _, email, phone, _, flagged, _, _ in
            kept["diagnostic_service_days"]]  # fmt: skip
    assert days == [
        (dt.date(2025, 3, 1), 2, 1, 0, 1),
        (dt.date(2025, 3, 2), 1, 0, 0, 0),
        (dt.date(2025, 3, 5), 25, 0, 25, 25),
    ]
    flagged = sorted((d, at_) for d, _, _, at_ in kept["diagnostic_flagged_lines"])
    assert flagged == [(dt.date(2025, 3, 1), at("2025-03-01 09:00"))] + [
        (dt.date(2025, 3, 5), at(f"2025-03-05 12:{i:02d}")) for i in range(5, 25)
    ]
    whole = tmp_path / "whole.duckdb"
    ingest(deliveries, whole, policy=POLICY)
    with duckdb.connect(str(whole), read_only=True) as con:
        assert _log_day_rows(con) == kept
    _assert_same(_stored(daily).drop("as_of"), _stored(whole).drop("as_of"))


def test_an_older_database_gets_the_tables_from_every_line(tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    first = _delivery(tmp_path / "d0", "2025-03-03", [("u1", "2025-03-03T10:00:00Z")], _phone_lines("2025-03-03", 2))
    ingest([first], db, policy=POLICY)
    with duckdb.connect(str(db)) as con:  # as versions before the tables left it
        before = _log_day_rows(con)
        for log in LOG_DAYS:
            con.execute(f"drop table {log.table}").fetchall()
    ingest([_delivery(tmp_path / "d1", "2025-03-04", [], [])], db, policy=POLICY)
    with duckdb.connect(str(db), read_only=True) as con:
        assert _log_day_rows(con) == before
    assert [len(rows) for rows in before.values()] == [1, 1, 2]
    logs = _stored(db).filter(_stored(db)["control_id"] == "datamap.personal_data_in_logs")
    assert logs["status"].to_list() == ["alarm"] and len(logs["evidence"][0]) == 2
