"""security_tls_by_service on hand-made diagnostic lines, as of 2025-03-10 (worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import log_line

from compliance.queries import run_query

ts = dt.datetime


def _line(line_id: str, service: str, at: str, tls: str | None = None, encrypted: bool | None = None, **kw) -> dict:
    return log_line(service, line_id, at, **({"message": "m", "tls_version": tls, "storage_encrypted": encrypted} | kw))


def test_security_tls_by_service(make_db, policy) -> None:
    con = make_db(
        {
            "diagnostic_logs": [
                _line("l1", "api", "2025-03-01 10:00:00", "TLSv1.3", subject_id="s1"),
                _line("l2", "api", "2025-03-02 10:00:00", "TLSv1.3", tenant_id="t1"),
                _line("l3", "api", "2025-03-03 10:00:00", "TLSv1.0"),  # names no subject or tenant
                _line("l4", "store", "2025-03-04 10:00:00", encrypted=False, tenant_id="t1"),
                _line("l5", "store", "2025-03-05 10:00:00", "TLSv1.2", encrypted=True),  # both kinds
                _line("l6", "api", "2025-03-06 10:00:00", ""),  # neither: left out
                _line("l7", "api", "2025-03-11 10:00:00", "none"),  # after as_of
            ]
        }
    )
    params = {"as_of": dt.date(2025, 3, 10), "start_date": None, "end_date": None}
    out = run_query(con, "security_tls_by_service", params, policy)
    # service, line_kind, setting, lines, personal_data_lines, first_at, last_at
    assert out.rows() == [
        ("api", "network", "TLSv1.0", 1, 0, ts(2025, 3, 3, 10), ts(2025, 3, 3, 10)),
        ("api", "network", "TLSv1.3", 2, 2, ts(2025, 3, 1, 10), ts(2025, 3, 2, 10)),
        ("store", "network", "TLSv1.2", 1, 0, ts(2025, 3, 5, 10), ts(2025, 3, 5, 10)),
        ("store", "storage", "encrypted", 1, 0, ts(2025, 3, 5, 10), ts(2025, 3, 5, 10)),
        ("store", "storage", "unencrypted", 1, 1, ts(2025, 3, 4, 10), ts(2025, 3, 4, 10)),
    ]
    since = run_query(con, "security_tls_by_service", params | {"start_date": dt.date(2025, 3, 5)}, policy)
    assert [r[:4] for r in since.rows()] == [("store", "network", "TLSv1.2", 1), ("store", "storage", "encrypted", 1)]
