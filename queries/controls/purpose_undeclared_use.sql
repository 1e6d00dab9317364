-- name: purpose_undeclared_use
-- control: purpose.undeclared_use
-- section: 3
-- severity: high
-- requires: audit
-- description: Successful audit data events with a declared purpose up to $as_of: alarm per actor and day when the purpose is prohibited (no sale) or not a data use the data map allows for the system; one ok row per allowed system and purpose.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with resource_systems as (
    -- ref_resource_types has one row per category; the policy loader guarantees one system per type.
    select distinct
        resource_type,
        system_id
    from ref_resource_types
),

purpose_events as (
    -- A denied or failed attempt used no data, so only successful data actions are judged. The system
    -- is the one that recorded the event, else the one its resource_type belongs to in the data map.
    select
        e.event_id,
        e.actor_id,
        e.event_date,
        e.occurred_at,
        e.purpose,
        coalesce(e.system, rt.system_id) as system_id,
        coalesce(e.record_count, 1) as records
    from audit_events as e
    left join resource_systems as rt on rt.resource_type = e.resource_type
    where e.purpose is not null
      and e.outcome = 'success'
      and e.action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
      and e.event_date <= $as_of
),

-- Each (system, purpose) judged once: prohibited, allowed or undeclared (data_use_observations).
verdicts as (
    select
        system_id,
        purpose,
        verdict
    from data_use_observations
),

judged as (
    select
        e.*,
        v.verdict
    from purpose_events as e
    inner join verdicts as v
        on v.system_id is not distinct from e.system_id
        and v.purpose = e.purpose
),

-- Alarms: one row per actor and UTC day, listing each offending (system, purpose).
alarm_uses as (
    select
        actor_id,
        event_date,
        system_id,
        purpose,
        verdict,
        count(*) as events,
        sum(records) as records
    from judged
    where verdict <> 'allowed'
    group by actor_id, event_date, system_id, purpose, verdict
),

alarm_days as (
    select
        actor_id,
        event_date,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records,
        max(case when verdict = 'prohibited' then 1 else 0 end) as any_prohibited,
        string_agg(
            purpose || ' on ' || coalesce(system_id, 'an unmapped system')
            || case
                when verdict = 'prohibited' then ' (prohibited: the policy promises no sale of personal data)'
                else ' (not a declared use of that system)'
            end
            || ' in ' || cast(events as varchar) || ' events',
            '; '
            order by purpose, system_id
        ) as details
    from alarm_uses
    group by actor_id, event_date
),

alarm_ranked as (
    select
        actor_id,
        event_date,
        event_id,
        occurred_at,
        row_number() over (partition by actor_id, event_date order by occurred_at desc, event_id desc) as evidence_rank
    from judged
    where verdict <> 'allowed'
),

alarm_evidence as (
    select
        actor_id,
        event_date,
        max(occurred_at) as last_at,
        -- the 20 most recent events: enough to audit the finding
        array_agg(event_id order by evidence_rank) filter (where evidence_rank <= 20) as evidence
    from alarm_ranked
    group by actor_id, event_date
),

alarms as (
    select
        'actor:' || d.actor_id || '@' || cast(d.event_date as varchar) as resource,
        'alarm' as status,
        case when d.any_prohibited = 1 then 'critical' else 'high' end as severity,
        'Actor ' || d.actor_id || ' used personal data on ' || cast(d.event_date as varchar)
        || ' for purposes the data map does not allow, in ' || cast(d.events as varchar) || ' events ('
        || cast(d.records as varchar) || ' records): ' || d.details || '.' as reason,
        ev.last_at as observed_at,
        ev.evidence
    from alarm_days as d
    inner join alarm_evidence as ev
        on ev.actor_id = d.actor_id
        and ev.event_date = d.event_date
),

-- ok: one summary row per allowed (system, purpose), resource `use:<system>/<purpose>` (actor-day
-- resources are kept for alarms, so the ok side stays a handful of rows).
allowed as (
    select
        'use:' || system_id || '/' || purpose as resource,
        'ok' as status,
        'info' as severity,
        'Purpose ' || purpose || ' is a declared use of ' || system_id || ': ' || cast(count(*) as varchar)
        || ' events (' || cast(sum(records) as varchar) || ' records) by ' || cast(count(distinct actor_id) as varchar)
        || ' actors from ' || cast(cast(min(occurred_at) as date) as varchar) || ' to '
        || cast(cast(max(occurred_at) as date) as varchar) || '.' as reason,
        max(occurred_at) as observed_at,
        -- duckdb: max_by(x, y, n) keeps the 20 most recent in one aggregate pass instead of a window over
        -- every allowed event (Spark: a row_number() window); ties broken by id so output is stable.
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from judged
    where verdict = 'allowed'
    group by system_id, purpose
),

final as (
    select * from alarms
    union all
    select * from allowed
)

select * from final
order by resource
