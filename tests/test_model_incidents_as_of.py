"""incidents_as_of on the hand-made incidents of tests/incident_case.py, as of 2025-03-10 (answers worked out by hand).
incident.notification_late and incident_clocks both read it."""

from __future__ import annotations

import datetime as dt

from incident_case import INCIDENTS, PARAMS

from compliance.queries import run_query

T = dt.datetime


def test_incidents_as_of(make_db, policy) -> None:
    con = make_db({"incidents": INCIDENTS})
    out = run_query(con, "incidents_as_of", PARAMS, policy).sort("incident_id")
    cols = ["incident_id", "regulator_at", "is_gdpr", "is_au", "au_assessed_date", "au_days", "au_late"]
    assert out.select(cols).rows() == [
        ("i-au", None, False, True, dt.date(2025, 2, 5), 35, True),
        ("i-de-gb", T(2025, 1, 10, 8), True, False, None, None, False),
        ("i-eu-high", None, True, False, None, None, False),
        ("i-none", None, False, False, None, None, False),
        ("i-nopd", None, True, False, None, None, False),
    ]  # i-later detected after as_of
