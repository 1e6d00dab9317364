-- name: dsr_overdue
-- control: dsr.overdue
-- section: 8
-- severity: high
-- requires: dsr
-- description: Open data subject requests past their deadline as of $as_of; an extension counts only when notified in time.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with open_requests as (
    select
        r.request_id,
        r.jurisdiction,
        r.request_type,
        d.rule_id,
        d.received_date,
        d.effective_due_date,
        d.effective_due_at,
        d.extension_status
    from dsr_requests as r
    inner join dsr_deadlines as d on d.request_id = r.request_id
    where r.status = 'open'
      and d.effective_due_date is not null
      and d.received_date <= $as_of
),

assessed as (
    select
        *,
        date_diff('day', effective_due_date, $as_of) as days_past_due
    from open_requests
),

final as (
    select
        'dsr.overdue' as control_id,
        '8' as policy_section,
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
                || case when extension_status = 'late' then ' (its extension was notified too late to count)' else '' end
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
