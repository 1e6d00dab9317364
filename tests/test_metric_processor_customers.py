"""processor_customers and the Art. 30(2) processor record built from it (answers worked out by hand)."""

from __future__ import annotations

import datetime as dt

from compliance.queries import run_query
from compliance.reports import processor_record


def test_processor_customers_and_record(make_db, policy) -> None:
    con = make_db(
        {
            "tenants": [
                {"tenant_id": "t-au", "name": "Acme AU", "country": "AU", "home_region": "au-syd",
                 "contract_started_at": "2024-01-01 00:00:00"},
                {"tenant_id": "t-de", "name": "Beta GmbH", "country": "DE", "home_region": "eu-fra",
                 "contract_started_at": "2024-01-01 00:00:00"},
                # Ended before the as-of date, and not yet started: not customers then.
                {"tenant_id": "t-old", "name": "Gone", "country": "US", "home_region": "us-east",
                 "contract_started_at": "2023-01-01 00:00:00", "contract_ended_at": "2024-12-31 00:00:00"},
                {"tenant_id": "t-new", "name": "Later", "country": "US", "home_region": "us-east",
                 "contract_started_at": "2025-06-01 00:00:00"},
            ]
        }
    )  # fmt: skip
    customers = run_query(con, "processor_customers", {"as_of": dt.date(2025, 3, 1)}, policy)
    assert customers["tenant_id"].to_list() == ["t-au", "t-de"]
    record = processor_record(policy, customers)
    assert record["customer"].to_list() == ["Acme AU", "Beta GmbH"]
    au = record.row(0, named=True)
    assert au["processor"] == "Capantra" and au["processor_contact"] == "privacy@capantra.com"
    assert au["dpo"].startswith("none recorded")  # settings.yaml designates no DPO
    # data_map.yaml: crm and call-service are processed for customers.
    assert au["categories_of_processing"].startswith("CRM contacts: ")
    assert "Call records and recordings: " in au["categories_of_processing"]
    # recipients.yaml: AWS and Twilio, both in the US -> transfers out of Australia.
    assert "Amazon Web Services (US" in au["sub_processors"] and "Twilio (US" in au["sub_processors"]
    assert "sub-processor Amazon Web Services (US) under" in au["transfers"]
    assert "MFA required for roles" in au["security_measures"]
    # A German customer hosted in Frankfurt: no hosting transfer, only the US sub-processors.
    assert not record.row(1, named=True)["transfers"].startswith("hosted in")
