"""incident_clocks with 72 h (GDPR) and 30 days (AU), as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

ts = dt.datetime


def _incident(incident_id: str, detected: str, jurisdictions: str | None, personal: bool = True, **kw) -> dict:
    return {"incident_id": incident_id, "detected_at": detected, "jurisdictions": jurisdictions,
            "personal_data_involved": personal, "severity": "high", "status": "closed"} | kw  # fmt: skip


def test_incident_clocks(make_db, policy) -> None:
    con = make_db(
        {
            "incidents": [
                _incident("i1", "2025-03-01 08:00:00", "EU", regulator_notified_at="2025-03-04 10:00:00"),  # 74 h
                _incident("i2", "2025-01-01 09:00:00", "AU", assessment_completed_at="2025-02-15 09:00:00"),  # 45 d
                _incident("i3", "2025-03-01 09:00:00", "AU"),  # not assessed: 9 days by 10 Mar
                _incident("i4", "2025-02-01 09:00:00", "EU", personal=False),  # no personal data: no clock
                # notified 12 Mar, after as_of: not yet; 72.0 h by the end of 10 Mar is not over 72
                _incident("i6", "2025-03-08 00:00:00", "DE;GB", regulator_notified_at="2025-03-12 00:00:00"),
                _incident("i5", "2025-03-11 09:00:00", "EU"),  # detected after as_of
            ]
        }
    )
    out = run_query(con, "incident_clocks", {"as_of": dt.date(2025, 3, 10)}, policy)
    cols = ["incident_id", "is_gdpr", "is_au", "regulator_notified_at", "gdpr_hours", "gdpr_late", "au_days", "au_late"]
    assert out.select(cols).rows() == [
        ("i2", False, True, None, None, None, 45, True),
        ("i4", True, False, None, None, None, None, None),
        ("i1", True, False, ts(2025, 3, 4, 10), 74.0, True, None, None),
        ("i3", False, True, None, None, None, 9, False),
        ("i6", True, False, None, 72.0, False, None, None),
    ]
