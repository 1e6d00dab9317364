-- name: processor_controllers
-- requires: tenants
-- description: The controllers on whose behalf Capantra processes personal data as of $as_of (GDPR Art. 30(2)(a)): one row per customer account whose contract had started by $as_of and had not ended before it, with its country, home processing region, contract dates and how many data subjects it holds.
-- params: as_of DATE
-- returns: tenant_id VARCHAR, name VARCHAR, country VARCHAR, home_region VARCHAR, contract_started_date DATE,
--          contract_ended_date DATE, subjects BIGINT
with tenants_in_force as (
    -- A contract with no start date is taken as in force: the export left it out, the customer exists.
    select
        tenant_id,
        name,
        country,
        home_region,
        cast(contract_started_at as date) as contract_started_date,
        cast(contract_ended_at as date) as contract_ended_date
    from tenants
    where (contract_started_at is null or cast(contract_started_at as date) <= $as_of)
      and (contract_ended_at is null or cast(contract_ended_at as date) >= $as_of)
),

subject_counts as (
    select tenant_id, count(*) as subjects
    from subjects
    group by tenant_id
),

final as (
    select
        t.tenant_id,
        t.name,
        t.country,
        t.home_region,
        t.contract_started_date,
        t.contract_ended_date,
        coalesce(s.subjects, 0) as subjects
    from tenants_in_force as t
    left join subject_counts as s on s.tenant_id = t.tenant_id
)

select * from final
order by tenant_id
