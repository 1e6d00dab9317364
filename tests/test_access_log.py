"""compliance.access_log: the append-only, hash-chained log and its review control."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from compliance.access_log import AccessLog, read_log, recent_failures, review, verify_chain
from compliance.controls import FINDINGS_SCHEMA

DAY = date(2025, 3, 10)


def _at(hour: int, day: int = 10) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


def test_rows_are_appended_privately_and_chained(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "db.duckdb.access-log.jsonl")
    log.append("ann", "sign_in", method="local", roles=["viewer"], page="sign-in")
    log.append("ann", "page_view", roles=["viewer"], page="dsr", detail={"as_of": DAY, "jur": ["EU"]})
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    rows = read_log(log.path)
    assert rows["event"].to_list() == ["sign_in", "page_view"]
    assert json.loads(rows["detail"][1]) == {"as_of": "2025-03-10", "jur": ["EU"]}
    assert rows["prev_hash"][1] == rows["hash"][0]
    assert verify_chain(log.path) == []


def test_an_edited_or_removed_row_breaks_the_chain(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "log.jsonl")
    for i in range(4):
        log.append("ann", "reveal", roles=["investigator"], what=f"A-{i}")
    lines = log.path.read_text().splitlines()
    log.path.write_text("\n".join([lines[0], lines[1].replace("A-1", "A-9"), *lines[2:]]) + "\n")
    assert verify_chain(log.path) == [2]  # the edited row: its hash no longer matches its content
    log.path.write_text("\n".join([lines[0], *lines[2:]]) + "\n")
    assert verify_chain(log.path) == [2]


def test_concurrent_sessions_never_interleave(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "log.jsonl")
    threads = [
        threading.Thread(target=lambda n=n: [log.append(f"u{n}", "page_view") for _ in range(25)]) for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read_log(log.path).height == 100
    assert verify_chain(log.path) == []


def test_an_absent_log_reads_empty_and_reviews_to_skip(tmp_path: Path) -> None:
    empty = read_log(tmp_path / "none.jsonl")
    assert empty.height == 0
    findings = review(empty, DAY)
    assert findings["status"].to_list() == ["skip"]
    assert dict(findings.schema) == dict(FINDINGS_SCHEMA)


def test_the_review_flags_what_no_role_allows_and_bulk_real_id_downloads(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "log.jsonl")
    log.append("vera", "reveal", roles=["viewer"], what="subject S-1", at=_at(9))  # impossible: alarm critical
    log.append("vera", "refusal", roles=["viewer"], what="reveal: subject S-2", at=_at(9))
    log.append("ivan", "reveal", roles=["investigator"], what="actor A-1", at=_at(10))  # allowed: ok
    log.append("aude", "download", roles=["auditor"], real_ids=True, rows=600, at=_at(8))
    log.append("aude", "download", roles=["auditor"], real_ids=True, rows=600, at=_at(11))  # 1,200 in a day
    log.append("bob", "download", roles=["auditor"], real_ids=True, rows=900, at=_at(11))  # under the threshold
    log.append("carl", "download", roles=["viewer"], real_ids=True, rows=1, at=_at(12))  # impossible
    log.append("late", "reveal", roles=["viewer"], at=_at(1, day=11))  # after the as-of date: not reviewed
    findings = review(read_log(log.path), DAY, bulk_rows=1000, window_hours=24)
    by = {(r["resource"].split("@")[0], r["status"], r["severity"]) for r in findings.iter_rows(named=True)}
    assert by == {
        ("user:vera", "alarm", "critical"),
        ("user:vera", "info", "info"),
        ("user:carl", "alarm", "critical"),
        ("user:aude", "alarm", "high"),
        ("user:ivan", "ok", "info"),
        ("user:bob", "ok", "info"),
    }
    bulk = findings.filter(pl.col("resource").str.starts_with("user:aude")).row(0, named=True)
    assert "1200 rows with real identifiers in 2 download(s) within 24 hours (threshold 1000)" in bulk["reason"]
    assert len(bulk["evidence"]) == 2  # the two rows' hashes


def test_recent_failures_count_one_user_within_the_window(tmp_path: Path) -> None:
    log = AccessLog(tmp_path / "log.jsonl")
    now = _at(12)
    for minutes_ago in (1, 5, 14, 16, 60):
        log.append("vera", "sign_in_failed", at=now - timedelta(minutes=minutes_ago))
    log.append("ivan", "sign_in_failed", at=now)
    log.append("vera", "sign_in", at=now)
    assert recent_failures(log.path, "vera", 15, now=now) == 3
    assert recent_failures(log.path, "ivan", 15, now=now) == 1
    assert recent_failures(tmp_path / "absent.jsonl", "vera", 15, now=now) == 0
