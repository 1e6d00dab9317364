"""Security incidents (incidents/): a handful, notified and assessed in time except the two planted."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from compliance.demo.clock import rfc3339
from compliance.demo.truth import Truth
from compliance.schema import INCIDENT_NOTIFICATIONS

H = timedelta(hours=1)
D = timedelta(days=1)


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text + "+00:00")


# id, detected, personal data, jurisdictions, severity, contained (+), assessed (+), regulator (+), subjects (+), status
INCIDENTS = (
    ("INC-2024-014", _t("2024-11-03T06:40:00"), True, "EU;UK", "high", 5 * H, 30 * H, 40 * H, 6 * D, "closed"),
    ("INC-2025-002", _t("2025-02-17T13:05:00"), False, "", "medium", 2 * H, 2 * D, None, None, "closed"),
    ("INC-2025-005", _t("2025-04-22T00:15:00"), True, "AU", "medium", 9 * H, 12 * D, 14 * D, 16 * D, "closed"),
    (
        "INC-2025-007",
        _t("2025-06-09T17:30:00"),
        True,
        "US-CA;US-OTHER",
        "medium",
        20 * H,
        9 * D,
        None,
        20 * D,
        "closed",
    ),
    ("INC-2025-009", _t("2025-08-04T08:30:00"), True, "EU", "high", 11 * H, 60 * H, 96 * H, 8 * D, "closed"),
    ("INC-2025-011", _t("2025-09-15T02:10:00"), True, "AU", "high", 3 * D, 41 * D, 43 * D, 45 * D, "closed"),
    ("INC-2025-013", _t("2025-11-20T10:45:00"), True, "EU", "low", 3 * H, 20 * H, 30 * H, None, "closed"),
    ("INC-2025-015", _t("2025-12-18T21:20:00"), False, "", "low", 6 * H, None, None, None, "monitoring"),
)


def incidents_frame(truth: Truth) -> pl.DataFrame:
    rows = []
    for iid, det, pd, jur, sev, cont, assess, reg, subj, status in INCIDENTS:
        rows.append(
            {
                "incident_id": iid,
                "detected_at": rfc3339(det),
                "personal_data_involved": pd,
                "jurisdictions": jur or None,
                "severity": sev,
                "contained_at": rfc3339(det + cont) if cont else None,
                "assessment_completed_at": rfc3339(det + assess) if assess else None,
                "regulator_notified_at": rfc3339(det + reg) if reg else None,
                "subjects_notified_at": rfc3339(det + subj) if subj else None,
                "status": status,
            }
        )
    truth.finding(
        "incident.notification_late",
        "incident:INC-2025-009",
        _t("2025-08-04T08:30:00") + 96 * H,
        "GDPR (EU) incident detected 2025-08-04 08:30Z; regulator notified 96 hours later (limit 72 h).",
    )
    truth.finding(
        "incident.notification_late",
        "incident:INC-2025-011",
        _t("2025-09-15T02:10:00") + 41 * D,
        "AU incident detected 2025-09-15; assessment completed after 41 days (limit 30 days).",
    )
    schema = {k: pl.String for k in rows[0]} | {"personal_data_involved": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


def notifications_frame() -> pl.DataFrame:
    """incident_notifications/: each notice the register records, one row per jurisdiction and party.

    The GDPR regulator notice goes to each regime's authority (the lead authority for the EU, the ICO for the
    UK) at the recorded time; in Australia the regulator notice is the statement to the OAIC (s26WK).
    """
    rows = []
    for iid, det, pd, jur, _sev, _cont, _assess, reg, subj, _status in INCIDENTS:
        for j in [j for j in (jur or "").split(";") if j in ("EU", "UK", "AU")] if pd else []:
            party = "oaic_statement" if j == "AU" else "regulator"
            if reg:
                rows.append({"incident_id": iid, "jurisdiction": j, "party": party, "notified_at": rfc3339(det + reg)})
            if subj:
                rows.append(
                    {"incident_id": iid, "jurisdiction": j, "party": "subjects", "notified_at": rfc3339(det + subj)}
                )
    frame = pl.DataFrame(rows, schema=dict.fromkeys(INCIDENT_NOTIFICATIONS.column_names, pl.String))
    return frame.select(INCIDENT_NOTIFICATIONS.column_names)
