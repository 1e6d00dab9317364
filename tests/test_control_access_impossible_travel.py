"""access.impossible_travel on hand-made logins, as of 2025-03-10 (answers worked out by hand).

Settings: two successive successful logins of one actor at least 500 km apart (haversine, R = 6371 km)
and faster than 900 km/h. Distances below were computed with the same formula.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)
SYDNEY, LONDON, MELBOURNE = (-33.87, 151.21), (51.51, -0.13), (-37.81, 144.96)
FRANKFURT, MADRID = (50.11, 8.68), (40.42, -3.70)


def _login(event_id: str, actor_id: str, at: str, country: str, where: tuple[float, float] | None, **kw: object):
    fields = {"action": "login", "geo_country": country, "geo_lat": where[0] if where else None,
              "geo_lon": where[1] if where else None} | kw  # fmt: skip
    return audit_event(event_id, actor_id, at, **fields)


def test_access_impossible_travel(control_findings) -> None:
    rows = [
        # emp-a: Sydney 00:00 UTC, London 06:00 UTC on 4 Mar: 16994 km in 6 h = 2832 km/h -> alarm. A failed
        # login from Madrid in between is not a login.
        _login("a-syd", "emp-a", "2025-03-04 00:00:00", "AU", SYDNEY),
        _login("a-fail", "emp-a", "2025-03-04 03:00:00", "ES", MADRID, action="login_failed", outcome="failure"),
        _login("a-lon", "emp-a", "2025-03-04 06:00:00", "GB", LONDON),
        # emp-b: Sydney -> Melbourne in 1 h (713 km/h) and Melbourne -> London in 48 h (352 km/h) -> ok.
        _login("b-syd", "emp-b", "2025-03-04 00:00:00", "AU", SYDNEY),
        _login("b-mel", "emp-b", "2025-03-04 01:00:00", "AU", MELBOURNE),
        _login("b-lon", "emp-b", "2025-03-06 01:00:00", "GB", LONDON),
        # emp-c: an AU login without coordinates (the AU centroid) 10 minutes before a Sydney one: same country
        # with a centroid says nothing -> pair skipped. Then NZ without coordinates (centroid -40.90, 174.89)
        # 30 min after Sydney: 2225 km in 0.5 h = 4450 km/h -> alarm on 5 Mar.
        _login("c-au", "emp-c", "2025-03-05 08:50:00", "AU", None),
        _login("c-syd", "emp-c", "2025-03-05 09:00:00", "AU", SYDNEY),
        _login("c-nz", "emp-c", "2025-03-05 09:30:00", "NZ", None),
        # emp-d: a login from an unknown country without coordinates cannot be placed and is skipped.
        _login("d-1", "emp-d", "2025-03-05 09:00:00", "AU", SYDNEY),
        _login("d-2", "emp-d", "2025-03-05 09:05:00", "ZZ", None),
        # emp-e: Frankfurt and Madrid (1445 km) at the same second -> alarm, no time between them.
        _login("e-fra", "emp-e", "2025-03-07 12:00:00", "DE", FRANKFURT),
        _login("e-mad", "emp-e", "2025-03-07 12:00:00", "ES", MADRID),
        # After as_of: ignored (it would be a jump back to Sydney within an hour).
        _login("b-future", "emp-b", "2025-03-11 00:00:00", "AU", SYDNEY),
    ]  # fmt: skip
    by = control_findings("access_impossible_travel", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-a@2025-03-04": alarm(
                "high",
                reason="emp-a logged in from AU at 2025-03-04 00:00:00 UTC and from GB at 2025-03-04 06:00:00 UTC: 16994 "
                "km in 360 minutes (2832 km/h), faster than 900.0 km/h over at least 500.0 km; 1 such pair that "
                "day.",
                evidence=["a-syd", "a-lon"],
                observed_at=dt.datetime(2025, 3, 4, 6, 0),
            ),
            "actor:emp-b": ok(),
            "actor:emp-c@2025-03-05": alarm("high"),
            "actor:emp-d": ok(
                reason="emp-d: 1 located successful login from 1 country (AU); no two successive logins at least 500.0 km "
                "apart faster than 900.0 km/h."
            ),
            "actor:emp-e@2025-03-07": alarm("high"),
        },
    )
    c = by["actor:emp-c@2025-03-05"]
    assert "from NZ (country centroid) at 2025-03-05 09:30:00 UTC: 2225 km in 30 minutes (4450 km/h)" in c["reason"]
    assert c["evidence"] == ["c-syd", "c-nz"]
    assert "1445 km in 0 minutes (no time between them)" in by["actor:emp-e@2025-03-07"]["reason"]


def test_places_too_close_for_any_pair_and_the_boundary(control_findings) -> None:
    """The control orders the logins only of actors whose places span at least the minimum distance (a bound above
    the haversine distance): an actor who never leaves one area keeps its ok row, and pairs on either side of
    500 km at 60 degrees north (where a degree of longitude is about 55.6 km) are judged as before."""
    rows = [
        # emp-f: Sydney, then Parramatta (-33.81, 151.00) a minute later: 21 km (1231 km/h, but under 500 km) -> ok.
        _login("f-syd", "emp-f", "2025-03-04 00:00:00", "AU", SYDNEY),
        _login("f-par", "emp-f", "2025-03-04 00:01:00", "AU", (-33.81, 151.00)),
        # emp-g: (60, 0) then (60, 9.01) 30 minutes later: 500.55 km in 0.5 h = 1001 km/h -> alarm.
        _login("g-1", "emp-g", "2025-03-05 10:00:00", "NO", (60.0, 0.0)),
        _login("g-2", "emp-g", "2025-03-05 10:30:00", "NO", (60.0, 9.01)),
        # emp-h: (60, 0) then (60, 9.0) 30 minutes later: 499.99 km, under the minimum distance -> ok.
        _login("h-1", "emp-h", "2025-03-05 10:00:00", "NO", (60.0, 0.0)),
        _login("h-2", "emp-h", "2025-03-05 10:30:00", "NO", (60.0, 9.0)),
    ]  # fmt: skip
    by = control_findings("access_impossible_travel", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-f": ok(
                reason="emp-f: 2 located successful logins from 1 country (AU); no two successive logins at least "
                "500.0 km apart faster than 900.0 km/h."
            ),
            "actor:emp-g@2025-03-05": alarm("high", evidence=["g-1", "g-2"]),
            "actor:emp-h": ok(),
        },
    )
    assert ": 501 km in 30 minutes (1001 km/h)" in by["actor:emp-g@2025-03-05"]["reason"]
