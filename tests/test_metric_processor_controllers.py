"""processor_controllers: the customers Capantra processes for on the as-of date (GDPR Art. 30(2)(a)), by hand."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query

d = dt.date
ROWS = {
    "tenants": [
        {"tenant_id": "t1", "name": "Active Pty Ltd", "country": "AU", "home_region": "au-syd",
         "contract_started_at": "2024-01-10 09:00:00"},
        {"tenant_id": "t2", "name": "Gone GmbH", "country": "DE", "home_region": "eu-fra",
         "contract_started_at": "2023-01-01 00:00:00", "contract_ended_at": "2025-06-29 23:00:00"},  # ended the day before
        {"tenant_id": "t3", "name": "Future Inc.", "country": "US", "home_region": "us-east",
         "contract_started_at": "2025-07-01 00:00:00"},  # starts the day after
        {"tenant_id": "t4", "name": "Last Day Ltd", "country": "GB", "home_region": "eu-fra",
         "contract_started_at": "2024-05-01 00:00:00", "contract_ended_at": "2025-06-30 12:00:00"},  # ends on the day
        {"tenant_id": "t5", "name": "Undated SARL", "country": "FR", "home_region": "eu-fra"},  # no dates exported
    ],
    "subjects": [
        {"subject_id": "s1", "tenant_id": "t1"}, {"subject_id": "s2", "tenant_id": "t1"},
        {"subject_id": "s3", "tenant_id": "t2"}, {"subject_id": "s4", "tenant_id": "t4"},
    ],
}  # fmt: skip


def test_controllers_in_force_on_the_as_of_date(make_db, policy) -> None:
    out = run_query(make_db(ROWS), "processor_controllers", {"as_of": d(2025, 6, 30)}, policy)
    assert out.rows() == [
        ("t1", "Active Pty Ltd", "AU", "au-syd", d(2024, 1, 10), None, 2),
        ("t4", "Last Day Ltd", "GB", "eu-fra", d(2024, 5, 1), d(2025, 6, 30), 1),
        ("t5", "Undated SARL", "FR", "eu-fra", None, None, 0),
    ]


def test_a_past_as_of_date_sees_the_contracts_of_then(make_db, policy) -> None:
    out = run_query(make_db(ROWS), "processor_controllers", {"as_of": d(2023, 6, 1)}, policy)
    assert out["tenant_id"].to_list() == ["t2", "t5"]


def test_no_tenants_export_gives_no_rows(make_db, policy) -> None:
    assert run_query(make_db({}), "processor_controllers", {"as_of": d(2025, 6, 30)}, policy).is_empty()
