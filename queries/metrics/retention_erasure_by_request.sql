-- name: retention_erasure_by_request
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: the subject's inventory records held when it completed, how many were deleted or de-identified within the $retention_erasure_grace_days-day grace, later, or not at all by $as_of, how many are excepted under legal hold, the days from completion to the last erasure, and the finding as retention.erasure_incomplete judges it (complete, incomplete, legal_hold, in_grace).
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, completed_date DATE, grace_end_date DATE,
--          records BIGINT, erased_within_grace BIGINT, erased_after_grace BIGINT, still_stored BIGINT,
--          legal_hold BIGINT, systems BIGINT, days_to_last_erasure INTEGER, finding VARCHAR
with erasures as (
    -- The same population as retention.erasure_incomplete.
    select
        request_id,
        subject_id,
        jurisdiction,
        completed_at,
        cast(completed_at as date) as completed_date,
        date_add(cast(completed_at as date), $retention_erasure_grace_days) as grace_end_date
    from dsr_requests
    where request_type = 'delete'
      and status = 'completed'
      and completed_at is not null
      and cast(completed_at as date) <= $as_of
),

subject_records as (
    -- Records created after the request completed are new data, not what the erasure covered.
    select
        e.request_id,
        e.grace_end_date,
        i.system,
        coalesce(i.legal_hold, false) and $retention_legal_hold_exempts as is_held,
        -- the first erasure (least skips NULLs), counted only if it happened by as_of
        case
            when cast(least(i.deleted_at, i.deidentified_at) as date) <= $as_of
                then cast(least(i.deleted_at, i.deidentified_at) as date)
        end as erased_date
    from erasures as e
    inner join inventory_records as i on i.subject_id = e.subject_id
    where i.created_at <= e.completed_at
),

counts as (
    -- Four buckets that add up to records: erased within the grace (held or not), else excepted under
    -- legal hold, else erased late, else still stored.
    select
        request_id,
        count(*) as records,
        count(case when erased_date <= grace_end_date then 1 end) as erased_within_grace,
        count(case when not is_held and erased_date > grace_end_date then 1 end) as erased_after_grace,
        count(case when not is_held and erased_date is null then 1 end) as still_stored,
        count(case when is_held and (erased_date is null or erased_date > grace_end_date) then 1 end) as legal_hold,
        count(distinct system) as systems,
        max(erased_date) as last_erased_date
    from subject_records
    group by request_id
),

final as (
    select
        e.request_id,
        e.subject_id,
        e.jurisdiction,
        e.completed_date,
        e.grace_end_date,
        coalesce(c.records, 0) as records,
        coalesce(c.erased_within_grace, 0) as erased_within_grace,
        coalesce(c.erased_after_grace, 0) as erased_after_grace,
        coalesce(c.still_stored, 0) as still_stored,
        coalesce(c.legal_hold, 0) as legal_hold,
        coalesce(c.systems, 0) as systems,
        cast(date_diff('day', e.completed_date, c.last_erased_date) as integer) as days_to_last_erasure,
        -- retention.erasure_incomplete: grace not over -> in_grace; a late or missing erasure -> incomplete;
        -- only held records late -> legal_hold; else complete
        case
            when not ($as_of > e.grace_end_date) then 'in_grace'
            when coalesce(c.erased_after_grace, 0) + coalesce(c.still_stored, 0) > 0 then 'incomplete'
            when coalesce(c.legal_hold, 0) > 0 then 'legal_hold'
            else 'complete'
        end as finding
    from erasures as e
    left join counts as c on c.request_id = e.request_id
)

select * from final
order by completed_date, request_id
