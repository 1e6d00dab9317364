-- name: dsr_overdue
-- control: dsr.overdue
-- section: 8
-- severity: high
-- requires: dsr
-- description: Requests open as of $as_of (by their timestamps up to that day, dsr_states) past their deadline; an extension counts only when notified, with reasons, by the original due date and by $as_of.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The requests open as of $as_of and their state: dsr_requests_as_of ($dsr_due_soon_days only names its
-- due_soon state, which is ok here). An open request with a due date is overdue, due_soon or on_track.
with assessed as (
    select
        *,
        -days_to_deadline as days_past_due
    from dsr_requests_as_of
    where status = 'open'
      and effective_due_date is not null
),

final as (
    select
        'dsr:' || request_id as resource,
        case when state = 'overdue' then 'alarm' else 'ok' end as status,
        case
            when days_past_due > 30 then 'critical'
            when state = 'overdue' then 'high'
            else 'info'
        end as severity,
        case
            when state = 'overdue' then
                'Open ' || request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
                || cast(received_date as varchar) || ') was due ' || cast(effective_due_date as varchar)
                || case
                    when extension_status = 'late' then ' (its extension was notified too late to count)'
                    when extension_status = 'no_reasons' then ' (its extension gave no reasons, so it is void)'
                    else ''
                end
                || ' and is ' || cast(days_past_due as varchar) || ' days overdue as of ' || cast($as_of as varchar) || '.'
            else
                'Open ' || request_type || ' request ' || request_id || ' (' || jurisdiction || ') is due '
                || cast(effective_due_date as varchar) || ', ' || cast(-days_past_due as varchar)
                || ' days after ' || cast($as_of as varchar) || '.'
        end as reason,
        effective_due_at as observed_at,
        [request_id] as evidence
    from assessed
)

select * from final
order by resource
