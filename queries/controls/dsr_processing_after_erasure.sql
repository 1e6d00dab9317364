-- name: dsr_processing_after_erasure
-- control: dsr.processing_after_erasure
-- section: 8
-- severity: high
-- requires: dsr, audit
-- description: One row per delete request completed by $as_of: alarm when successful audit data actions (other than the erasure's own delete/de-identify) or usage events touch the subject after completion, up to $as_of.
-- params: as_of DATE, retention_erasure_grace_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with erasures as (
    -- The delete requests completed by $as_of: the population retention.erasure_incomplete judges too.
    select
        request_id,
        subject_id,
        jurisdiction,
        completed_at
    from erasure_requests
),

-- The erasures whose subject has usage events on or after the day of completion, by the ingest's table of each
-- subject's last day of usage events (usage_processed_subjects, a day never earlier than the last): only these
-- erasures' subjects' usage events are read (100M demo events: every one of 14.2M usage events scanned before).
used_again as (
    select e.*
    from erasures as e
    inner join usage_processed_subjects as p on p.subject_id = e.subject_id
    where p.last_date >= cast(e.completed_at as date)
),

-- Their subjects' processing after completion: audit data actions from the ingest's table of the processing of
-- every subject with a delete request (audit_erasure_subject_days), which reads no other subject's events (100M demo
-- events: the 8M events of the 30 days between one erasure and its subject's last processing were scanned for its
-- id on every run); usage events from the usage events themselves.
later_events as (
    select
        e.request_id,
        p.event_id,
        p.occurred_at,
        'audit' as source,
        p.is_disclosure
    from erasures as e
    inner join audit_erasure_subject_days as p on p.subject_id = e.subject_id
    where p.occurred_at > e.completed_at
      and cast(p.occurred_at as date) <= $as_of
    union all
    -- usage_events.user_id is the data subject.
    select
        e.request_id,
        u.event_id,
        u.occurred_at,
        'usage' as source,
        false as is_disclosure
    from used_again as e
    inner join usage_events as u on u.user_id = e.subject_id
    where u.occurred_at > e.completed_at
      and cast(u.occurred_at as date) <= $as_of
),

per_request as (
    select
        request_id,
        count(*) filter (where source = 'audit') as audit_count,
        count(*) filter (where source = 'usage') as usage_count,
        count(*) filter (where is_disclosure) as disclosure_count,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at,
        array_agg(event_id order by occurred_at, event_id) as event_ids
    from later_events
    group by request_id
),

assessed as (
    select
        e.*,
        coalesce(p.audit_count, 0) as audit_count,
        coalesce(p.usage_count, 0) as usage_count,
        coalesce(p.disclosure_count, 0) as disclosure_count,
        p.first_at,
        p.last_at,
        p.event_ids
    from erasures as e
    left join per_request as p on p.request_id = e.request_id
),

final as (
    select
        'dsr:' || request_id as resource,
        case when audit_count + usage_count > 0 then 'alarm' else 'ok' end as status,
        case
            when disclosure_count > 0 then 'critical'
            when audit_count + usage_count > 0 then 'high'
            else 'info'
        end as severity,
        case
            when audit_count + usage_count > 0 then
                'Subject ' || subject_id || ' of delete request ' || request_id || ' (' || jurisdiction
                || ', completed ' || cast(completed_at as varchar) || ') was processed afterwards: '
                || cast(audit_count as varchar) || ' audit data action(s) and ' || cast(usage_count as varchar)
                || ' usage event(s) from ' || cast(first_at as varchar) || ' to ' || cast(last_at as varchar)
                || case
                    when disclosure_count > 0 then
                        '; critical: ' || cast(disclosure_count as varchar) || ' of them exported or shared the data.'
                    else '; high: used after erasure, not disclosed.'
                end
            else
                'No audit data action or usage event touched subject ' || subject_id || ' after delete request '
                || request_id || ' completed ' || cast(completed_at as varchar) || ', up to ' || cast($as_of as varchar)
                || '.'
        end as reason,
        coalesce(first_at, completed_at) as observed_at,
        coalesce(event_ids, [request_id]) as evidence
    from assessed
)

select * from final
order by resource
