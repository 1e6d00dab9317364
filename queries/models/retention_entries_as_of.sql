-- name: retention_entries_as_of
-- description: One row per system x store x data category that the data map declares or the inventory holds (records created by $as_of): the retention rule that governs it, resolved as retention.record_past_retention resolves it (store 3 > system 2 > category 1, then the nearest covering category), where that rule comes from (its key, scope and basis in retention.yaml, and the data map's policy sections), and the inventory's records: held, erased, past retention plus grace (status alarm in the control), and past it but exempt under legal hold. Stated once for retention_schedule_by_store and datamap_matrix.
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: system VARCHAR, store VARCHAR, data_category VARCHAR, declared BOOLEAN, policy_sections VARCHAR,
--          rule_category VARCHAR, rule_scope VARCHAR, period_days BIGINT, clock VARCHAR, grace_days BIGINT,
--          action VARCHAR, basis VARCHAR, records BIGINT, held BIGINT, erased BIGINT, past_retention BIGINT,
--          legal_hold_exempt BIGINT
with declared_entries as (
    select
        system_id as system,
        store_id as store,
        data_category,
        -- duckdb: array_to_string (Spark: array_join) on the data map's section list
        array_to_string(policy_sections, ', ') as policy_sections
    from ref_data_map
),

-- The records held on $as_of with their rule and retention status, as retention.record_past_retention judges
-- them: inventory_retention_as_of.
records as (
    select
        system,
        store,
        data_category,
        is_erased,
        retention_status
    from inventory_retention_as_of
),

entries as (
    -- Every declared entry, plus each (system, store, category) the inventory holds that the data map lacks.
    select
        system,
        store,
        data_category,
        true as declared,
        policy_sections
    from declared_entries
    union all
    select distinct
        r.system,
        r.store,
        r.data_category,
        false as declared,
        cast(null as varchar) as policy_sections
    from records as r
    left join declared_entries as d
        on d.system = r.system
        and d.store = r.store
        and d.data_category = r.data_category
    where d.system is null
),

rules as (
    -- The rule depends only on (system, store, category), so it is resolved once at ingest for every key the
    -- inventory holds or the data map declares (retention_rules_resolved), as the control takes it per record.
    select
        e.*,
        u.rule_category,
        case
            when u.rule_store is not null then 'store'
            when u.rule_system is not null then 'system'
            when u.rule_category is not null then 'category'
        end as rule_scope,
        u.period_days,
        u.clock,
        u.grace_days,
        u.action,
        u.basis
    from entries as e
    left join retention_rules_resolved as u
        on u.system = e.system
        and u.store = e.store
        and u.data_category = e.data_category
),

counts as (
    select
        system,
        store,
        data_category,
        count(*) as records,
        count(case when not is_erased then 1 end) as held,
        count(case when is_erased then 1 end) as erased,
        count(case when retention_status = 'past_retention' then 1 end) as past_retention,
        count(case when retention_status = 'legal_hold' then 1 end) as legal_hold_exempt
    from records
    group by system, store, data_category
),

final as (
    select
        u.system,
        u.store,
        u.data_category,
        u.declared,
        u.policy_sections,
        u.rule_category,
        u.rule_scope,
        cast(u.period_days as bigint) as period_days,
        u.clock,
        cast(u.grace_days as bigint) as grace_days,
        u.action,
        u.basis,
        coalesce(c.records, 0) as records,
        coalesce(c.held, 0) as held,
        coalesce(c.erased, 0) as erased,
        coalesce(c.past_retention, 0) as past_retention,
        coalesce(c.legal_hold_exempt, 0) as legal_hold_exempt
    from rules as u
    left join counts as c
        on c.system = u.system
        and c.store = u.store
        and c.data_category = u.data_category
)

select * from final
