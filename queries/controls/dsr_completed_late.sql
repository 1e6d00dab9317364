-- name: dsr_completed_late
-- control: dsr.completed_late
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per request completed by $as_of that had a deadline: alarm when it was completed after its effective due date (or is marked completed without a completion time once that date has passed).
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with completed as (
    -- Rejected and withdrawn requests are never late (contract section 3); requests without a
    -- deadline (no rule, or a verification clock never started) have nothing to be late against.
    select
        r.request_id,
        r.jurisdiction,
        r.request_type,
        r.completed_at,
        d.received_date,
        d.effective_due_date,
        d.effective_due_at,
        d.extension_status,
        d.closed_date
    from dsr_requests as r
    inner join dsr_deadlines as d on d.request_id = r.request_id
    where r.status = 'completed'
      and d.effective_due_date is not null
      and d.received_date <= $as_of
      and (d.closed_date is null or d.closed_date <= $as_of)
),

assessed as (
    select
        *,
        date_diff('day', effective_due_date, closed_date) as days_late,
        case
            when closed_date is not null and closed_date > effective_due_date then 'late'
            -- A completion without a timestamp cannot evidence timeliness once the deadline passed.
            when closed_date is null and $as_of > effective_due_date then 'undated'
            when closed_date is null then 'undated_in_time'
            else 'on_time'
        end as finding,
        request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
        || cast(received_date as varchar) || ', due ' || cast(effective_due_date as varchar)
        || case when extension_status = 'valid' then ' after a valid extension' else '' end || ')' as request_text
    from completed
),

final as (
    select
        'dsr.completed_late' as control_id,
        '8' as policy_section,
        'dsr:' || request_id as resource,
        case when finding in ('late', 'undated') then 'alarm' else 'ok' end as status,
        case
            when finding = 'late' and days_late > 30 then 'high'
            when finding in ('late', 'undated') then 'medium'
            else 'info'
        end as severity,
        case finding
            when 'late' then
                'The ' || request_text || ' was completed ' || cast(closed_date as varchar) || ', '
                || cast(days_late as varchar) || ' days late'
                || case
                    when extension_status in ('late', 'not_allowed') then ' (its extension did not count)'
                    else ''
                end
                || case
                    when days_late > 30 then '; high: over 30 days late.'
                    else '; medium: the request was answered, within 30 days of the deadline.'
                end
            when 'undated' then
                'The ' || request_text || ' is marked completed without a completion time, so it cannot be shown '
                || 'to have met its deadline (medium: a record-keeping gap).'
            when 'undated_in_time' then
                'The ' || request_text || ' is marked completed without a completion time, but its deadline has not passed as of '
                || cast($as_of as varchar) || '.'
            else
                'The ' || request_text || ' was completed ' || cast(closed_date as varchar)
                || case
                    when days_late = 0 then ', on its due date.'
                    else ', ' || cast(-days_late as varchar) || ' days before its deadline.'
                end
        end as reason,
        coalesce(completed_at, effective_due_at) as observed_at,
        [request_id] as evidence
    from assessed
)

select * from final
order by resource
