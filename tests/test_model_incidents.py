"""The incident models (incident_regimes, incidents_as_of, incident_notices) on hand-made incidents, as of 2025-03-10
with the limits of settings.yaml (GDPR 72 hours to notify the regulator, AU 30 days to assess); answers worked out
by hand. incident.notification_late and incident_clocks both read them."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)
T = dt.datetime


def _inc(incident_id: str, jurisdictions: str | None, detected_at: str, **kw: object) -> dict[str, object]:
    return {"incident_id": incident_id, "jurisdictions": jurisdictions, "detected_at": detected_at,
            "personal_data_involved": True, "severity": "low", **kw}  # fmt: skip


INCIDENTS = [
    # Germany and Great Britain: the EU and UK regimes; notified 10 Jan, 48 h after detection.
    _inc("i-de-gb", "DE; gb", "2025-01-08 08:00:00", regulator_notified_at="2025-01-10 08:00:00"),
    # AU, assessed 5 Feb (35 Australian days after 1 Jan): over 30; the notice stamped after as_of is dropped.
    _inc("i-au", "AU", "2025-01-01 09:00:00", assessment_completed_at="2025-02-05 09:00:00",
         regulator_notified_at="2025-03-12 09:00:00"),
    # 'EUX' is no code: matched as whole items only. Involvement unknown.
    _inc("i-none", "EUX;US-CA", "2025-02-01 09:00:00", personal_data_involved=None),
    # Detected after as_of.
    _inc("i-later", "EU", "2025-03-11 09:00:00"),
    # No personal data, EU, high severity: no notice is owed.
    _inc("i-nopd", "EU", "2025-03-01 09:00:00", personal_data_involved=False, severity="high"),
    # EU, high: the regulator's row says not required; nothing to subjects after 72 h -> Art. 34 missing.
    _inc("i-eu-high", "EU", "2025-03-01 09:00:00", severity="critical"),
]  # fmt: skip
NOTICES = [
    {"incident_id": "i-eu-high", "jurisdiction": "eu", "party": "regulator", "notified_at": None,
     "not_required_reason": "unlikely to result in a risk"},
]  # fmt: skip
PARAMS = {"as_of": AS_OF, "incidents_gdpr_notification_hours": 72.0, "incidents_au_assessment_days": 30}


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
