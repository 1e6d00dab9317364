"""access_peer_daily for e1 over a 3-day window up to 2025-03-10, peers' 0.9 quantile (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

d = dt.date


def _read(event_id: str, actor: str, day: str, records: int, role: str, actor_type: str = "employee") -> dict:
    return {"event_id": event_id, "occurred_at": f"{day} 10:00:00", "event_date": day, "actor_id": actor,
            "actor_type": actor_type, "actor_role": role, "action": "read", "outcome": "success",
            "record_count": records}  # fmt: skip


def test_access_peer_daily(make_db, policy) -> None:
    con = make_db(
        {
            "audit_events": [
                _read("x0", "e1", "2025-03-07", 99, "support_agent"),  # before the window (after 7 Mar)
                _read("a1", "e1", "2025-03-08", 10, "support_agent"),
                _read("a2", "e2", "2025-03-08", 20, "support_agent"),
                _read("a3", "e3", "2025-03-08", 40, "support_agent"),
                _read("a4", "e4", "2025-03-08", 1000, "engineer"),  # another role
                _read("a5", "c1", "2025-03-08", 500, "support_agent", "customer_user"),  # not a person of staff
                _read("a6", "e1", "2025-03-09", 5, "support_agent"),  # nobody else that day
                _read("a7", "e1", "2025-03-10", 3, "engineer"),  # e1 now holds engineer
                _read("a8", "e4", "2025-03-10", 7, "engineer"),
            ]
        }
    )
    params = {"as_of": d(2025, 3, 10), "actor_id": "e1", "volume_spike_baseline_days": 3,
              "volume_spike_peer_quantile": 0.9}  # fmt: skip
    out = run_query(con, "access_peer_daily", params, policy)
    # activity_date, actor_role, peers, median, quantile: 8 Mar peers [20, 40]: median 30, p90 20 + 0.9 * 20 = 38
    assert out.rows() == [
        (d(2025, 3, 8), "support_agent", 2, 30.0, 38.0),
        (d(2025, 3, 9), "support_agent", 0, None, None),
        (d(2025, 3, 10), "engineer", 1, 7.0, 7.0),
    ]
