"""datamap.personal_data_in_logs on hand-made log lines, as of 2025-03-10 (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

import pytest
from rows import log_line

from compliance.queries import run_query
from tests.findings_support import assert_fields, verdicts

AS_OF = dt.date(2025, 3, 10)


def _line(service: str, line_id: str, at: str, message: str) -> dict:
    return log_line(service, line_id, at, message=message)


def test_datamap_personal_data_in_logs(control_findings) -> None:
    tables = {
        "diagnostic_logs": [
            _line("api", "l1", "2025-03-01 10:00:00", "login for jane.doe@example.com"),
            _line("api", "l2", "2025-03-02 10:00:00", "sms to +61 412 345 678 failed"),
            _line("api", "l3", "2025-03-03 10:00:00", "charge card 4111 1111 1111 1111 declined"),
            _line("api", "l4", "2025-03-04 10:00:00", "request 550e8400-e29b-41d4-a716-446655440000 took 123 ms"),
            # Dates, epoch millis, long ids and dashed job numbers are not personal data.
            _line("worker", "w1", "2025-03-05 10:00:00", "job 2024-1234-5678 done at 2025-03-05, ts=1706745600000"),
            _line("worker", "w2", "2025-03-05 11:00:00", "processed 12345678901234567 rows"),
            _line("worker", "w3", "2025-03-12 10:00:00", "call 0412 345 678"),  # after as_of
            # One line with both an email address and a phone number.
            _line("billing", "b1", "2025-03-06 10:00:00", "contact (415) 555-0100 or ops@example.org"),
        ]
    }
    rows = control_findings("datamap_personal_data_in_logs", tables, as_of=AS_OF)
    assert verdicts(rows, "status", "severity", "evidence") == {
        "service:api": ("alarm", "critical", ["l3", "l2", "l1"]),  # a card number makes it critical
        "service:billing": ("alarm", "high", ["b1"]),
        "service:worker": ("ok", "info", []),
    }
    assert_fields(
        rows,
        {
            "service:api": {
                "reason": (
                    "Service api logged personal data in 3 of 4 diagnostic lines from 2025-03-01 to 2025-03-03: "
                    "1 with email addresses, 1 with phone numbers, 1 with card numbers."
                ),
                "observed_at": dt.datetime(2025, 3, 3, 10, 0),
            },
            "service:worker": {
                "reason": (
                    "Service worker: none of its 2 diagnostic lines from 2025-03-05 to 2025-03-05 contains an email "
                    "address, phone number or card number."
                )
            },
        },
    )
    assert rows["service:billing"]["reason"].endswith(
        ": 1 with email addresses, 1 with phone numbers, 0 with card numbers."
    )


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("user jane.doe@example.com logged in", "email"),
        ("contact: +61412345678", "phone"),  # E.164
        ("dial 415-555-0100 now", "phone"),
        ("tel 02 9876 5432", "phone"),
        ("uk 020 7946 0958", "phone"),
        ("+1 (415) 555-0100", "phone"),
        ("card=4111-1111-1111-1111", "card"),
        ("amex 3782 822463 10005", "card"),
        ("pan 5500005555555559", "card"),
        ("ip 10.201.555.1234", None),
        ("took 123.456 ms", None),
        ("order 000123456789", None),
        ("session 1234-5678-9012", None),
        ("span id 7394728163948271", None),  # 16 digits, but no card issuer prefix
        ("version 2.345.6789", None),
    ],
)
def test_patterns(make_db, policy, message: str, kind: str | None) -> None:
    con = make_db({"diagnostic_logs": [_line("svc", "x1", "2025-03-01 10:00:00", message)]})
    row = run_query(con, "datamap_personal_data_in_logs", {"as_of": AS_OF}, policy).row(0, named=True)
    assert row["status"] == ("ok" if kind is None else "alarm")
    if kind is not None:
        assert f"1 with {'email addresses' if kind == 'email' else kind + ' numbers'}" in row["reason"]
