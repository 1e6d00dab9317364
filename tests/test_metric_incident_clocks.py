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


def test_incident_clocks_judge_the_regulator_notice_as_the_control_does(make_db, policy) -> None:
    """With incident_notifications rows, the GDPR clock is the per-regime notice the control judges: an EU notice
    recorded not required is not late; a UK notice 80 h after detection is (the latest notice counts)."""
    con = make_db(
        {
            "incidents": [
                _incident("n1", "2025-03-01 08:00:00", "EU", regulator_notified_at="2025-03-09 08:00:00", severity="low"),
                _incident("n2", "2025-03-01 08:00:00", "EU;UK"),
            ],
            "incident_notifications": [
                {"incident_id": "n1", "jurisdiction": "EU", "party": "regulator", "notified_at": None,
                 "not_required_reason": "unlikely to result in a risk"},
                {"incident_id": "n2", "jurisdiction": "EU", "party": "regulator",
                 "notified_at": "2025-03-02 08:00:00", "not_required_reason": None},
                {"incident_id": "n2", "jurisdiction": "UK", "party": "regulator",
                 "notified_at": "2025-03-04 16:00:00", "not_required_reason": None},
            ],
        }
    )  # fmt: skip
    out = run_query(con, "incident_clocks", {"as_of": dt.date(2025, 3, 10)}, policy)
    cols = ["incident_id", "regulator_notified_at", "gdpr_hours", "gdpr_late"]
    assert out.select(cols).rows() == [
        ("n1", None, 232.0, False),  # not required; 1 Mar 08:00 to the end of 10 Mar is 232 h
        ("n2", ts(2025, 3, 4, 16), 80.0, True),  # the UK notice, 80 h after detection
    ]
    late = run_query(con, "incident_notification_late", {"as_of": dt.date(2025, 3, 10)}, policy)
    assert dict(late.select("resource", "status").iter_rows()) == {"incident:n1": "ok", "incident:n2": "alarm"}
