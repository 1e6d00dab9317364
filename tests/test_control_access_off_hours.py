"""access.off_hours on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Settings: at least 50 records in one local clock hour outside business hours (07:00-19:00, ISO weekdays 1-5,
in the actor's own time zone), at an hour holding under 2% of their events of the previous 90 days.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)
CONTACT = ["user.contact.email"]
# Ten weekdays of February 2025: Mon 3 .. Fri 7 and Mon 10 .. Fri 14.
FEB_WEEKDAYS = [3, 4, 5, 6, 7, 10, 11, 12, 13, 14]


def _ev(event_id: str, actor_id: str, at: str, tz: str, **kw: object) -> dict[str, object]:
    """A support lead's 1-record contact read in time zone `tz` (`kw` changes any field)."""
    fields = {"actor_role": "support_lead", "resource_type": "contact", "categories": CONTACT, "record_count": 1}
    return audit_event(event_id, actor_id, at, "read", actor_timezone=tz) | fields | kw


def _baseline(actor_id: str, tz: str, utc_time: str, day_shift: int = 0) -> list[dict[str, object]]:
    """One 1-record read per February weekday at a fixed UTC time (`day_shift` moves the UTC date)."""
    return [_ev(f"{actor_id}-base-{d}", actor_id, f"2025-02-{d + day_shift:02d} {utc_time}", tz) for d in FEB_WEEKDAYS]


def test_access_off_hours(control_findings) -> None:
    rows = [
        # emp-a, Sydney (AEDT, UTC+11 until April): works 10:00 local, i.e. 23:00 UTC the day before.
        *_baseline("emp-a", "Australia/Sydney", "23:00:00", day_shift=-1),
        # Sat 8 Mar 15:30 UTC = Sun 9 Mar 02:30 in Sydney: a weekend night hour with none of her 10 baseline
        # events (share 0% < 2%), 120 records >= 50 -> alarm, high because it is an export. The resource
        # carries the UTC date 2025-03-08, the reason the local Sunday.
        _ev("a-night", "emp-a", "2025-03-08 15:30:00", "Australia/Sydney", action="export", record_count=120,
            recipient="google.com"),
        # emp-b, Kolkata (UTC+5:30): works 11:00 local = 05:30 UTC.
        *_baseline("emp-b", "Asia/Kolkata", "05:30:00"),
        # Wed 5 Mar 13:45 and 14:05 UTC = 19:15 and 19:35 IST: the 19:00 hour, just after business hours
        # (a whole-hour offset of +5 would put the first at 18:45, inside them). 80 + 5 = 85 records, no
        # baseline event at 19:00 -> alarm, medium (searches only). Evidence: largest first.
        _ev("b-night-1", "emp-b", "2025-03-05 13:45:00", "Asia/Kolkata", action="search", record_count=80),
        _ev("b-night-2", "emp-b", "2025-03-05 14:05:00", "Asia/Kolkata", action="search", record_count=5),
        # emp-c, London (GMT): a night worker, all 10 baseline events at 22:10. A 200-record read at 22:30 on
        # Thu 6 Mar is off-hours and big, but 10/10 = 100% of her baseline is at 22:00 -> usual -> ok.
        *_baseline("emp-c", "Europe/London", "22:10:00"),
        _ev("c-night", "emp-c", "2025-03-06 22:30:00", "Europe/London", record_count=200),
        # emp-d, UTC: a 10-record read at 23:00 is off-hours but under 50 records -> ok.
        _ev("d-small", "emp-d", "2025-03-04 23:00:00", "UTC", record_count=10),
        # ... a denied export at night does not count (outcome), nor does a read after as_of.
        _ev("d-denied", "emp-d", "2025-03-05 02:00:00", "UTC", action="export", outcome="denied", record_count=900),
        _ev("d-future", "emp-d", "2025-03-11 03:00:00", "UTC", record_count=500),
        # Service accounts and customer users are not people of the workforce: not examined at all.
        _ev("svc-night", "svc-backup", "2025-03-08 02:00:00", "UTC", actor_type="service", action="export",
            record_count=5000, recipient="aws"),
        _ev("cu-night", "cu-1", "2025-03-08 02:00:00", "UTC", actor_type="customer_user", record_count=900),
        # A night login of emp-e touches no personal data: emp-e is not examined either.
        _ev("e-login", "emp-e", "2025-03-08 02:00:00", "UTC", action="login", categories=[], resource_type=None),
    ]  # fmt: skip
    by = control_findings("access_off_hours", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-a@2025-03-08": alarm(
                "high",
                reason="emp-a (Australia/Sydney) read, searched or exported 120 personal-data records in 1 event (1 "
                "export) outside business hours 07:00-19:00 on ISO weekdays [1, 2, 3, 4, 5], at hours unusual for "
                "them: Sun 2025-03-09 02:00 local (120 records; 0.0% of their 10 events in the previous 90 days "
                "fell in that hour); alarm at >= 50 records in an hour holding under 2.0% of their usual activity.",
                evidence=["a-night"],
                observed_at=dt.datetime(2025, 3, 8, 15, 30),
            ),
            "actor:emp-b@2025-03-05": alarm("medium"),
            "actor:emp-c": ok(
                # emp-c: 10 baseline reads + the night read, each on its own day and each at 22:00 (off-hours).
                reason="emp-c (Europe/London): 11 personal-data read, search or export events on 11 local days; 11 clock "
                "hours with such events fell outside business hours 07:00-19:00 on ISO weekdays [1, 2, 3, 4, 5]; "
                "none reached 50 records at an hour unusual for them.",
                evidence=[],
            ),
            "actor:emp-d": ok(observed_at=dt.datetime(2025, 3, 4, 23, 0)),
        },
    )
    b = by["actor:emp-b@2025-03-05"]
    assert "85 personal-data records in 2 events outside" in b["reason"]
    assert "Wed 2025-03-05 19:00 local (85 records; 0.0% of their 10 events" in b["reason"]
    assert b["evidence"] == ["b-night-1", "b-night-2"]


def test_local_time_conversion_follows_daylight_saving(make_db) -> None:
    """The CTE's `(ts at time zone 'UTC') at time zone tz` gives local wall time, DST and half hours included."""
    con = make_db({})
    got = con.sql(
        """
        select
            (timestamp '2025-03-08 15:30:00' at time zone 'UTC') at time zone 'Australia/Sydney',
            (timestamp '2025-05-08 15:30:00' at time zone 'UTC') at time zone 'Australia/Sydney',
            (timestamp '2025-03-05 13:45:00' at time zone 'UTC') at time zone 'Asia/Kolkata'
        """
    ).fetchall()[0]
    # Sydney is UTC+11 in March (daylight time) and UTC+10 in May; Kolkata is UTC+5:30 all year.
    assert got == (dt.datetime(2025, 3, 9, 2, 30), dt.datetime(2025, 5, 9, 1, 30), dt.datetime(2025, 3, 5, 19, 15))
