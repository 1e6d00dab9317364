"""dsr.extension_late on a hand-made register, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from rows import dsr_request

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)


def _req(
    request_id: str, jurisdiction: str, received_at: str, notified_at: str | None, reason: str | None = "volume"
) -> dict[str, object]:
    fields = {"extension_notified_at": notified_at, "extension_reason": reason if notified_at else None}
    return dsr_request(request_id, jurisdiction, "access", received_at, **fields)


def test_dsr_extension_late(control_findings) -> None:
    tables = {
        "dsr_requests": [
            # GDPR received 31 Jan -> due 28 Feb; extension notified 3 Mar, after it -> late -> alarm.
            _req("r-late", "EU", "2025-01-31 10:00:00", "2025-03-03 10:00:00"),
            # Notified 20 Feb, by 28 Feb -> valid, extended to 30 Apr (31 Jan + 3 months) -> ok.
            _req("r-valid", "EU", "2025-01-31 10:00:00", "2025-02-20 10:00:00"),
            # AU allows no extension: received 1 Feb (Sydney) -> due 3 Mar; notified 10 Feb -> alarm.
            _req("r-not-allowed", "AU", "2025-02-01 00:00:00", "2025-02-10 00:00:00"),
            # Notified 20 Feb, in time, but without reasons (GDPR Art. 12(3)): void -> alarm.
            _req("r-no-reasons", "EU", "2025-01-31 10:00:00", "2025-02-20 10:00:00", reason=""),
            # Told 28 Feb 23:30 GMT = 28 Feb in Dublin: the local date is the due date -> valid.
            _req("r-last-evening", "EU", "2025-01-31 10:00:00", "2025-02-28 23:30:00"),
            # UK 20 May 2025 -> due Fri 20 Jun; told 20 Jun 23:30Z = Sat 21 Jun 00:30 BST -> late, and the
            # reason names the local date 2025-06-21, not the UTC date (issue 9 item 6).
            _req("r-uk-midnight", "UK", "2025-05-20 10:00:00", "2025-06-20 23:30:00"),
            # Not examined: no extension, and an extension notified after as_of.
            _req("r-none", "EU", "2025-01-31 10:00:00", None),
            _req("r-future", "EU", "2025-02-14 10:00:00", "2025-03-12 10:00:00"),
        ]
    }  # fmt: skip
    rows = control_findings("dsr_extension_late", tables, as_of=AS_OF)
    assert_findings(
        rows,
        {
            "dsr:r-late": alarm(
                "medium",
                reason="The extension of access request r-late (EU, received 2025-01-31) was notified 2025-03-03, after "
                "the original due date 2025-02-28, so it does not count and the request stays due 2025-02-28 "
                "(medium: the notice failed; lateness of the answer is reported separately).",
                observed_at=dt.datetime(2025, 3, 3, 10),
                evidence=["r-late"],
            ),
            "dsr:r-valid": ok(),
            "dsr:r-not-allowed": alarm("medium"),
            "dsr:r-no-reasons": alarm("medium"),
            "dsr:r-last-evening": ok(),
        },
    )
    assert "rule au_app_12_13 allows no extension" in rows["dsr:r-not-allowed"]["reason"]
    assert "stays due 2025-03-03" in rows["dsr:r-not-allowed"]["reason"]
    assert "valid, now due 2025-04-30" in rows["dsr:r-valid"]["reason"]
    assert (
        "notified 2025-02-20 without reasons, so it is void and the request stays due 2025-02-28"
        in (rows["dsr:r-no-reasons"]["reason"])
    )
    assert "notified 2025-02-28, by the original due date" in rows["dsr:r-last-evening"]["reason"]
    # As of 21 Jun (local date of the notice) the UK notice is examined, under its local date.
    later = control_findings("dsr_extension_late", tables, as_of=dt.date(2025, 6, 21))
    assert later["dsr:r-uk-midnight"]["status"] == "alarm"
    assert "was notified 2025-06-21, after the original due date 2025-06-20" in later["dsr:r-uk-midnight"]["reason"]
    # As of 20 Jun (its UTC date) the notice had not been given yet in London.
    on_utc_date = control_findings("dsr_extension_late", tables, as_of=dt.date(2025, 6, 20))
    assert "dsr:r-uk-midnight" not in on_utc_date
