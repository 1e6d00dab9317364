"""incident_notices on the hand-made incidents of tests/incident_case.py, as of 2025-03-10 (answers worked out by hand).
incident.notification_late and incident_clocks both read it."""

from __future__ import annotations

from incident_case import INCIDENTS, NOTICES, PARAMS

from compliance.queries import run_query


def test_incident_notices(make_db, policy) -> None:
    con = make_db({"incidents": INCIDENTS, "incident_notifications": NOTICES})
    out = run_query(con, "incident_notices", PARAMS, policy).sort("incident_id", "position")
    assert out.select("incident_id", "jurisdiction", "party", "hours_to_notice", "verdict").rows() == [
        # assessed 5 Feb: the OAIC statement and the notice to individuals are due and missing; 1 Jan 09:00 to the
        # end of 10 Mar is 68 days 15 h
        ("i-au", "AU", "oaic_statement", 1647.0, "missing"),
        ("i-au", "AU", "subjects", 1647.0, "missing"),
        ("i-de-gb", "EU", "regulator", 48.0, "notified"),
        ("i-de-gb", "UK", "regulator", 48.0, "notified"),  # low severity: no Art. 34 notice owed
        ("i-eu-high", "EU", "regulator", 231.0, "not_required"),
        ("i-eu-high", "EU", "subjects", 231.0, "missing"),
    ]  # i-none falls under no regime; i-nopd involved no personal data
