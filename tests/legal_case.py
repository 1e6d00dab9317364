"""The register of worked DSR cases (issue 9): requests whose deadlines were worked by hand from the text of the law,
the comment above each request giving the working. Shared by test_legal_cases (each request's state on each side of
every transition) and test_spark_parity (the same findings on Spark); a helper module, not a test module, so no test
file imports another.

EU = Ireland (Europe/Dublin, GMT in winter, so these UTC dates are the local dates).
"""

from __future__ import annotations

from typing import Any


def _req(jurisdiction: str, request_type: str, received: str, status: str = "open", **stamps: str) -> dict[str, Any]:
    return {"jurisdiction": jurisdiction, "request_type": request_type, "received_at": received, "status": status,
            **stamps}  # fmt: skip


EU_JAN31 = "2025-01-31T10:00:00Z"  # Fri 31 Jan 2025 + 1 month: no 31 Feb -> Fri 28 Feb; + 3 months -> Wed 30 Apr

REQUESTS: dict[str, dict[str, Any]] = {
    # Extension told Thu 20 Feb with reasons, by the 28 Feb due date: valid, due 30 Apr (GDPR Art. 12(3)).
    # Completed 15 Apr.
    "eu-ext": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-02-20T10:00:00Z",
                   extension_reason="records in several systems", completed_at="2025-04-15T10:00:00Z"),
    # The same notice without reasons: void ("together with the reasons"), so still due 28 Feb.
    "eu-void": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-02-20T10:00:00Z",
                    completed_at="2025-04-15T10:00:00Z"),
    # Extension told Mon 3 Mar, after the 28 Feb due date: late, does not count. Completed 20 Mar.
    "eu-ext-late": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-03-03T10:00:00Z",
                        extension_reason="volume", completed_at="2025-03-20T10:00:00Z"),
    # Completed Wed 5 Mar: 5 days after 28 Feb.
    "eu-late": _req("EU", "access", EU_JAN31, "completed", completed_at="2025-03-05T10:00:00Z"),
    # Refused Mon 10 Mar, after 28 Feb: Art. 12(4) requires the refusal within one month too.
    "eu-refused-late": _req("EU", "access", EU_JAN31, "rejected", completed_at="2025-03-10T10:00:00Z"),
    # Refused Thu 20 Feb, in time.
    "eu-refused": _req("EU", "access", EU_JAN31, "rejected", completed_at="2025-02-20T10:00:00Z"),
    # Withdrawn Mon 10 Mar: overdue until then, never late afterwards (nothing is owed).
    "eu-withdrawn": _req("EU", "access", EU_JAN31, "withdrawn", completed_at="2025-03-10T10:00:00Z"),
    # CCPA regs 7021: received 15 Nov 07:30Z = Fri 14 Nov 23:30 PST. Acknowledgement (7021(a), 10 business
    # days): 17-21 Nov (5), 24-26 (8), Thanksgiving 27 and the day after 28 skipped, 1 Dec (9), Tue 2 Dec
    # (10). Answer: +45 days -> Mon 29 Dec. Acknowledged Thu 4 Dec 10:00 PST (late); completed Sat 20 Dec.
    "ca-ack": _req("US-CA", "access", "2025-11-15T07:30:00Z", "completed", acknowledged_at="2025-12-04T18:00:00Z",
                   completed_at="2025-12-20T18:00:00Z"),
    # CCPA: received Mon 20 Jan 2025 10:00 PST, acknowledged the next day; +45 -> Thu 6 Mar. Extension told
    # 7 Mar 04:00Z = Thu 6 Mar 20:00 PST, the 45th local day: valid; +90 -> Sun 20 Apr -> Mon 21 Apr (Code
    # Civ. Proc. 12a: a period ending on a Saturday, Sunday or holiday runs to the next day that is none).
    "ca-roll": _req("US-CA", "delete", "2025-01-20T18:00:00Z", acknowledged_at="2025-01-21T18:00:00Z",
                    extension_notified_at="2025-03-07T04:00:00Z", extension_reason="volume"),
    # Wed 25 Jun 2025 + 45 days: 5 to 30 Jun, 31 in Jul (36), 9 Aug -> Sat 9 Aug.
    # Texas: Tex. Gov't Code 311.014(b) (via Bus. & Com. Code 1.002) moves it to Mon 11 Aug. Completed Mon
    # 11 Aug 15:00 CDT: on time.
    "tx-done": _req("US-TX", "delete", "2025-06-25T15:00:00Z", "completed", completed_at="2025-08-11T20:00:00Z"),
    "tx-open": _req("US-TX", "delete", "2025-06-25T15:00:00Z"),
    # Colorado: C.R.S. 2-4-108(2) moves Sat 9 Aug to Mon 11 Aug as well.
    "co-open": _req("US-CO", "delete", "2025-06-25T15:00:00Z"),
    # Virginia (59.1-577(B)) and Connecticut (42-518(c)) count plain calendar days: due Sat 9 Aug.
    "va-open": _req("US-VA", "delete", "2025-06-25T15:00:00Z"),
    "ct-open": _req("US-CT", "delete", "2025-06-25T15:00:00Z"),
    # UK GDPR Art. 12A(2) (London, GMT in winter): received Mon 6 Jan 2025; identity information asked for the same
    # day arrives Mon 20 Jan, which starts the period: + 1 month -> Thu 20 Feb (from receipt it would be Thu 6 Feb).
    "uk-id": _req("UK", "access", "2025-01-06T10:00:00Z", id_requested_at="2025-01-06T12:00:00Z",
                  id_received_at="2025-01-20T10:00:00Z"),
    # UK GDPR Art. 12A(4): received Mon 3 Feb -> due Mon 3 Mar; clarification asked Mon 10 Feb, answered Mon 24 Feb:
    # 14 days paused -> Mon 17 Mar (a working day in England).
    "uk-pause": _req("UK", "access", "2025-02-03T10:00:00Z", clarification_requested_at="2025-02-10T10:00:00Z",
                     clarification_received_at="2025-02-24T10:00:00Z"),
    # The EU has no Art. 12A: the same identity exchange leaves the period running from receipt -> due Thu 6 Feb.
    "eu-id": _req("EU", "access", "2025-01-06T10:00:00Z", id_requested_at="2025-01-06T12:00:00Z",
                  id_received_at="2025-01-20T10:00:00Z"),
}  # fmt: skip


def register_rows() -> list[dict[str, Any]]:
    """REQUESTS as rows of the dsr_requests table, each request from its own subject s-<request id>."""
    return [{"request_id": rid, "subject_id": f"s-{rid}", **row} for rid, row in REQUESTS.items()]
