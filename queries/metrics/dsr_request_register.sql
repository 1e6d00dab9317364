-- name: dsr_request_register
-- requires: dsr
-- description: One row per request received by $as_of (local date), as it stood at the end of $as_of (dsr_states: status, acknowledgement, verification, extension notice and completion only if they had happened by then): the register's fields that decide its deadline, as the deadline engine (compliance.deadlines.DsrRequest) reads them, with what ingestion derived for it (rule, effective due date, extension status, closed late, turnaround, explanation), so a notebook can recompute each deadline with the engine and explain it.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, status_reason VARCHAR, received_at TIMESTAMP, acknowledged_at TIMESTAMP,
--          verified_at TIMESTAMP, extension_notified_at TIMESTAMP, extension_reason VARCHAR,
--          completed_at TIMESTAMP, id_requested_at TIMESTAMP, id_received_at TIMESTAMP,
--          clarification_requested_at TIMESTAMP, clarification_received_at TIMESTAMP, rule_id VARCHAR, effective_due_date DATE, extension_status VARCHAR,
--          closed_late BOOLEAN, turnaround_days INTEGER, explanation VARCHAR
-- The register as of $as_of, with the fields the deadline engine reads: dsr_requests_as_of.
with final as (
    select
        request_id,
        subject_id,
        jurisdiction,
        request_type,
        channel,
        status,
        status_reason,
        received_at,
        acknowledged_at,
        verified_at,
        extension_notified_at,
        extension_reason,
        completed_at,
        id_requested_at,
        id_received_at,
        clarification_requested_at,
        clarification_received_at,
        rule_id,
        effective_due_date,
        extension_status,
        closed_late,
        turnaround_days,
        explanation
    from dsr_requests_as_of
)

select * from final
order by received_at, request_id
