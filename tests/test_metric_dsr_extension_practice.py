"""dsr_extension_practice on a hand-made register, as of 2025-03-10 (answers worked out by hand from dsr_rules.yaml:
GDPR allows two further months if notified within the first; AU allows none)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from compliance.queries import run_query

AS_OF = dt.date(2025, 3, 10)


def _req(request_id: str, jurisdiction: str, kind: str, received: str, **kw) -> dict:
    return dsr_request(request_id, jurisdiction, kind, received, **({"status": "completed"} | kw))


REGISTER = [
    # EU access received Mon 6 Jan: due Thu 6 Feb; extended to 6 Apr (a Sunday) -> Mon 7 Apr.
    # Notified 20 Jan (in time): valid; completed 20 Feb, after 6 Feb and by 7 Apr: closed within the extension.
    _req("e1", "EU", "access", "2025-01-06 10:00:00", extension_notified_at="2025-01-20 10:00:00",
         extension_reason="complexity", completed_at="2025-02-20 10:00:00"),
    # Notified 10 Feb, after the 6 Feb due date: late (the original date stands).
    _req("e2", "EU", "access", "2025-01-06 10:00:00", extension_notified_at="2025-02-10 10:00:00",
         extension_reason="volume", completed_at="2025-02-12 10:00:00"),
    _req("e3", "EU", "access", "2025-01-07 10:00:00", completed_at="2025-01-10 10:00:00"),  # no extension
    # AU access allows none: notified -> not_allowed.
    _req("a1", "AU", "access", "2025-01-06 10:00:00", extension_notified_at="2025-01-10 10:00:00",
         extension_reason="volume", completed_at="2025-01-20 10:00:00"),
    _req("a2", "AU", "portability", "2025-01-06 10:00:00", completed_at="2025-01-20 10:00:00"),  # no rule
    _req("c1", "US-CA", "delete", "2025-03-20 18:00:00", status="open"),  # received after as_of
]  # fmt: skip


def test_dsr_extension_practice(make_db, policy) -> None:
    con = make_db({"dsr_requests": REGISTER})
    out = run_query(con, "dsr_extension_practice", {"as_of": AS_OF}, policy)
    assert out.rows() == [
        # jurisdiction, requests, with deadline, extendable, notified, valid, late, not allowed, without reasons,
        # closed within, reasons
        ("AU", 2, 1, 0, 1, 0, 0, 1, 0, 0, "volume"),
        ("EU", 3, 3, 3, 2, 1, 1, 0, 0, 1, "complexity; volume"),
    ]
