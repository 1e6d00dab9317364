-- name: dsr_request_register
-- requires: dsr
-- description: One row per request received by $as_of (local date), as it stood at the end of $as_of (dsr_states: status, acknowledgement, verification, extension notice and completion only if they had happened by then): the register's fields that decide its deadline, as the deadline engine (compliance.deadlines.DsrRequest) reads them, with what ingestion derived for it (rule, effective due date, extension status, closed late, turnaround, explanation), so a notebook can recompute each deadline with the engine and explain it.
-- params: as_of DATE
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, status_reason VARCHAR, received_at TIMESTAMP, acknowledged_at TIMESTAMP,
--          verified_at TIMESTAMP, extension_notified_at TIMESTAMP, extension_reason VARCHAR,
--          completed_at TIMESTAMP, id_requested_at TIMESTAMP, id_received_at TIMESTAMP,
--          clarification_requested_at TIMESTAMP, clarification_received_at TIMESTAMP, rule_id VARCHAR, effective_due_date DATE, extension_status VARCHAR,
--          closed_late BOOLEAN, turnaround_days INTEGER, explanation VARCHAR
with requests as (
    select
        r.request_id,
        r.subject_id,
        r.jurisdiction,
        r.request_type,
        r.channel,
        d.status,
        case when d.status <> 'open' then r.status_reason end as status_reason,
        r.received_at,
        d.acknowledged_at,
        d.verified_at,
        d.extension_notified_at,
        case when d.extension_notified_at is not null then r.extension_reason end as extension_reason,
        case when d.status <> 'open' then coalesce(d.closed_at, r.completed_at) end as completed_at,
        d.id_requested_at,
        d.id_received_at,
        d.clarification_requested_at,
        d.clarification_received_at,
        d.rule_id,
        d.effective_due_date,
        d.extension_status,
        d.closed_late,
        d.turnaround_days,
        d.explanation
    from dsr_states as d
    inner join dsr_requests as r on r.request_id = d.request_id
    where d.valid_from <= $as_of
      and (d.valid_to is null or d.valid_to > $as_of)
),

final as (
    select * from requests
)

select * from final
order by received_at, request_id
