"""incident_regimes on the hand-made incidents of tests/incident_case.py, as of 2025-03-10 (answers worked out by hand).
incident.notification_late and incident_clocks both read it."""

from __future__ import annotations

from incident_case import INCIDENTS

from compliance.queries import run_query


def test_incident_regimes(make_db, policy) -> None:
    con = make_db({"incidents": INCIDENTS})
    out = run_query(con, "incident_regimes", {}, policy).sort("incident_id", "jurisdiction")
    assert out.rows() == [
        ("i-au", "AU"),
        ("i-de-gb", "EU"),
        ("i-de-gb", "UK"),
        ("i-eu-high", "EU"),
        ("i-later", "EU"),
        ("i-nopd", "EU"),
    ]  # i-none: neither 'EUX' nor US-CA is a notification regime
