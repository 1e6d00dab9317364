-- name: datamap_observed_vs_declared
-- requires: audit
-- description: The data map against what the exports show up to $as_of, per system, for four dimensions with the policy section each evidences: data categories (section 2: audit events' categories and inventory records), data uses (section 3: the purposes successful data actions declare), processing regions (section 7: where successful events were processed) and recipients (PS: where successful shares and exports went, matched to an approved processor by id or domain as disclosure.unapproved_recipient matches them). One row per (dimension, system, value) declared or observed: declared for this system, declared for another system only, observed or not, with events, records touched, inventory records and the first and last day seen. A category matches a declared one it equals or is an ancestor of (as datamap.undeclared_category judges), a use one it equals or descends from (as purpose.undeclared_use judges).
-- params: as_of DATE
-- returns: dimension VARCHAR, policy_section VARCHAR, system_id VARCHAR, value VARCHAR, declared BOOLEAN,
--          declared_elsewhere BOOLEAN, observed BOOLEAN, events BIGINT, records_touched BIGINT,
--          inventory_records BIGINT, first_seen DATE, last_seen DATE
-- Declared, one row per (dimension, system, value).
with declared as (
    select distinct 'data_category' as dimension, system_id, data_category as value
    from ref_data_map
    union all
    select distinct 'data_use', system_id, data_use
    from ref_data_uses
    union all
    select distinct 'processing_region', m.system_id, r.region
    from ref_data_map as m
    cross join unnest(m.processing_regions) as r (region)
    union all
    select distinct 'recipient', m.system_id, r.recipient_id
    from ref_data_map as m
    cross join unnest(m.recipients) as r (recipient_id)
),

-- Observed, per day, from the daily rollups computed at ingest (compliance.ingest.derive), which give an event the
-- system audit_event_system_rule gives it: categories from audit_system_category_days (every event, once per
-- category of its list), regions from audit_system_region_days (successful events naming a region), recipients from
-- audit_disclosure_days (successful shares and exports: audit_disclosures), each the approved recipient's id
-- (disclosure_recipients, as disclosure.unapproved_recipient matches it), else the recipient as named. Reading every
-- event instead took 87-115 s at 100M events (docs/benchmarks.md).
observed_days as (
    select 'data_category' as dimension, system_id, data_category as value, event_date, events, records
    from audit_system_category_days
    union all
    select 'processing_region', system_id, processing_region, event_date, events, records
    from audit_system_region_days
    union all
    select 'recipient', d.system_id, coalesce(m.recipient_id, d.recipient), d.event_date, d.events, d.records
    from audit_disclosure_days as d
    left join disclosure_recipients as m on m.recipient = d.recipient
),

-- One row per (dimension, system, value) with its counts up to the as-of date.
observed_counts as (
    select
        dimension,
        system_id,
        value,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records_touched,
        min(event_date) as first_seen,
        max(event_date) as last_seen
    from observed_days
    where event_date <= $as_of
    group by dimension, system_id, value
),

inventory as (
    select
        system as system_id,
        data_category,
        count(*) as records,
        min(cast(created_at as date)) as first_seen,
        max(cast(created_at as date)) as last_seen
    from inventory_records
    where cast(created_at as date) <= $as_of
    group by system, data_category
),

observed_categories as (
    select
        coalesce(a.system_id, i.system_id) as system_id,
        coalesce(a.value, i.data_category) as value,
        coalesce(a.events, 0) as events,
        coalesce(a.records_touched, 0) as records_touched,
        coalesce(i.records, 0) as inventory_records,
        least(a.first_seen, i.first_seen) as first_seen,
        greatest(a.last_seen, i.last_seen) as last_seen
    from (select * from observed_counts where dimension = 'data_category') as a
    full outer join inventory as i
        on i.system_id = a.system_id
        and i.data_category = a.value
),

-- Judged as the controls judge them: a category by declared_data_categories (datamap.undeclared_category), a
-- use by data_use_observations (purpose.undeclared_use), regions and recipients when equal.
observed_judged as (
    select
        'data_category' as dimension,
        o.system_id,
        o.value,
        o.events,
        o.records_touched,
        o.inventory_records,
        o.first_seen,
        o.last_seen,
        count(case when d.system_id = o.system_id then 1 end) > 0 as declared,
        count(d.system_id) > 0 as declared_anywhere
    from observed_categories as o
    left join declared_data_categories as d on d.data_category = o.value
    group by o.system_id, o.value, o.events, o.records_touched, o.inventory_records, o.first_seen, o.last_seen
    union all
    select
        'data_use',
        system_id,
        purpose,
        events,
        records,
        cast(0 as bigint),
        first_seen,
        last_seen,
        declared,
        declared_anywhere
    from data_use_observations
    union all
    select
        o.dimension,
        o.system_id,
        o.value,
        o.events,
        o.records_touched,
        cast(0 as bigint),
        o.first_seen,
        o.last_seen,
        count(case when d.system_id = o.system_id then 1 end) > 0,
        count(d.system_id) > 0
    -- regions and recipients: declared when the data map lists the same value
    from observed_counts as o
    left join declared as d
        on d.dimension = o.dimension
        and d.value = o.value
    where o.dimension <> 'data_category'
    group by o.dimension, o.system_id, o.value, o.events, o.records_touched, o.first_seen, o.last_seen
),

observed as (
    select dimension, system_id, value from observed_judged
),

unobserved as (
    select d.*
    from declared as d
    left join observed as o
        on o.dimension = d.dimension
        and o.system_id = d.system_id
        and (
            d.value = o.value
            or (d.dimension = 'data_category' and starts_with(d.value, o.value || '.'))
            or (d.dimension = 'data_use' and starts_with(o.value, d.value || '.'))
        )
    where o.system_id is null
),

judged as (
    -- Every observed value as judged, and every declared value nothing observed.
    select
        dimension,
        system_id,
        value,
        declared,
        not declared and declared_anywhere as declared_elsewhere,
        true as observed,
        events,
        records_touched,
        inventory_records,
        first_seen,
        last_seen
    from observed_judged
    union all
    select
        dimension,
        system_id,
        value,
        true as declared,
        false as declared_elsewhere,
        false as observed,
        cast(0 as bigint) as events,
        cast(0 as bigint) as records_touched,
        cast(0 as bigint) as inventory_records,
        cast(null as date) as first_seen,
        cast(null as date) as last_seen
    from unobserved
),

final as (
    select
        dimension,
        case dimension
            when 'data_category' then '2'
            when 'data_use' then '3'
            when 'processing_region' then '7'
            else 'PS'
        end as policy_section,
        system_id,
        value,
        declared,
        declared_elsewhere,
        observed,
        events,
        records_touched,
        inventory_records,
        first_seen,
        last_seen
    from judged
)

select * from final
order by dimension, system_id nulls first, value
