-- name: datamap_matrix
-- requires: audit
-- description: The data map as a matrix, one row per policy section x system/store x data category x data use x legal basis, with the policy's words, jurisdictions, retention rule, recipients (with transfer mechanism) approved for the category, and what the exports show up to $as_of; plus one row per category observed but not declared (declared = false).
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: policy_section VARCHAR, system_id VARCHAR, store_id VARCHAR, data_category VARCHAR,
--          category_policy_item VARCHAR, data_use VARCHAR, use_policy_item VARCHAR, legal_basis VARCHAR,
--          jurisdictions VARCHAR, retention_period_days BIGINT, retention_clock VARCHAR, retention_action VARCHAR,
--          recipients VARCHAR, declared BOOLEAN, observed_events BIGINT, observed_events_for_use BIGINT,
--          inventory_records BIGINT
with entries as (
    -- one row per system x store x category of the data map
    select
        system_id,
        store_id,
        data_category,
        policy_sections,
        recipients
    from ref_data_map
),

entry_sections as (
    select
        e.system_id,
        e.store_id,
        e.data_category,
        s.policy_section
    from entries as e
    cross join unnest(e.policy_sections) as s (policy_section)
),

-- ref_data_uses has a row per jurisdiction; the matrix folds them into one list per legal basis.
uses as (
    select
        system_id,
        data_use,
        legal_basis,
        string_agg(jurisdiction, ', ' order by jurisdiction) as jurisdictions
    from ref_data_uses
    group by system_id, data_use, legal_basis
),

-- Each data-map entry's governing retention rule and the inventory records created by $as_of, as
-- retention_schedule_by_store shows them (retention_entries_as_of: the rule resolved once at ingest, store 3 >
-- system 2 > category 1, then the nearest covering category; also one row per key the inventory holds that the
-- data map lacks).
entry_retention as (
    select
        system as system_id,
        store as store_id,
        data_category,
        period_days,
        clock,
        action,
        records
    from retention_entries_as_of
),

-- The system's recipients that are approved for this category, with their transfer mechanism.
entry_recipients as (
    select distinct
        e.system_id,
        e.store_id,
        e.data_category,
        r.recipient_id || ' (' || r.mechanism || ')' as recipient_text
    from entries as e
    cross join unnest(e.recipients) as x (recipient_id)
    inner join ref_recipients as r on r.recipient_id = x.recipient_id
    inner join ref_recipient_categories as rc
        on rc.recipient_id = r.recipient_id
        and (e.data_category = rc.data_category or starts_with(e.data_category, rc.data_category || '.'))
),

recipients as (
    select
        system_id,
        store_id,
        data_category,
        string_agg(recipient_text, ', ' order by recipient_text) as recipients
    from entry_recipients
    group by system_id, store_id, data_category
),

-- The policy's own words (sections 2 and 3) for a key: the nearest mapped key that equals or covers it.
policy_items as (
    select
        k.kind,
        k.fides_key,
        pm.item,
        row_number() over (partition by k.kind, k.fides_key order by length(pm.fides_key) desc, pm.item) as item_rank
    from (
        select distinct 'data_category' as kind, data_category as fides_key from entries
        union all
        select distinct 'data_use' as kind, data_use as fides_key from uses
    ) as k
    inner join ref_policy_map as pm
        on pm.kind = k.kind
        and (k.fides_key = pm.fides_key or starts_with(k.fides_key, pm.fides_key || '.'))
),

-- What the exports show: audit events per (system, category, purpose) from their ingest-time daily rollup (each
-- event's system as audit_event_system_rule gives it); inventory records per (system, store, category).
event_categories as (
    select
        system_id,
        data_category,
        purpose,
        cast(sum(events) as bigint) as events
    from audit_system_category_days
    where event_date <= $as_of
    group by system_id, data_category, purpose
),

system_category_events as (
    select
        system_id,
        data_category,
        cast(sum(events) as bigint) as events
    from event_categories
    group by system_id, data_category
),

use_events as (
    select
        u.system_id,
        u.data_use,
        ec.data_category,
        cast(sum(ec.events) as bigint) as events
    from uses as u
    inner join event_categories as ec
        on ec.system_id = u.system_id
        and (ec.purpose = u.data_use or starts_with(ec.purpose, u.data_use || '.'))
    group by u.system_id, u.data_use, ec.data_category
),

declared_rows as (
    select
        s.policy_section,
        s.system_id,
        s.store_id,
        s.data_category,
        ci.item as category_policy_item,
        u.data_use,
        ui.item as use_policy_item,
        u.legal_basis,
        u.jurisdictions,
        r.period_days as retention_period_days,
        r.clock as retention_clock,
        r.action as retention_action,
        rc.recipients,
        true as declared,
        coalesce(sce.events, 0) as observed_events,
        coalesce(ue.events, 0) as observed_events_for_use,
        coalesce(r.records, 0) as inventory_records
    from entry_sections as s
    left join uses as u on u.system_id = s.system_id
    left join entry_retention as r
        on r.system_id = s.system_id
        and r.store_id = s.store_id
        and r.data_category = s.data_category
    left join recipients as rc
        on rc.system_id = s.system_id
        and rc.store_id = s.store_id
        and rc.data_category = s.data_category
    left join policy_items as ci
        on ci.kind = 'data_category'
        and ci.fides_key = s.data_category
        and ci.item_rank = 1
    left join policy_items as ui
        on ui.kind = 'data_use'
        and ui.fides_key = u.data_use
        and ui.item_rank = 1
    left join system_category_events as sce
        on sce.system_id = s.system_id
        and sce.data_category = s.data_category
    left join use_events as ue
        on ue.system_id = s.system_id
        and ue.data_use = u.data_use
        and ue.data_category = s.data_category
),

-- Observed but undeclared, as datamap.undeclared_category judges it (declared_data_categories: no data-map
-- category equals the key or descends from it). One row per (system, category) as observed.
observed as (
    select
        system_id,
        data_category,
        events,
        cast(0 as bigint) as records
    from system_category_events
    union all
    select
        system_id,
        data_category,
        cast(0 as bigint) as events,
        records
    from entry_retention
    where records > 0
),

undeclared_rows as (
    select
        cast(null as varchar) as policy_section,
        o.system_id,
        cast(null as varchar) as store_id,
        o.data_category,
        cast(null as varchar) as category_policy_item,
        cast(null as varchar) as data_use,
        cast(null as varchar) as use_policy_item,
        cast(null as varchar) as legal_basis,
        cast(null as varchar) as jurisdictions,
        cast(null as bigint) as retention_period_days,
        cast(null as varchar) as retention_clock,
        cast(null as varchar) as retention_action,
        cast(null as varchar) as recipients,
        false as declared,
        cast(sum(o.events) as bigint) as observed_events,
        cast(null as bigint) as observed_events_for_use,
        cast(sum(o.records) as bigint) as inventory_records
    from observed as o
    left join declared_data_categories as d on d.data_category = o.data_category
    where d.data_category is null
    group by o.system_id, o.data_category
),

final as (
    select * from declared_rows
    union all
    select * from undeclared_rows
)

select * from final
order by declared desc, policy_section, system_id, store_id, data_category, data_use, legal_basis
