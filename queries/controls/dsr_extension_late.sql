-- name: dsr_extension_late
-- control: dsr.extension_late
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per request whose extension was notified by $as_of (local date): alarm when it was notified after the original due date, its rule allows no extension, or it gave no reasons (GDPR Art. 12(3) "together with the reasons"; CCPA regs 7021(b); the US state statutes); in each case it does not count.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with extended as (
    -- The request as it stood at the end of $as_of (dsr_requests_as_of), any status: a failed notice is a
    -- failure of the notice itself, whatever came next. Dates are the jurisdiction's local dates, as
    -- the deadline engine judged them.
    select
        request_id,
        jurisdiction,
        request_type,
        extension_notified_at,
        extension_notified_date,
        rule_id,
        received_date,
        due_date,
        extended_due_date,
        extension_status
    from dsr_requests_as_of
    where extension_notified_date is not null
      and extension_status <> 'none'
),

described as (
    select
        *,
        request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
        || cast(received_date as varchar) || ')' as request_text,
        cast(extension_notified_date as varchar) as notified_text
    from extended
),

final as (
    select
        'dsr:' || request_id as resource,
        case when extension_status in ('late', 'not_allowed', 'no_reasons') then 'alarm' else 'ok' end as status,
        -- Medium: the notice failed; whether the answer itself is late is dsr.overdue / dsr.completed_late.
        case when extension_status in ('late', 'not_allowed', 'no_reasons') then 'medium' else 'info' end as severity,
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
            when 'no_reasons' then
                'The extension of ' || request_text || ' was notified ' || notified_text
                || ' without reasons, so it is void'
                || case
                    when due_date is not null then ' and the request stays due ' || cast(due_date as varchar)
                    else ''
                end
                || ' (medium: the law requires the reasons with the notice; lateness of the answer is reported separately).'
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
