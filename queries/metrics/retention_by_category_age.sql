-- name: retention_by_category_age
-- requires: inventory
-- description: Inventory records created up to $as_of per data category, system and age bucket (by created_at): records, still held past retention plus grace, held past it under an exempting legal hold, deleted, de-identified.
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: data_category VARCHAR, system VARCHAR, age_bucket VARCHAR, age_bucket_order INTEGER, records BIGINT,
--          past_retention BIGINT, legal_hold_exempt BIGINT, deleted BIGINT, deidentified BIGINT
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
        -- erased "as of as_of": an erasure stamped later had not happened yet on that day
        cast(deleted_at as date) <= $as_of as is_deleted,
        cast(deidentified_at as date) <= $as_of as is_deidentified,
        date_diff('day', cast(created_at as date), $as_of) as age_days
    from inventory_records
    where cast(created_at as date) <= $as_of
),

ruled as (
    -- The rule that governs each record, as retention.record_past_retention takes it: resolved once at
    -- ingest per (system, store, category) (store 3 > system 2 > category 1, then the nearest covering category).
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
        -- days since the due date (clock + period); NULL while the clock has not started or without a rule
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
        ) - period_days as days_past_due
    from ruled
),

classified as (
    select
        *,
        coalesce(is_deleted, false) or coalesce(is_deidentified, false) as is_erased,
        coalesce(days_past_due > grace_days, false) as is_beyond_grace,
        case
            when age_days <= 30 then '0-30'
            when age_days <= 90 then '31-90'
            when age_days <= 365 then '91-365'
            when age_days <= 730 then '1-2y'
            else '2y+'
        end as age_bucket,
        case
            when age_days <= 30 then 1
            when age_days <= 90 then 2
            when age_days <= 365 then 3
            when age_days <= 730 then 4
            else 5
        end as age_bucket_order
    from assessed
),

final as (
    select
        data_category,
        system,
        age_bucket,
        age_bucket_order,
        count(*) as records,
        count(
            case when not is_erased and is_beyond_grace and not (legal_hold and $retention_legal_hold_exempts) then 1 end
        ) as past_retention,
        count(case when not is_erased and is_beyond_grace and legal_hold and $retention_legal_hold_exempts then 1 end)
            as legal_hold_exempt,
        count(case when is_deleted then 1 end) as deleted,
        count(case when is_deidentified then 1 end) as deidentified
    from classified
    group by data_category, system, age_bucket, age_bucket_order
)

select * from final
order by data_category, system, age_bucket_order
