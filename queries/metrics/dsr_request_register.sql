-- name: dsr_request_register
-- requires: dsr
-- description: One row per request received by $as_of (local date): the register's fields that decide its deadline, as the deadline engine (compliance.deadlines.DsrRequest) reads them, with what ingestion stored in dsr_deadlines for it (rule, effective due date, extension status, closed late, turnaround, explanation), so a notebook can recompute each deadline with the engine and explain it.
-- params: as_of DATE
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, status_reason VARCHAR, received_at TIMESTAMP, acknowledged_at TIMESTAMP,
--          verified_at TIMESTAMP, extension_notified_at TIMESTAMP, extension_reason VARCHAR,
--          completed_at TIMESTAMP, rule_id VARCHAR, effective_due_date DATE, extension_status VARCHAR,
--          closed_late BOOLEAN, turnaround_days INTEGER, explanation VARCHAR
with requests as (
    select
        r.request_id,
        r.subject_id,
        r.jurisdiction,
        r.request_type,
        r.channel,
        r.status,
        r.status_reason,
        r.received_at,
        r.acknowledged_at,
        r.verified_at,
        r.extension_notified_at,
        r.extension_reason,
        r.completed_at,
        d.rule_id,
        d.effective_due_date,
        d.extension_status,
        d.closed_late,
        d.turnaround_days,
        d.explanation
    from dsr_requests as r
    inner join dsr_deadlines as d on d.request_id = r.request_id
    where d.received_date <= $as_of
),

final as (
    select * from requests
)

select * from final
order by received_at, request_id
