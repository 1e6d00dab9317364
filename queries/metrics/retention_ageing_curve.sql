-- name: retention_ageing_curve
-- requires: inventory
-- description: Inventory records created by $as_of per system, store, data category and age bin ($age_bin_days days of age since created_at, bin 0 = youngest): records, still held (neither deleted nor de-identified by $as_of), past retention plus grace (held, not exempt under legal hold: an alarm of retention.record_past_retention), with the governing rule's period, grace and clock (resolved as that control resolves it), so that the share still held can be drawn against age with the retention limit marked.
-- params: as_of DATE, age_bin_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: system VARCHAR, store VARCHAR, data_category VARCHAR, age_bin INTEGER, age_from_days INTEGER, records BIGINT, held BIGINT,
--          past_retention BIGINT, period_days BIGINT, grace_days BIGINT, clock VARCHAR
-- The records held on $as_of with their rule and retention status, as retention.record_past_retention judges
-- them: inventory_retention_as_of.
with assessed as (
    select
        *,
        cast(floor(age_days / $age_bin_days) as integer) as age_bin
    from inventory_retention_as_of
),

final as (
    -- The rule is the same for every record of a (system, store, category): min() just carries it.
    select
        system,
        store,
        data_category,
        age_bin,
        age_bin * $age_bin_days as age_from_days,
        count(*) as records,
        count(case when not is_erased then 1 end) as held,
        count(case when retention_status = 'past_retention' then 1 end) as past_retention,
        cast(min(period_days) as bigint) as period_days,
        cast(min(grace_days) as bigint) as grace_days,
        min(clock) as clock
    from assessed
    group by system, store, data_category, age_bin
)

select * from final
order by system, store, data_category, age_bin
