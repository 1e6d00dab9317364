-- name: dsr_completed_late
-- control: dsr.completed_late
-- section: 8
-- severity: medium
-- requires: dsr
-- description: One row per request answered (completed, or refused: rejected) by $as_of that had a deadline: alarm when the answer came after its effective due date (or is recorded without a time once that date has passed). A refusal must be in time too (GDPR Art. 12(4), CCPA regs 7021(b), VA 59.1-577(B), CO 6-1-1306(2), CT 42-518(c), TX 541.052(c)); a withdrawn request is never late.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The requests answered by $as_of and their state: dsr_requests_as_of ($dsr_due_soon_days only names an
-- open request's state). One answered after $as_of is still open there. Requests without a deadline (no
-- rule, or a verification clock never started) have nothing to be late against. Late is the model's
-- completed_late or rejected_late; an answer without a timestamp (closed_date null) is told apart because
-- it cannot evidence timeliness once the deadline passed.
with assessed as (
    select
        request_id,
        jurisdiction,
        request_type,
        status,
        completed_at,
        effective_due_at,
        extension_status,
        closed_date,
        date_diff('day', effective_due_date, closed_date) as days_late,
        case when status = 'rejected' then 'refused' else 'completed' end as answer,
        case
            when state in ('completed_late', 'rejected_late') and closed_date is null then 'undated'
            when state in ('completed_late', 'rejected_late') then 'late'
            when closed_date is null then 'undated_in_time'
            else 'on_time'
        end as finding,
        request_type || ' request ' || request_id || ' (' || jurisdiction || ', received '
        || cast(received_date as varchar) || ', due ' || cast(effective_due_date as varchar)
        || case when extension_status = 'valid' then ' after a valid extension' else '' end || ')' as request_text
    from dsr_requests_as_of
    where status in ('completed', 'rejected')
      and effective_due_date is not null
),

final as (
    select
        'dsr:' || request_id as resource,
        case when finding in ('late', 'undated') then 'alarm' else 'ok' end as status,
        case
            when finding = 'late' and days_late > 30 then 'high'
            when finding in ('late', 'undated') then 'medium'
            else 'info'
        end as severity,
        case finding
            when 'late' then
                'The ' || request_text || ' was ' || answer || ' ' || cast(closed_date as varchar) || ', '
                || cast(days_late as varchar) || ' days late'
                || case
                    when extension_status in ('late', 'not_allowed', 'no_reasons') then ' (its extension did not count)'
                    else ''
                end
                || case when status = 'rejected' then ' (a refusal must be given in time too)' else '' end
                || case
                    when days_late > 30 then '; high: over 30 days late.'
                    else '; medium: the request was answered, within 30 days of the deadline.'
                end
            when 'undated' then
                'The ' || request_text || ' is marked ' || answer || ' without a time, so it cannot be shown '
                || 'to have met its deadline (medium: a record-keeping gap).'
            when 'undated_in_time' then
                'The ' || request_text || ' is marked ' || answer || ' without a time, but its deadline has not '
                || 'passed as of ' || cast($as_of as varchar) || '.'
            else
                'The ' || request_text || ' was ' || answer || ' ' || cast(closed_date as varchar)
                || case
                    when days_late = 0 then ', on its due date.'
                    else ', ' || cast(-days_late as varchar) || ' days before its deadline.'
                end
        end as reason,
        coalesce(completed_at, effective_due_at) as observed_at,
        [request_id] as evidence
    from assessed
)

select * from final
order by resource
