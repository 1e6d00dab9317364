"""Hand-made incidents as of 2025-03-10, with the limits of settings.yaml (GDPR 72 hours to notify the regulator,
AU 30 days to assess), shared by the fixture tests of the incident models (incident_regimes, incidents_as_of,
incident_notices); the answers are worked out by hand in each test."""

from __future__ import annotations

import datetime as dt

AS_OF = dt.date(2025, 3, 10)


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
