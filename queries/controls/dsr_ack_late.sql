-- name: dsr_ack_late
-- control: dsr.ack_late
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per US-CA request received by $as_of that needs an acknowledgement: alarm when it was acknowledged after its acknowledgement due date, or is still unacknowledged after it.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with acknowledgeable as (
    -- The request as it stood at the end of $as_of (dsr_requests_as_of): an acknowledgement or closure after
    -- $as_of has not happened there. Only rules with an acknowledgement period have an ack_due_date
    -- (CCPA regs 7021(a) today).
    select
        request_id,
        jurisdiction,
        request_type,
        received_date,
        ack_due_date,
        ack_late,
        closed_date,
        acknowledged_date
    from dsr_requests_as_of
    where jurisdiction = 'US-CA'
      and ack_due_date is not null
),

assessed as (
    select
        *,
        -- ack_late as of the day (settled at ingest once acknowledged or closed, else whether $as_of is past
        -- the due date); it can only show as of a day after the due date.
        $as_of > ack_due_date and ack_late as is_late,
        date_diff('day', ack_due_date, coalesce(acknowledged_date, $as_of)) as days_late,
        request_type || ' request ' || request_id || ' (US-CA, received ' || cast(received_date as varchar)
        || ')' as request_text
    from acknowledgeable
),

final as (
    select
        'dsr:' || request_id as resource,
        case when is_late then 'alarm' else 'ok' end as status,
        -- Medium: a missed confirmation of receipt; the answer's own deadline is dsr.overdue's.
        case when is_late then 'medium' else 'info' end as severity,
        case
            when is_late and acknowledged_date is not null then
                'The ' || request_text || ' was acknowledged ' || cast(acknowledged_date as varchar) || ', '
                || cast(days_late as varchar) || ' days after the acknowledgement due date '
                || cast(ack_due_date as varchar) || ' (medium: receipt confirmed late).'
            when is_late then
                'The ' || request_text || ' was not acknowledged by its acknowledgement due date '
                || cast(ack_due_date as varchar) || ' and is ' || cast(days_late as varchar)
                || ' days past it as of ' || cast($as_of as varchar) || ' (medium: receipt never confirmed).'
            when acknowledged_date is not null then
                'The ' || request_text || ' was acknowledged ' || cast(acknowledged_date as varchar)
                || ', by its acknowledgement due date ' || cast(ack_due_date as varchar) || '.'
            when closed_date <= ack_due_date then
                'The ' || request_text || ' was closed ' || cast(closed_date as varchar)
                || ', by its acknowledgement due date ' || cast(ack_due_date as varchar) || ', so it needed none.'
            else
                'The ' || request_text || ' awaits acknowledgement, due by ' || cast(ack_due_date as varchar)
                || ' (not yet past as of ' || cast($as_of as varchar) || ').'
        end as reason,
        cast(ack_due_date as timestamp) as observed_at,
        [request_id] as evidence
    from assessed
)

select * from final
order by resource
