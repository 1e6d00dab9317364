-- name: dsr_open_by_deadline
-- requires: dsr
-- description: One row per request open as of $as_of (by its timestamps up to that day, dsr_states) with its effective due date, days to deadline and state (on_track, due_soon within $dsr_due_soon_days, overdue; no_deadline or awaiting_verification when it has no due date).
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, received_date DATE, effective_due_date DATE,
--          days_to_deadline BIGINT, state VARCHAR, extension_status VARCHAR
with open_requests as (
    -- Open at the end of $as_of (dsr_states), as dsr.overdue reads it.
    select
        request_id,
        jurisdiction,
        request_type,
        rule_id,
        received_date,
        effective_due_date,
        extension_status,
        date_diff('day', $as_of, effective_due_date) as days_to_deadline
    from dsr_states
    where valid_from <= $as_of
      and (valid_to is null or valid_to > $as_of)
      and status = 'open'
),

final as (
    select
        request_id,
        jurisdiction,
        request_type,
        received_date,
        effective_due_date,
        days_to_deadline,
        -- the deadline engine's state names (compliance.deadlines.STATES)
        case
            when rule_id is null then 'no_deadline'
            when effective_due_date is null then 'awaiting_verification'
            when days_to_deadline < 0 then 'overdue'
            when days_to_deadline <= $dsr_due_soon_days then 'due_soon'
            else 'on_track'
        end as state,
        extension_status
    from open_requests
)

select * from final
order by days_to_deadline nulls last, request_id
