"""consent.analytics_without_consent on hand-made usage events, as of 2025-03-10 (answers worked out by hand).

data_map.yaml makes analytics.reporting consent-based in EU and UK only.
"""

from __future__ import annotations

import datetime as dt

from tests.findings_support import assert_fields, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _usage(event_id: str, user: str, jurisdiction: str | None, at: str, consent: bool | None) -> dict:
    return {"event_id": event_id, "occurred_at": at, "user_id": user, "event_name": "page_view",
            "subject_jurisdiction": jurisdiction, "consent_analytics": consent}  # fmt: skip


def test_consent_analytics_without_consent(control_findings) -> None:
    tables = {
        "usage_events": [
            # u1 (EU): one refused, one unknown, one consented event -> alarm high for the first two.
            _usage("ev1", "u1", "EU", "2025-03-01 10:00:00", False),
            _usage("ev2", "u1", "EU", "2025-03-03 10:00:00", None),
            _usage("ev3", "u1", "EU", "2025-03-04 10:00:00", True),
            # u2 (UK): consent unknown only -> alarm medium.
            _usage("ev4", "u2", "UK", "2025-03-02 10:00:00", None),
            # u3 (EU): consented.
            _usage("ev5", "u3", "EU", "2025-03-05 10:00:00", True),
            # u4 (US-CA): legitimate interests, consent not required -> not examined.
            _usage("ev6", "u4", "US-CA", "2025-03-05 10:00:00", False),
            # u5: jurisdiction unknown, no consent -> one info row.
            _usage("ev7", "u5", None, "2025-03-06 10:00:00", None),
            # After the as-of date: ignored.
            _usage("ev8", "u1", "EU", "2025-03-15 10:00:00", False),
        ]
    }
    rows = control_findings("consent_analytics_without_consent", tables, as_of=AS_OF)
    assert verdict_list(rows, "status", "severity", "evidence") == [
        ("jurisdiction:EU", "ok", "info", ["ev5", "ev3"]),
        ("source:usage", "info", "info", ["ev7"]),
        ("subject:u1", "alarm", "high", ["ev2", "ev1"]),
        ("subject:u2", "alarm", "medium", ["ev4"]),
    ]
    assert_fields(
        rows,
        {
            "subject:u1": {
                "reason": (
                    "Subject u1 (EU, where analytics needs consent) has 2 analytics events from 2025-03-01 to "
                    "2025-03-03 without consent: 1 with consent refused, 1 with consent unknown."
                ),
                "observed_at": dt.datetime(2025, 3, 3, 10, 0),
            },
            "jurisdiction:EU": {
                "reason": "2 analytics events of 2 EU subjects from 2025-03-04 to 2025-03-05 carry analytics consent."
            },
        },
    )
    assert rows["source:usage"]["reason"].startswith(
        "1 analytics events without consent of 1 subjects of unknown jurisdiction"
    )
