-- name: dsr_open_by_deadline
-- requires: dsr
-- description: One row per request open as of $as_of (by its timestamps up to that day, dsr_states) with its effective due date, days to deadline and state (on_track, due_soon within $dsr_due_soon_days, overdue; no_deadline or awaiting_verification when it has no due date).
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, received_date DATE, effective_due_date DATE,
--          days_to_deadline BIGINT, state VARCHAR, extension_status VARCHAR
-- The requests open as of $as_of and their state: dsr_requests_as_of, as dsr.overdue reads it.
with final as (
    select
        request_id,
        jurisdiction,
        request_type,
        received_date,
        effective_due_date,
        days_to_deadline,
        state,
        extension_status
    from dsr_requests_as_of
    where status = 'open'
)

select * from final
order by days_to_deadline nulls last, request_id
