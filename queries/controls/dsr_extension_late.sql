-- name: dsr_extension_late
-- control: dsr.extension_late
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per request whose extension was notified by $as_of: alarm when it was notified after the original due date, or its rule allows no extension; either way it does not count.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with extended as (
    -- Any status: a late or disallowed extension is a failure of the notice itself, whatever came next.
    select
        r.request_id,
        r.jurisdiction,
        r.request_type,
        r.extension_notified_at,
        d.rule_id,
        d.received_date,
        d.due_date,
        d.extended_due_date,
        d.extension_status
    from dsr_requests as r
    inner join dsr_deadlines as d on d.request_id = r.request_id
    where r.extension_notified_at is not null
      and cast(r.extension_notified_at as date) <= $as_of
      and d.extension_status <> 'none'
),

described as (
    select
        *,
        request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
        || cast(received_date as varchar) || ')' as request_text,
        cast(cast(extension_notified_at as date) as varchar) as notified_text
    from extended
),

final as (
    select
        'dsr.extension_late' as control_id,
        '8' as policy_section,
        'dsr:' || request_id as resource,
        case when extension_status in ('late', 'not_allowed') then 'alarm' else 'ok' end as status,
        -- Medium: the notice failed; whether the answer itself is late is dsr.overdue / dsr.completed_late.
        case when extension_status in ('late', 'not_allowed') then 'medium' else 'info' end as severity,
        case extension_status
            when 'late' then
                'The extension of ' || request_text || ' was notified ' || notified_text
                || ', after the original due date ' || cast(due_date as varchar)
                || ', so it does not count and the request stays due ' || cast(due_date as varchar)
                || ' (medium: the notice failed; lateness of the answer is reported separately).'
            when 'not_allowed' then
                'An extension of ' || request_text || ' was notified ' || notified_text || ', but rule '
                || coalesce(rule_id, '(none)') || ' allows no extension for it, so it does not count'
                || case
                    when due_date is not null then ' and the request stays due ' || cast(due_date as varchar)
                    else ''
                end
                || ' (medium: the notice failed; lateness of the answer is reported separately).'
            else
                'The extension of ' || request_text || ' was notified ' || notified_text
                || case
                    when due_date is not null then
                        ', by the original due date ' || cast(due_date as varchar) || ': valid, now due '
                        || cast(extended_due_date as varchar) || '.'
                    else ', before its clock started (identity not yet verified): valid.'
                end
        end as reason,
        extension_notified_at as observed_at,
        [request_id] as evidence
    from described
)

select * from final
order by resource
