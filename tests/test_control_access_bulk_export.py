"""access.bulk_export on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Settings: more than 5000 personal-data records exported, read or searched by one actor within a sliding
60-minute window (bounds included) is an alarm; exports by a service account to an approved recipient
(backups) are not counted.
"""

from __future__ import annotations

import datetime as dt

import pytest
from rows import audit_event

from tests.findings_support import alarm, assert_findings, ok, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _ev(event_id: str, actor_id: str, at: str, action: str, records: int, **kw: object) -> dict[str, object]:
    """A platform admin's action on `records` contact emails (exports go to google.com)."""
    fields = {"actor_role": "platform_admin", "resource_type": "contact", "categories": ["user.contact.email"],
              "record_count": records, "recipient": "google.com" if action == "export" else None} | kw  # fmt: skip
    return audit_event(event_id, actor_id, at, action, **fields)


def test_access_bulk_export(control_findings) -> None:
    rows = [
        # emp-x: 3000 exported at 09:50 and 2500 searched at 10:20, across the 10:00 block boundary:
        # 5500 > 5000 within 30 minutes -> alarm, high (an export is involved). The 100-record read at 11:30
        # only sees 2500 + 100 in its window -> that day has 1 window over the threshold.
        _ev("x-1", "emp-x", "2025-03-04 09:50:00", "export", 3000),
        _ev("x-2", "emp-x", "2025-03-04 10:20:00", "search", 2500),
        _ev("x-3", "emp-x", "2025-03-04 11:30:00", "read", 100),
        # emp-y: 3000 at 09:00:00 and 2500 at 10:00:01, 60 min 1 s apart: never in one window -> ok. A
        # 10000-record export of non-personal data and a denied one are not counted.
        _ev("y-1", "emp-y", "2025-03-05 09:00:00", "read", 3000),
        _ev("y-2", "emp-y", "2025-03-05 10:00:01", "read", 2500),
        _ev("y-sys", "emp-y", "2025-03-05 09:30:00", "export", 10000, categories=[], resource_type="service_log"),
        _ev("y-denied", "emp-y", "2025-03-05 09:40:00", "export", 10000, outcome="denied"),
        # emp-z: one 6000-record read -> alarm, medium (reads only).
        _ev("z-1", "emp-z", "2025-03-06 14:00:00", "read", 6000),
        # svc-bk: a service account's 50000-record export to aws (approved) is a backup -> ok, noted.
        _ev("bk-1", "svc-bk", "2025-03-07 01:00:00", "export", 50000, actor_type="service", actor_role="svc_backup",
            recipient="aws"),
        # emp-w: a person exporting 6000 to the same approved recipient is not a backup -> alarm high.
        _ev("w-1", "emp-w", "2025-03-07 02:00:00", "export", 6000, recipient="amazonaws.com"),
        # svc-leak: a service account exporting 6000 to an unapproved domain counts -> alarm high.
        _ev("leak-1", "svc-leak", "2025-03-07 03:00:00", "export", 6000, actor_type="service",
            actor_role="svc_backup", recipient="dropbox.com"),
        # After as_of: not counted.
        _ev("y-future", "emp-y", "2025-03-11 09:10:00", "export", 9000),
    ]  # fmt: skip
    by = control_findings("access_bulk_export", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-x@2025-03-04": alarm(
                "high",
                reason="emp-x read, searched or exported 5500 personal-data records within 60 minutes, from 2025-03-04 "
                "09:50:00 to 2025-03-04 10:20:00 UTC (2 events, 1 export), above the 5000-record bulk threshold; 1 "
                "window ending that day exceeded it.",
                evidence=["x-1", "x-2"],  # largest first
                observed_at=dt.datetime(2025, 3, 4, 10, 20),
            ),
            "actor:emp-y": ok(
                reason="emp-y: 5500 personal-data records read, searched or exported in 2 events; the busiest UTC day "
                "held 5500 and no 60-minute window exceeded 5000 records."
            ),
            "actor:emp-z@2025-03-06": alarm("medium", evidence=["z-1"]),
            "actor:svc-bk": ok(
                reason="svc-bk: 0 personal-data records read, searched or exported in 0 events; the busiest UTC day held "
                "0 and no 60-minute window exceeded 5000 records; not counted: 1 export (50000 records) by this "
                "service account to approved recipients (backups)."
            ),
            "actor:emp-w@2025-03-07": alarm("high"),
            "actor:svc-leak@2025-03-07": alarm("high"),
        },
    )


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        # 3000 at 09:00:00 and 2500 at exactly 10:00:00: the window ending at 10:00 starts at 09:00 inclusive.
        pytest.param(
            [
                _ev("e-1", "emp-e", "2025-03-04 09:00:00", "read", 3000),
                _ev("e-2", "emp-e", "2025-03-04 10:00:00", "read", 2500),
            ],
            [("actor:emp-e@2025-03-04", "alarm", ["e-1", "e-2"])],
            id="window_bounds_are_inclusive",
        ),
        # 3000 at 23:50 on 4 Mar and 2500 at 00:20 on 5 Mar: one 30-minute window over two UTC days (two adjacent
        # day blocks, each under 5000 on its own) -> alarm on the day the window ends.
        pytest.param(
            [
                _ev("m-1", "emp-m", "2025-03-04 23:50:00", "read", 3000),
                _ev("m-2", "emp-m", "2025-03-05 00:20:00", "read", 2500),
            ],
            [("actor:emp-m@2025-03-05", "alarm", ["m-1", "m-2"])],
            id="window_across_midnight",
        ),
    ],
)
def test_one_window_holds_both_reads(
    control_findings, rows: list[dict[str, object]], expected: list[tuple[str, str, list[str]]]
) -> None:
    by = control_findings("access_bulk_export", {"audit_events": rows}, as_of=AS_OF)
    assert verdict_list(by, "status", "evidence") == expected


def test_a_window_over_a_day_judges_blocks_of_several_days(control_findings) -> None:
    """A 2880-minute (two-day) window: blocks of two UTC days (from the epoch, so 2025-03-03 and 03-04 make one), the
    busiest block of an ok row is two days' records, and a window spans the block boundary."""
    rows = [
        # emp-o: 2000 + 2500 in one block (03-03, 03-04), 100 in the next (03-05): the busiest block holds 4500, no
        # 2-day window more than 5000 -> ok.
        _ev("o-1", "emp-o", "2025-03-03 09:00:00", "read", 2000),
        _ev("o-2", "emp-o", "2025-03-04 09:00:00", "read", 2500),
        _ev("o-3", "emp-o", "2025-03-05 09:00:01", "read", 100),
        # emp-q: 3000 at 03-04 20:00 and 2500 at 03-06 10:00 (next block), 38 hours apart -> alarm on 03-06.
        _ev("q-1", "emp-q", "2025-03-04 20:00:00", "read", 3000),
        _ev("q-2", "emp-q", "2025-03-06 10:00:00", "read", 2500),
    ]
    by = control_findings("access_bulk_export", {"audit_events": rows}, as_of=AS_OF, bulk_export_window_minutes=2880)
    assert verdict_list(by, "status", "evidence") == [
        ("actor:emp-o", "ok", []),
        ("actor:emp-q@2025-03-06", "alarm", ["q-1", "q-2"]),
    ]
    assert by["actor:emp-o"]["reason"] == (
        "emp-o: 4600 personal-data records read, searched or exported in 3 events; the busiest 2-day block held 4500 "
        "and no 2880-minute window exceeded 5000 records."
    )
