-- name: dsr_requests_as_of
-- requires: dsr
-- description: The DSR register as it stood at the end of $as_of, one row per request received by then: the dsr_states period valid on that day (status, acknowledgement, verification, extension notice and completion count only if they had happened by then; whether the rule allows an extension and the date it would extend to), the request's own fields, days to the effective deadline, whether the acknowledgement is late as of that day (docs/database.md), and the request's state in the deadline engine's names (compliance.deadlines.STATES, request_state): on_track, due_soon (within $dsr_due_soon_days days), overdue, no_deadline, awaiting_verification while open; completed_on_time, completed_late, rejected, rejected_late, withdrawn once closed. The one statement of the register and its state that the DSR registers, dsr_open_by_deadline, dsr_extension_practice, dsr_monthly_trend, the turnaround metrics and the dsr.* controls read.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, status_reason VARCHAR, rule_id VARCHAR, received_at TIMESTAMP, received_date DATE,
--          clock_start_date DATE, due_date DATE, extension_allowed BOOLEAN, extension_status VARCHAR,
--          extended_due_date DATE, effective_due_date DATE, effective_due_at TIMESTAMP, days_to_deadline BIGINT,
--          ack_due_date DATE, acknowledged_at TIMESTAMP, acknowledged_date DATE, ack_late BOOLEAN,
--          verified_at TIMESTAMP, extension_notified_at TIMESTAMP, extension_notified_date DATE,
--          extension_reason VARCHAR, completed_at TIMESTAMP, closed_date DATE, closed_late BOOLEAN,
--          turnaround_days INTEGER, id_requested_at TIMESTAMP, id_received_at TIMESTAMP,
--          clarification_requested_at TIMESTAMP, clarification_received_at TIMESTAMP, explanation VARCHAR,
--          state VARCHAR
with requests as (
    select
        d.request_id,
        r.subject_id,
        d.jurisdiction,
        d.request_type,
        r.channel,
        d.status,
        case when d.status <> 'open' then r.status_reason end as status_reason,
        d.rule_id,
        r.received_at,
        d.received_date,
        d.clock_start_date,
        d.due_date,
        d.extension_allowed,
        d.extension_status,
        d.extended_due_date,
        d.effective_due_date,
        d.effective_due_at,
        date_diff('day', $as_of, d.effective_due_date) as days_to_deadline,
        d.ack_due_date,
        d.acknowledged_at,
        d.acknowledged_date,
        -- database.md: a late acknowledgement as of a date
        case when d.ack_due_date is not null then coalesce(d.ack_late, $as_of > d.ack_due_date) end as ack_late,
        d.verified_at,
        d.extension_notified_at,
        d.extension_notified_date,
        case when d.extension_notified_at is not null then r.extension_reason end as extension_reason,
        case when d.status <> 'open' then coalesce(d.closed_at, r.completed_at) end as completed_at,
        d.closed_date,
        d.closed_late,
        d.turnaround_days,
        d.id_requested_at,
        d.id_received_at,
        d.clarification_requested_at,
        d.clarification_received_at,
        d.explanation
    from dsr_states as d
    left join dsr_requests as r on r.request_id = d.request_id
    where d.valid_from <= $as_of
      and (d.valid_to is null or d.valid_to > $as_of)
),

final as (
    select
        *,
        -- The one definition of a request's state on a date for everything that reads a database (controls,
        -- pages, notebooks); tests/test_legal_cases.py checks it on hand-worked cases.
        case
            when status = 'open' and rule_id is null then 'no_deadline'
            when status = 'open' and effective_due_date is null then 'awaiting_verification'
            when status = 'open' and days_to_deadline < 0 then 'overdue'
            when status = 'open' and days_to_deadline <= $dsr_due_soon_days then 'due_soon'
            when status = 'open' then 'on_track'
            when status = 'withdrawn' then status
            when status = 'rejected' and (closed_late or (closed_late is null and $as_of > effective_due_date))
                then 'rejected_late'
            when status = 'rejected' then status
            when closed_late then 'completed_late'
            when closed_late is not null then 'completed_on_time'
            when effective_due_date is null then 'no_deadline'
            when $as_of <= effective_due_date then 'completed_on_time'
            else 'completed_late'
        end as state
    from requests
)

select * from final
