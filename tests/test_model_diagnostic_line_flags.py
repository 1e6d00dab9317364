"""diagnostic_line_flags on hand-made log lines (worked out by hand): which kinds of personal data each message holds,
as the ingest counts them per service and day (diagnostic_service_days) for datamap.personal_data_in_logs."""

from __future__ import annotations

from rows import log_line

from compliance.queries import run_query


def test_diagnostic_line_flags(make_db, policy) -> None:
    con = make_db(
        {
            "diagnostic_logs": [
                log_line("api", "m1", "2025-03-01 10:00:00", message="reset for ana@example.com"),
                log_line("api", "m2", "2025-03-01 10:01:00", message="call ana@example.com on +61 412 345 678"),
                log_line("api", "m3", "2025-03-01 10:02:00", message="paid with 4111 1111 1111 1111"),
                log_line("api", "m4", "2025-03-01 10:03:00", message="GET /v1/calls/1706745600000 200 12ms"),
                log_line("api", "m5", "2025-03-01 10:04:00", message=None),  # no message: holds nothing
            ]
        }
    )
    out = run_query(con, "diagnostic_line_flags", {}, policy).sort("line_id")
    assert out.select("line_id", "has_email", "has_phone", "has_card", "has_personal_data").rows() == [
        ("m1", True, False, False, True),
        ("m2", True, True, False, True),
        ("m3", False, False, True, True),
        ("m4", False, False, False, False),
        ("m5", False, False, False, False),
    ]
