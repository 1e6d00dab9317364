-- name: retention_erasure_incomplete
-- control: retention.erasure_incomplete
-- section: 8
-- severity: high
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: alarm when, once the erasure grace has passed, the subject's records (held when the request completed) were not deleted or de-identified within the grace; legal-hold records are excepted and named.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with erasures as (
    select
        request_id,
        subject_id,
        jurisdiction,
        completed_at,
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
        i.system || '/' || i.store || '/' || i.record_id as record_key,
        coalesce(i.legal_hold, false) and $retention_legal_hold_exempts as is_held,
        -- The record's first erasure (least skips NULLs), counted only if it happened by as_of.
        case
            when cast(least(i.deleted_at, i.deidentified_at) as date) <= $as_of
                then cast(least(i.deleted_at, i.deidentified_at) as date)
        end as erased_date
    from erasures as e
    inner join inventory_records as i on i.subject_id = e.subject_id
    where i.created_at <= e.completed_at
),

record_status as (
    select
        *,
        erased_date is null or erased_date > grace_end_date as is_late
    from subject_records
),

remaining as (
    select
        request_id,
        count(*) as record_count,
        count(*) filter (where is_late and not is_held) as late_count,
        count(*) filter (where erased_date is null and not is_held) as still_stored_count,
        count(*) filter (where is_late and is_held) as legal_hold_count,
        string_agg(distinct system, ', ' order by system) filter (where is_late and not is_held) as late_systems,
        array_agg(record_key order by record_key) filter (where is_late) as remaining_keys
    from record_status
    group by request_id
),

assessed as (
    select
        e.*,
        $as_of > e.grace_end_date as grace_passed,
        date_diff('day', e.grace_end_date, $as_of) as days_past_grace,
        coalesce(r.record_count, 0) as record_count,
        coalesce(r.late_count, 0) as late_count,
        coalesce(r.still_stored_count, 0) as still_stored_count,
        coalesce(r.legal_hold_count, 0) as legal_hold_count,
        r.late_systems,
        r.remaining_keys
    from erasures as e
    left join remaining as r on r.request_id = e.request_id
),

classified as (
    select
        *,
        case
            when not grace_passed then 'in_grace'
            when late_count > 0 then 'incomplete'
            when legal_hold_count > 0 then 'legal_hold'
            else 'complete'
        end as finding,
        'Delete request ' || request_id || ' (' || jurisdiction || ', subject ' || subject_id || ') completed '
        || cast(cast(completed_at as date) as varchar) as request_text,
        case
            when legal_hold_count > 0 then
                '; ' || cast(legal_hold_count as varchar) || ' record(s) kept under legal hold are excepted'
            else ''
        end as hold_text
    from assessed
),

final as (
    select
        'retention.erasure_incomplete' as control_id,
        '8' as policy_section,
        'dsr:' || request_id as resource,
        case finding when 'incomplete' then 'alarm' when 'legal_hold' then 'info' else 'ok' end as status,
        case
            when finding = 'incomplete' and days_past_grace > 30 then 'critical'
            when finding = 'incomplete' then 'high'
            else 'info'
        end as severity,
        case finding
            when 'incomplete' then
                request_text || ', but ' || cast(late_count as varchar) || ' of the subject''s '
                || cast(record_count as varchar) || ' record(s) in ' || late_systems
                || ' were not deleted or de-identified by the end of the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace on ' || cast(grace_end_date as varchar)
                || ' (' || cast(still_stored_count as varchar) || ' still stored as of ' || cast($as_of as varchar) || ')'
                || hold_text
                || case
                    when days_past_grace > 30 then '; critical: over 30 days past the grace.'
                    else '; high: within 30 days past the grace.'
                end
            when 'legal_hold' then
                request_text || '; every record of the subject was erased within the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace except '
                || cast(legal_hold_count as varchar) || ' record(s) kept under legal hold, which is exempt.'
            when 'in_grace' then
                request_text || '; the ' || cast($retention_erasure_grace_days as varchar) || '-day grace for its '
                || cast(record_count as varchar) || ' record(s) runs to ' || cast(grace_end_date as varchar)
                || ', not yet over as of ' || cast($as_of as varchar) || '.'
            else
                request_text || '; all ' || cast(record_count as varchar)
                || ' record(s) of the subject were deleted or de-identified within the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace.'
        end as reason,
        cast(grace_end_date as timestamp) as observed_at,
        case
            when finding in ('incomplete', 'legal_hold') then remaining_keys
            else [request_id]
        end as evidence
    from classified
)

select * from final
order by resource
