-- name: processor_customers
-- requires: tenants
-- description: One row per customer account whose contract had started by $as_of and had not ended before it: the controllers on whose behalf Capantra processes data, for the GDPR Art. 30(2) processor record (compliance.reports.processor_record).
-- params: as_of DATE
-- returns: tenant_id VARCHAR, name VARCHAR, country VARCHAR, home_region VARCHAR, contract_started_at TIMESTAMP,
--          contract_ended_at TIMESTAMP
with customers as (
    select
        tenant_id,
        name,
        country,
        home_region,
        contract_started_at,
        contract_ended_at
    from tenants
    where (contract_started_at is null or cast(contract_started_at as date) <= $as_of)
      and (contract_ended_at is null or cast(contract_ended_at as date) >= $as_of)
)

select * from customers
order by tenant_id
