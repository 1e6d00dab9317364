"""diagnostic_lines_as_of on hand-made log lines, as of 2025-03-10 (worked out by hand): which lines carry personal
data, as security.unencrypted_transport and security_tls_by_service count them."""

from __future__ import annotations

import datetime as dt

from rows import log_line

from compliance.queries import run_query


def test_diagnostic_lines_as_of(make_db, policy) -> None:
    con = make_db(
        {
            "diagnostic_logs": [
                log_line("gateway", "g1", "2025-03-01 10:00:00", subject_id="s1"),  # names a subject
                log_line("gateway", "g2", "2025-03-02 10:00:00", tenant_id="t1"),  # names a tenant
                log_line("gateway", "g3", "2025-03-03 10:00:00", subject_id="s1", tenant_id="t1"),  # both
                log_line("gateway", "g4", "2025-03-04 10:00:00", tls_version="none"),  # neither
                log_line("gateway", "g5", "2025-03-10 23:59:59", tenant_id="t1"),  # the last moment of as_of
                log_line("gateway", "g6", "2025-03-11 00:00:00", tenant_id="t1"),  # after as_of
            ]
        }
    )
    out = run_query(con, "diagnostic_lines_as_of", {"as_of": dt.date(2025, 3, 10)}, policy).sort("line_id")
    assert out.select("line_id", "carries_personal_data").rows() == [
        ("g1", True),
        ("g2", True),
        ("g3", True),
        ("g4", False),
        ("g5", True),
    ]
