"""security.unencrypted_transport on hand-made log lines, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import log_line

from compliance.queries import run_query
from tests.findings_support import assert_fields, findings_by_resource, verdict_list

AS_OF = dt.date(2025, 3, 10)


def _line(service: str, line_id: str, day: int, **kw) -> dict:
    return log_line(service, line_id, f"2025-03-{day:02d} 10:00:00", **kw)


ROWS = {
    "diagnostic_logs": [
        _line("gateway", "g1", 1, tls_version="TLSv1.3", tenant_id="t1"),
        _line("gateway", "g2", 2, tls_version="TLSv1.0", subject_id="s1"),  # weak, personal data
        _line("gateway", "g3", 3, tls_version="none", tenant_id="t2"),  # plaintext, personal data
        _line("gateway", "g4", 4, tls_version="TLSv1.1"),  # weak but names no subject or tenant
        _line("gateway", "g5", 12, tls_version="none", tenant_id="t2"),  # after as_of
        _line("store", "st1", 2, storage_encrypted=False),  # unencrypted storage, with or without personal data
        _line("store", "st2", 3, storage_encrypted=True),
        _line("web", "w1", 2, tls_version="TLSv1.2", tenant_id="t1"),
        _line("web", "w2", 3, storage_encrypted=True),
        _line("web", "w3", 4),  # neither network nor storage
    ]
}


def test_security_unencrypted_transport(make_db, policy) -> None:
    con = make_db(ROWS)
    # The minimum, TLSv1.2, comes from settings.yaml.
    rows = findings_by_resource(con, "security_unencrypted_transport", policy, as_of=AS_OF)
    assert verdict_list(rows, "status", "severity", "evidence") == [
        ("service:gateway", "alarm", "high", ["g3", "g2"]),
        ("service:store", "alarm", "high", ["st1"]),
        ("service:web", "ok", "info", []),
    ]
    assert_fields(
        rows,
        {
            "service:gateway": {
                # Personal-data network lines of gateway: g1, g2, g3 (g4 names nobody); g2 and g3 are below TLSv1.2.
                "reason": (
                    "Service gateway from 2025-03-02 to 2025-03-03: 2 of 3 network lines carrying personal data used "
                    "less than TLSv1.2 (TLSv1.0: 1, none: 1), and 0 of 0 storage lines were unencrypted."
                ),
                "observed_at": dt.datetime(2025, 3, 3, 10, 0),
            },
            "service:store": {
                "reason": (
                    "Service store from 2025-03-02 to 2025-03-02: 0 of 0 network lines carrying personal data used "
                    "less than TLSv1.2, and 1 of 2 storage lines were unencrypted."
                )
            },
            "service:web": {
                "reason": (
                    "Service web: all 1 network lines carrying personal data used TLSv1.2 or newer, and all 1 storage "
                    "lines were encrypted."
                )
            },
        },
    )


def test_stricter_minimum(make_db, policy) -> None:
    # With TLSv1.3 required, web's TLSv1.2 line with a tenant id is flagged too.
    con = make_db(ROWS)
    out = run_query(
        con, "security_unencrypted_transport", {"as_of": AS_OF, "security_min_tls_version": "TLSv1.3"}, policy
    )
    web = out.filter(out["resource"] == "service:web").row(0, named=True)
    assert (web["status"], web["evidence"]) == ("alarm", ["w1"])
    assert "1 of 1 network lines carrying personal data used less than TLSv1.3 (TLSv1.2: 1)" in web["reason"]
