-- name: dsr_register
-- requires: dsr
-- description: One row per request received up to $as_of: the register's fields, its deadline, acknowledgement, turnaround and state as of $as_of from its timestamps up to that day (dsr_states: on_track, due_soon within $dsr_due_soon_days, overdue, completed_on_time, completed_late, rejected, rejected_late, withdrawn, no_deadline, awaiting_verification) and the deadline engine's explanation.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, received_date DATE, due_date DATE, extension_status VARCHAR, effective_due_date DATE,
--          days_to_deadline BIGINT, ack_due_date DATE, acknowledged_date DATE, ack_late BOOLEAN, closed_date DATE,
--          turnaround_days INTEGER, state VARCHAR, explanation VARCHAR
-- The register and each request's state as of $as_of: dsr_requests_as_of.
with final as (
    select
        request_id,
        subject_id,
        jurisdiction,
        request_type,
        channel,
        status,
        received_date,
        due_date,
        extension_status,
        effective_due_date,
        days_to_deadline,
        ack_due_date,
        acknowledged_date,
        ack_late,
        closed_date,
        turnaround_days,
        state,
        explanation
    from dsr_requests_as_of
)

select * from final
order by received_date desc, request_id
