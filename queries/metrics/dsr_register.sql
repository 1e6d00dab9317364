-- name: dsr_register
-- requires: dsr
-- description: One row per request received up to $as_of: the register's fields, its deadline, acknowledgement, turnaround and state as of $as_of from its timestamps up to that day (dsr_states: on_track, due_soon within $dsr_due_soon_days, overdue, completed_on_time, completed_late, rejected, rejected_late, withdrawn, no_deadline, awaiting_verification) and the deadline engine's explanation.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, request_type VARCHAR, channel VARCHAR,
--          status VARCHAR, received_date DATE, due_date DATE, extension_status VARCHAR, effective_due_date DATE,
--          days_to_deadline BIGINT, ack_due_date DATE, acknowledged_date DATE, ack_late BOOLEAN, closed_date DATE,
--          turnaround_days INTEGER, state VARCHAR, explanation VARCHAR
with requests as (
    -- Each request as it stood at the end of $as_of (dsr_states), as the dsr.* controls read it.
    select
        d.request_id,
        r.subject_id,
        d.jurisdiction,
        d.request_type,
        r.channel,
        d.status,
        d.rule_id,
        d.received_date,
        d.due_date,
        d.extension_status,
        d.effective_due_date,
        date_diff('day', $as_of, d.effective_due_date) as days_to_deadline,
        d.ack_due_date,
        d.acknowledged_date,
        -- database.md: a late acknowledgement as of a date
        case when d.ack_due_date is not null then coalesce(d.ack_late, $as_of > d.ack_due_date) end as ack_late,
        d.closed_date,
        d.closed_late,
        d.turnaround_days,
        d.explanation
    from dsr_states as d
    left join dsr_requests as r on r.request_id = d.request_id
    where d.valid_from <= $as_of
      and (d.valid_to is null or d.valid_to > $as_of)
),

final as (
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
        -- the deadline engine's state names (compliance.deadlines.STATES), as dsr_open_by_deadline and
        -- dsr_monthly_trend judge them
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
        end as state,
        explanation
    from requests
)

select * from final
order by received_date desc, request_id
