-- name: dsr_due_soon
-- control: dsr.due_soon
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per request open as of $as_of (by its timestamps up to that day, dsr_states): info (medium) when its effective deadline is at most $dsr_due_soon_days days away, ok otherwise (overdue ones are dsr.overdue's alarms).
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The requests open as of $as_of and their state: dsr_requests_as_of.
with classified as (
    select
        request_id,
        jurisdiction,
        request_type,
        received_at,
        received_date,
        effective_due_date,
        effective_due_at,
        days_to_deadline as days_left,
        case when state = 'no_deadline' then 'no_rule' else state end as finding,
        'Open ' || request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
        || cast(received_date as varchar) || ')' as request_text
    from dsr_requests_as_of
    where status = 'open'
),

final as (
    select
        'dsr:' || request_id as resource,
        case when finding = 'due_soon' then 'info' else 'ok' end as status,
        -- Not an alarm yet: a warning that needs action within days.
        case when finding = 'due_soon' then 'medium' else 'info' end as severity,
        case finding
            when 'due_soon' then
                request_text || ' is due ' || cast(effective_due_date as varchar) || ', '
                || case when days_left = 0 then 'today' else 'in ' || cast(days_left as varchar) || ' days' end
                || ' as of ' || cast($as_of as varchar) || ', within the ' || cast($dsr_due_soon_days as varchar)
                || '-day warning window.'
            when 'on_track' then
                request_text || ' is due ' || cast(effective_due_date as varchar) || ', in '
                || cast(days_left as varchar) || ' days as of ' || cast($as_of as varchar) || '.'
            when 'overdue' then
                request_text || ' was due ' || cast(effective_due_date as varchar) || ' and is already '
                || cast(-days_left as varchar) || ' days overdue as of ' || cast($as_of as varchar)
                || ': reported by dsr.overdue, not here.'
            when 'awaiting_verification' then
                request_text || ' has no due date yet: its clock starts at identity verification.'
            else
                request_text || ' has no deadline: no rule covers ' || request_type || ' requests in '
                || jurisdiction || '.'
        end as reason,
        coalesce(effective_due_at, received_at) as observed_at,
        [request_id] as evidence
    from classified
)

select * from final
order by resource
