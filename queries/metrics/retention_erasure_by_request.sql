-- name: retention_erasure_by_request
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: the subject's inventory records held when it completed, how many were deleted or de-identified in time (erased_within_grace: by the completion itself, or, in a store the data map marks as a backup, within the $retention_erasure_grace_days-day grace), later, or not at all by $as_of, how many are excepted under legal hold, the days from completion to the last erasure, and the finding as retention.erasure_incomplete judges it (complete, incomplete, legal_hold, in_grace).
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, completed_date DATE, grace_end_date DATE,
--          records BIGINT, erased_within_grace BIGINT, erased_after_grace BIGINT, still_stored BIGINT,
--          legal_hold BIGINT, systems BIGINT, days_to_last_erasure INTEGER, finding VARCHAR
-- The same population as retention.erasure_incomplete: erasure_requests and erasure_request_records.
with counts as (
    -- Four buckets that add up to records: erased in time (held or not), else excepted under legal hold, else
    -- erased late, else still stored (a backup still inside its grace counts as still stored, not late). Each
    -- record's verdict is erasure_request_records.erasure_status, the one retention.erasure_incomplete counts.
    select
        request_id,
        count(*) as records,
        count(case when erasure_status = 'in_time' then 1 end) as erased_within_grace,
        count(case when erasure_status <> 'in_time' and not is_held and erased_at is not null then 1 end)
            as erased_after_grace,
        count(case when not is_held and erased_at is null then 1 end) as still_stored,
        count(case when is_held and erasure_status <> 'in_time' then 1 end) as legal_hold,
        count(case when erasure_status in ('false_claim', 'backup_late') and not is_held then 1 end) as late,
        count(case when erasure_status = 'in_grace' and not is_held then 1 end) as pending,
        count(distinct system) as systems,
        max(cast(erased_at as date)) as last_erased_date
    from erasure_request_records
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
        -- retention.erasure_incomplete: a record not erased in time (primary store: by the completion; backup:
        -- within the grace, once over) -> incomplete; a backup still inside its grace -> in_grace; only held
        -- records left -> legal_hold; else complete
        case
            when coalesce(c.late, 0) > 0 then 'incomplete'
            when coalesce(c.pending, 0) > 0 then 'in_grace'
            when coalesce(c.legal_hold, 0) > 0 then 'legal_hold'
            else 'complete'
        end as finding
    from erasure_requests as e
    left join counts as c on c.request_id = e.request_id
)

select * from final
order by completed_date, request_id
