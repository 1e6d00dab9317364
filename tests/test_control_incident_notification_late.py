"""incident.notification_late on hand-made incidents, as of 2025-03-10 with the limits of settings.yaml
(GDPR 72 hours to notify the regulator, AU 30 days to assess); answers worked out by hand."""

from __future__ import annotations

import datetime as dt

from tests.findings_support import alarm, assert_findings, finding, ok

AS_OF = dt.date(2025, 3, 10)


def _inc(incident_id: str, jurisdictions: str, detected_at: str, **kw: object) -> dict[str, object]:
    return {"incident_id": incident_id, "jurisdictions": jurisdictions, "detected_at": detected_at,
            "personal_data_involved": True, **kw}  # fmt: skip


def _notice(incident_id: str, jurisdiction: str, party: str, at: str | None, reason: str | None = None) -> dict:
    return {"incident_id": incident_id, "jurisdiction": jurisdiction, "party": party, "notified_at": at,
            "not_required_reason": reason}  # fmt: skip


AU_DONE = {"regulator_notified_at": "2025-02-21 09:00:00", "subjects_notified_at": "2025-02-22 09:00:00"}


def test_incident_notification_late(control_findings) -> None:
    tables = {
        "incidents": [
            # Notified 96 h after detection (> 72) -> alarm, critical.
            _inc("inc-gdpr-late", "EU", "2025-01-10 08:00:00", regulator_notified_at="2025-01-14 08:00:00"),
            # UK, notified after 60 h -> ok.
            _inc("inc-gdpr-ok", "UK", "2025-01-10 08:00:00", regulator_notified_at="2025-01-12 20:00:00"),
            # EU and AU, nothing done: by the end of 10 Mar 84 h have passed (> 72) -> critical; the AU
            # assessment is 3 days in, within 30, so the OAIC statement is not due yet.
            _inc("inc-gdpr-open", "EU; AU", "2025-03-07 12:00:00"),
            # Detected 9 Mar noon: 36 h by the end of 10 Mar -> not late yet -> ok.
            _inc("inc-gdpr-pending", "EU", "2025-03-09 12:00:00"),
            # AU assessment 35 days after detection (> 30) -> alarm, high.
            _inc("inc-au-late", "AU", "2025-01-01 09:00:00", assessment_completed_at="2025-02-05 09:00:00", **AU_DONE),
            # AU not assessed, 49 days after 20 Jan on 10 Mar -> alarm, high.
            _inc("inc-au-open", "AU", "2025-01-20 09:00:00"),
            # Assessed after 19 days, statement (s26WK) and individuals (s26WL) notified -> ok.
            _inc("inc-au-ok", "AU", "2025-02-01 09:00:00", assessment_completed_at="2025-02-20 09:00:00", **AU_DONE),
            # Assessed after 19 days, but no statement to the OAIC and no notice to individuals -> alarm, high.
            _inc("inc-au-silent", "AU", "2025-02-01 09:00:00", assessment_completed_at="2025-02-20 09:00:00"),
            # Detected 1 Feb 14:00Z = Sun 2 Feb 01:00 AEDT; assessed 4 Mar 10:00Z = 4 Mar 21:00 AEDT: 30 Australian
            # days (s26WH) -> ok, although the UTC dates (1 Feb -> 4 Mar) are 31 days apart.
            _inc("inc-au-local", "AU", "2025-02-01 14:00:00", assessment_completed_at="2025-03-04 10:00:00",
                 regulator_notified_at="2025-03-05 00:00:00", subjects_notified_at="2025-03-06 00:00:00"),
            # Countries work too: GB is UK GDPR; notified after 80 h -> alarm, critical.
            _inc("inc-gb", "GB", "2025-01-10 08:00:00", regulator_notified_at="2025-01-13 16:00:00"),
            # Only US-CA: neither clock applies -> ok.
            _inc("inc-us", "US-CA", "2025-01-01 09:00:00"),
            # EU and UK: the lead authority was told after 16 h (notifications source), the ICO never -> critical.
            _inc("inc-eu-uk", "EU;UK", "2025-01-10 08:00:00"),
            # A recorded determination that the breach is unlikely to result in a risk: no notice owed -> ok.
            _inc("inc-no-risk", "EU", "2025-01-10 08:00:00"),
            # High severity: the regulator was told in 24 h, but the data subjects never (GDPR Art. 34) -> high.
            _inc("inc-high", "EU", "2025-01-10 08:00:00", severity="high",
                 regulator_notified_at="2025-01-11 08:00:00"),
            # Personal data involvement unknown: listed for review (info, medium), judged as if involved.
            _inc("inc-unknown", "EU", "2025-03-09 12:00:00", personal_data_involved=None),
            # Not examined: no personal data, and detected after as_of.
            _inc("inc-nopd", "EU", "2025-01-01 09:00:00", personal_data_involved=False),
            _inc("inc-future", "EU", "2025-03-12 09:00:00"),
        ],
        "incident_notifications": [
            _notice("inc-eu-uk", "EU", "regulator", "2025-01-11 00:00:00"),
            _notice("inc-no-risk", "EU", "regulator", None,
                    "unlikely to result in a risk (Art. 33(1)): encrypted laptop, key not compromised"),
        ],
    }  # fmt: skip
    rows = control_findings("incident_notification_late", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "incident:inc-gdpr-late": alarm(
                "critical",
                reason="Incident inc-gdpr-late with personal data (EU), detected 2025-01-10 08:00:00: GDPR Art. 33: EU "
                "lead supervisory authority: notified 2025-01-14 08:00:00, 96.0 h after detection (limit 72 h); "
                "critical: GDPR Art. 33 notification late.",
                evidence=["inc-gdpr-late"],
                observed_at=dt.datetime(2025, 1, 10, 8),
            ),
            "incident:inc-gdpr-ok": ok(),
            "incident:inc-gdpr-open": alarm(
                "critical",
                reason="Incident inc-gdpr-open with personal data (EU; AU), detected 2025-03-07 12:00:00: Privacy Act "
                "s26WH: assessment not completed, 3 days after detection as of 2025-03-10 (limit 30 days); GDPR "
                "Art. 33: EU lead supervisory authority: not notified, 84.0 h after detection by the end of "
                "2025-03-10 (limit 72 h); Privacy Act s26WK: statement to the OAIC: not yet due as of 2025-03-10; "
                "Privacy Act s26WL: notice to individuals: not yet due as of 2025-03-10; critical: GDPR Art. 33 "
                "notification late.",
            ),
            "incident:inc-gdpr-pending": ok(),
            "incident:inc-au-late": alarm("high"),
            "incident:inc-au-open": alarm("high"),
            "incident:inc-au-ok": ok(),
            "incident:inc-au-silent": alarm("high"),
            "incident:inc-au-local": ok(),
            "incident:inc-gb": alarm("critical"),
            "incident:inc-us": ok(),
            "incident:inc-eu-uk": alarm("critical"),
            "incident:inc-no-risk": ok(),
            "incident:inc-high": alarm("high"),
            "incident:inc-unknown": finding("info", "medium"),
        },
    )
    assert (
        "assessment completed 2025-02-05, 35 days after detection (limit 30 days)"
        in (rows["incident:inc-au-late"]["reason"])
    )
    assert "80.0 h after detection" in rows["incident:inc-gb"]["reason"]
    assert "49 days after detection" in rows["incident:inc-au-open"]["reason"]
    assert "no GDPR or AU notification clock applies" in rows["incident:inc-us"]["reason"]
    assert "assessment completed 2025-03-04, 30 days after detection" in rows["incident:inc-au-local"]["reason"]
    assert "statement to the OAIC: no notice recorded as of 2025-03-10" in rows["incident:inc-au-silent"]["reason"]
    eu_uk = rows["incident:inc-eu-uk"]["reason"]
    assert "EU lead supervisory authority: notified 2025-01-11 00:00:00, 16.0 h after detection" in eu_uk
    assert "UK GDPR Art. 33: ICO: not notified, 1432.0 h after detection by the end of 2025-03-10" in eu_uk
    assert "not required (unlikely to result in a risk (Art. 33(1))" in rows["incident:inc-no-risk"]["reason"]
    assert "GDPR Art. 34: EU data subjects: no notice recorded as of 2025-03-10" in rows["incident:inc-high"]["reason"]
    assert "personal data involvement unknown: listed for review" in rows["incident:inc-unknown"]["reason"]
