-- name: retention_ageing_curve
-- requires: inventory
-- description: Inventory records created by $as_of per system, store, data category and age bin ($age_bin_days days of age since created_at, bin 0 = youngest): records, still held (neither deleted nor de-identified by $as_of), past retention plus grace (held, not exempt under legal hold: an alarm of retention.record_past_retention), with the governing rule's period, grace and clock (resolved as that control resolves it), so that the share still held can be drawn against age with the retention limit marked.
-- params: as_of DATE, age_bin_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: system VARCHAR, store VARCHAR, data_category VARCHAR, age_bin INTEGER, age_from_days INTEGER, records BIGINT, held BIGINT,
--          past_retention BIGINT, period_days BIGINT, grace_days BIGINT, clock VARCHAR
with records as (
    select
        system,
        store,
        record_id,
        data_category,
        created_at,
        last_activity_at,
        contract_ended_at,
        coalesce(legal_hold, false) as legal_hold,
        coalesce(cast(deleted_at as date) <= $as_of, false)
        or coalesce(cast(deidentified_at as date) <= $as_of, false) as is_erased,
        date_diff('day', cast(created_at as date), $as_of) as age_days
    from inventory_records
    where cast(created_at as date) <= $as_of
),

ruled as (
    -- As retention.record_past_retention: the rule resolved once at ingest per (system, store, category)
    -- (store 3 > system 2 > category 1, then the nearest covering category).
    select
        r.*,
        u.period_days,
        u.clock,
        u.grace_days
    from records as r
    left join retention_rules_resolved as u
        on u.system = r.system
        and u.store = r.store
        and u.data_category = r.data_category
),

assessed as (
    select
        *,
        cast(floor(age_days / $age_bin_days) as integer) as age_bin,
        coalesce(
            date_diff(
                'day',
                cast(
                    case clock
                        when 'created_at' then created_at
                        when 'last_activity_at' then coalesce(last_activity_at, created_at)
                        when 'contract_ended_at' then contract_ended_at
                    end as date
                ),
                $as_of
            ) - period_days > grace_days,
            false
        ) as is_beyond_grace
    from ruled
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
        count(
            case when not is_erased and is_beyond_grace and not (legal_hold and $retention_legal_hold_exempts) then 1 end
        ) as past_retention,
        cast(min(period_days) as bigint) as period_days,
        cast(min(grace_days) as bigint) as grace_days,
        min(clock) as clock
    from assessed
    group by system, store, data_category, age_bin
)

select * from final
order by system, store, data_category, age_bin
