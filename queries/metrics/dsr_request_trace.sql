-- name: dsr_request_trace
-- requires: dsr, audit
-- description: The end-to-end trail of the requests in $request_ids up to $as_of, one row per step in time order: the register's milestones (received, acknowledged, identity verified, extension notified, the optional UK Art. 12A identity and clarification requests and answers, and completed, rejected or withdrawn) and the audit events that evidence the handling: the case's own events (resource_type dsr_case, resource_id = the request id) and every event on the subject's data, each with its phase relative to the request (before receipt, while open, after closure).
-- params: request_ids VARCHAR[], as_of DATE
-- returns: request_id VARCHAR, occurred_at TIMESTAMP, source VARCHAR, phase VARCHAR, step VARCHAR, actor_id VARCHAR,
--          system VARCHAR, action VARCHAR, resource VARCHAR, record_count BIGINT, event_id VARCHAR
with requests as (
    select
        request_id,
        subject_id,
        channel,
        status,
        status_reason,
        extension_reason,
        received_at,
        acknowledged_at,
        verified_at,
        extension_notified_at,
        completed_at,
        id_requested_at,
        id_received_at,
        clarification_requested_at,
        clarification_received_at
    from dsr_requests
    -- duckdb: list_contains (Spark: array_contains)
    where list_contains($request_ids, request_id)
),

milestones as (
    select request_id, received_at as occurred_at, 'received via ' || coalesce(channel, 'unknown channel') as step
    from requests
    union all
    select request_id, acknowledged_at, 'acknowledged'
    from requests
    where acknowledged_at is not null
    union all
    select request_id, verified_at, 'identity verified'
    from requests
    where verified_at is not null
    union all
    select request_id, extension_notified_at, 'extension notified: ' || coalesce(extension_reason, 'no reason given')
    from requests
    where extension_notified_at is not null
    union all
    -- The optional UK GDPR Art. 12A stamps (contract section 1.10): what started or paused the clock.
    select request_id, id_requested_at, 'identity information requested'
    from requests
    where id_requested_at is not null
    union all
    select request_id, id_received_at, 'identity information received'
    from requests
    where id_received_at is not null
    union all
    select request_id, clarification_requested_at, 'clarification requested'
    from requests
    where clarification_requested_at is not null
    union all
    select request_id, clarification_received_at, 'clarification received'
    from requests
    where clarification_received_at is not null
    union all
    select request_id, completed_at, status || coalesce(' (' || status_reason || ')', '')
    from requests
    where status <> 'open'
      and completed_at is not null
),

register_rows as (
    select
        m.request_id,
        m.occurred_at,
        'register' as source,
        'milestone' as phase,
        m.step,
        cast(null as varchar) as actor_id,
        cast(null as varchar) as system,
        cast(null as varchar) as action,
        cast(null as varchar) as resource,
        cast(null as bigint) as record_count,
        cast(null as varchar) as event_id
    from milestones as m
    where cast(m.occurred_at as date) <= $as_of
),

audit_matches as (
    -- The case's own events, and the subject's: one row per (request, event) even when both match.
    select distinct
        r.request_id,
        r.received_at,
        r.completed_at,
        r.status,
        e.event_id,
        e.occurred_at,
        e.actor_id,
        e.system,
        e.action,
        e.outcome,
        e.resource_type,
        e.resource_id,
        e.record_count,
        e.resource_type = 'dsr_case' and e.resource_id = r.request_id as is_case_event
    from requests as r
    inner join audit_events as e
        on (e.resource_type = 'dsr_case' and e.resource_id = r.request_id)
        or e.subject_id = r.subject_id
    where e.event_date <= $as_of
),

audit_rows as (
    select
        request_id,
        occurred_at,
        'audit' as source,
        case
            when occurred_at < received_at then 'before receipt'
            when status <> 'open' and completed_at is not null and occurred_at > completed_at then 'after closure'
            else 'while open'
        end as phase,
        case when is_case_event then 'case ' else 'subject data ' end
        || action || case when outcome <> 'success' then ' (' || outcome || ')' else '' end as step,
        actor_id,
        system,
        action,
        coalesce(resource_type, '') || coalesce(':' || resource_id, '') as resource,
        cast(coalesce(record_count, 1) as bigint) as record_count,
        event_id
    from audit_matches
),

final as (
    select * from register_rows
    union all
    select * from audit_rows
)

select * from final
order by request_id, occurred_at, source desc, event_id
