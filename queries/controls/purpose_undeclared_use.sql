-- name: purpose_undeclared_use
-- control: purpose.undeclared_use
-- section: 3
-- severity: high
-- requires: audit
-- description: Successful audit data events with a declared purpose up to $as_of: alarm per actor and day when the purpose is prohibited (no sale) or not a data use the data map allows for the system; one ok row per allowed system and purpose.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- Audit events are read from their daily rollups (docs/database.md): `audit_purpose_days` counts, per day,
-- actor, system and purpose, the successful data actions that declare a purpose (a denied or failed attempt
-- used no data), attributed to the system that recorded them, else the one their resource_type belongs to in
-- the data map (the events the model audit_purpose_events states); `audit_use_days` sums them per day, system and
-- purpose, and `audit_use_actors` holds each actor's first day of each use. Only the uses that are not allowed are
-- read per actor (100M events: 8.2M actor-day rows otherwise). Evidence is read from that model on the few
-- days that hold it (an alarm's day; an allowed use's newest days, unless the rollup keeps their newest events),
-- joined on the day, so DuckDB skips the others.
-- Each (system, purpose) judged once: prohibited, allowed or undeclared (data_use_observations).
with verdicts as (
    select
        system_id,
        purpose,
        verdict
    from data_use_observations
),

-- Alarms: one row per actor and UTC day, listing each offending (system, purpose).
alarm_uses as (
    select
        d.actor_id,
        d.event_date,
        d.system_id,
        d.purpose,
        v.verdict,
        sum(d.events) as events,
        sum(d.records) as records
    from audit_purpose_days as d
    inner join verdicts as v
        on v.system_id is not distinct from d.system_id
        and v.purpose = d.purpose
    where d.event_date <= $as_of
      and v.verdict <> 'allowed'
    group by d.actor_id, d.event_date, d.system_id, d.purpose, v.verdict
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

-- The allowed uses per day (an allowed use has a system: a use judged on an unmapped system is undeclared).
allowed_use_days as (
    select
        u.system_id,
        u.purpose,
        u.event_date,
        u.events,
        u.records,
        u.first_at,
        u.last_at,
        u.newest_events
    from audit_use_days as u
    inner join verdicts as v
        on v.system_id = u.system_id
        and v.purpose = u.purpose
    where u.event_date <= $as_of
      and v.verdict = 'allowed'
),

-- The newest 20 events of each allowed use lie on its newest days: those with fewer than 20 of its events on
-- later days (up to $as_of), found from the rollup's counts.
allowed_newest_days as (
    select
        system_id,
        purpose,
        event_date,
        newest_events
    from (
        select
            system_id,
            purpose,
            event_date,
            newest_events,
            sum(events) over (
                partition by system_id, purpose
                order by event_date desc
                rows between unbounded preceding and 1 preceding
            ) as later_events
        from allowed_use_days
    ) as d
    where coalesce(later_events, 0) < 20
),

-- The events of the alarms' days and of those days whose newest events the rollup does not keep (a day loaded
-- since the database was built, or a use's newest day then, keeps them: compliance.ingest.derive.ROLLUP_NEWEST),
-- read once (the model is then not materialised whole).
evidence_days as (
    select event_date from alarm_days
    union
    select event_date from allowed_newest_days
    where newest_events is null
),

evidence_events as (
    select e.*
    from evidence_days as d
    inner join audit_purpose_events as e on e.event_date = d.event_date
),

-- The offending events of each alarm's actor-day, read on that day alone.
alarm_evidence as (
    select
        e.actor_id,
        e.event_date,
        max(e.occurred_at) as last_at,
        -- the 20 most recent events: enough to audit the finding. duckdb: max_by(x, y, n) keeps them in one
        -- aggregate pass instead of a window over the events (Spark: a sorted list); ties broken by id.
        max_by(e.event_id, row(e.occurred_at, e.event_id), 20) as evidence
    from alarm_days as d
    inner join evidence_events as e
        on e.event_date = d.event_date
        and e.actor_id = d.actor_id
    inner join verdicts as v
        on v.system_id is not distinct from e.system_id
        and v.purpose = e.purpose
    where v.verdict <> 'allowed'
    group by e.actor_id, e.event_date
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
allowed_uses as (
    select
        system_id,
        purpose,
        sum(events) as events,
        sum(records) as records,
        min(first_at) as first_at,
        max(last_at) as last_at
    from allowed_use_days
    group by system_id, purpose
),

allowed_actors as (
    select
        system_id,
        purpose,
        count(*) as actors
    from audit_use_actors
    where first_date <= $as_of
    group by system_id, purpose
),

kept_newest as (
    select
        system_id,
        purpose,
        unnest(newest_events) as kept
    from allowed_newest_days
    where newest_events is not null
),

allowed_candidates as (
    select
        system_id,
        purpose,
        kept.occurred_at,
        kept.event_id
    from kept_newest

    union all

    select
        e.system_id,
        e.purpose,
        e.occurred_at,
        e.event_id
    from allowed_newest_days as d
    inner join evidence_events as e
        on e.event_date = d.event_date
        and e.system_id = d.system_id
        and e.purpose = d.purpose
    where d.newest_events is null
),

allowed_evidence as (
    select
        system_id,
        purpose,
        -- duckdb: max_by(x, y, n) keeps the 20 most recent in one aggregate pass (Spark: a row_number()
        -- window); ties broken by id so output is stable.
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from allowed_candidates
    group by system_id, purpose
),

allowed as (
    select
        'use:' || u.system_id || '/' || u.purpose as resource,
        'ok' as status,
        'info' as severity,
        'Purpose ' || u.purpose || ' is a declared use of ' || u.system_id || ': ' || cast(u.events as varchar)
        || ' events (' || cast(u.records as varchar) || ' records) by ' || cast(a.actors as varchar)
        || ' actors from ' || cast(cast(u.first_at as date) as varchar) || ' to '
        || cast(cast(u.last_at as date) as varchar) || '.' as reason,
        u.last_at as observed_at,
        ev.evidence
    from allowed_uses as u
    inner join allowed_actors as a
        on a.system_id = u.system_id
        and a.purpose = u.purpose
    inner join allowed_evidence as ev
        on ev.system_id = u.system_id
        and ev.purpose = u.purpose
),

final as (
    select * from alarms
    union all
    select * from allowed
)

select * from final
order by resource
