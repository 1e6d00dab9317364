-- name: dsr_overdue
-- control: dsr.overdue
-- section: 8
-- severity: high
-- requires: dsr
-- description: Requests open as of $as_of (by their timestamps up to that day, dsr_states) past their deadline; an extension counts only when notified, with reasons, by the original due date and by $as_of.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with open_requests as (
    -- The request as it stood at the end of $as_of: one dsr_states row per request received by then.
    select
        d.request_id,
        d.jurisdiction,
        d.request_type,
        d.rule_id,
        d.received_date,
        d.effective_due_date,
        d.effective_due_at,
        d.extension_status
    from dsr_states as d
    where d.valid_from <= $as_of
      and (d.valid_to is null or d.valid_to > $as_of)
      and d.status = 'open'
      and d.effective_due_date is not null
),

assessed as (
    select
        *,
        date_diff('day', effective_due_date, $as_of) as days_past_due
    from open_requests
),

final as (
    select
        'dsr:' || request_id as resource,
        case when days_past_due > 0 then 'alarm' else 'ok' end as status,
        case
            when days_past_due > 30 then 'critical'
            when days_past_due > 0 then 'high'
            else 'info'
        end as severity,
        case
            when days_past_due > 0 then
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
