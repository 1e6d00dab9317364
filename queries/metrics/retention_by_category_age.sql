-- name: retention_by_category_age
-- requires: inventory
-- description: Inventory records created up to $as_of per data category, system and age bucket (by created_at): records, still held past retention plus grace, held past it under an exempting legal hold, deleted, de-identified.
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: data_category VARCHAR, system VARCHAR, age_bucket VARCHAR, age_bucket_order INTEGER, records BIGINT,
--          past_retention BIGINT, legal_hold_exempt BIGINT, deleted BIGINT, deidentified BIGINT
-- The records held on $as_of with their rule and retention status, as retention.record_past_retention judges
-- them: inventory_retention_as_of.
with classified as (
    select
        *,
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
    from inventory_retention_as_of
),

final as (
    select
        data_category,
        system,
        age_bucket,
        age_bucket_order,
        count(*) as records,
        count(case when retention_status = 'past_retention' then 1 end) as past_retention,
        count(case when retention_status = 'legal_hold' then 1 end) as legal_hold_exempt,
        count(deleted_date) as deleted,
        count(deidentified_date) as deidentified
    from classified
    group by data_category, system, age_bucket, age_bucket_order
)

select * from final
order by data_category, system, age_bucket_order
