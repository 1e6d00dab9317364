-- name: dsr_audit_evidence
-- requires: dsr, audit
-- description: Per request type, requests completed by $as_of whose whole handling (receipt to completion) falls inside the audit trail (on or after its first day): how many have case events (resource_type dsr_case, resource_id = the request id) and how many have an audit event doing what the request asked to the subject's data between receipt and the completion day (delete: delete or deidentify; access, portability: export; correct: update; other types: not assessed, NULL).
-- params: as_of DATE
-- returns: request_type VARCHAR, fulfilment_actions VARCHAR, completed BIGINT, with_case_events BIGINT,
--          with_fulfilment_event BIGINT
with audit_start as (
    select min(event_date) as first_date
    from audit_events
),

fulfilment as (
    -- What doing the request leaves in the audit trail, per request type.
    select * from (
        values
            ('delete', 'delete'),
            ('delete', 'deidentify'),
            ('access', 'export'),
            ('portability', 'export'),
            ('correct', 'update')
    ) as f (request_type, action)
),

requests as (
    select
        r.request_id,
        r.subject_id,
        r.request_type,
        cast(r.received_at as date) as received_date,
        cast(r.completed_at as date) as completed_date
    from dsr_requests as r
    cross join audit_start as a
    where r.status = 'completed'
      and r.completed_at is not null
      and cast(r.completed_at as date) <= $as_of
      and cast(r.received_at as date) >= a.first_date
),

case_events as (
    select distinct r.request_id
    from requests as r
    inner join audit_events as e
        on e.resource_type = 'dsr_case'
        and e.resource_id = r.request_id
    where e.event_date <= $as_of
),

fulfilment_events as (
    select distinct r.request_id
    from requests as r
    inner join fulfilment as f on f.request_type = r.request_type
    inner join audit_events as e
        on e.subject_id = r.subject_id
        and e.action = f.action
    where e.outcome = 'success'
      and e.event_date between r.received_date and r.completed_date
),

assessed_types as (
    select
        request_type,
        string_agg(action, ', ' order by action) as fulfilment_actions
    from fulfilment
    group by request_type
),

final as (
    select
        r.request_type,
        min(t.fulfilment_actions) as fulfilment_actions,
        count(*) as completed,
        count(c.request_id) as with_case_events,
        case when min(t.fulfilment_actions) is not null then count(f.request_id) end as with_fulfilment_event
    from requests as r
    left join assessed_types as t on t.request_type = r.request_type
    left join case_events as c on c.request_id = r.request_id
    left join fulfilment_events as f on f.request_id = r.request_id
    group by r.request_type
)

select * from final
order by request_type
