-- name: access_out_of_role
-- control: access.out_of_role
-- section: 5
-- severity: high
-- requires: audit
-- description: Actor-days with successful data actions on a category that the actor's role (at event time) does not permit; one ok row per actor otherwise.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Millions of events share a few hundred (role, action, category list) combinations: judge each combination
-- once against the role matrix, then look up only the events of the actor-days that hold one that fails. The
-- actor-days' combinations come from the rollup computed at ingest (audit_role_action_days, over the rule
-- audit_data_actions states: which events count, and the role each is judged by) and its all-time totals
-- (audit_role_action_groups), not from every event. Events
-- carry their list as a small key (audit_category_lists, keyed at ingest): the lists are read once per key.
-- duckdb: unnest() in the select list (Spark: explode) turns a category list into rows.
with list_categories as (
    select
        categories_key,
        unnest(categories) as category
    from audit_category_lists
),

-- Per actor and combination up to the as-of date (audit_role_action_groups: from the all-time totals kept at ingest)
-- come the combinations, and each actor's summary below.
combos as (
    select distinct
        actor_role,
        action,
        categories_key
    from audit_role_action_groups
),

-- A granted category covers its descendants. An unknown (NULL) role matches no permission.
category_verdicts as (
    select
        c.actor_role,
        c.action,
        c.categories_key,
        l.category,
        count(p.role) > 0 as permitted
    from combos as c
    inner join list_categories as l
        on l.categories_key = c.categories_key
    left join ref_role_permissions as p
        on p.role = c.actor_role
        and p.action = c.action
        and (l.category = p.data_category or starts_with(l.category, p.data_category || '.'))
    group by c.actor_role, c.action, c.categories_key, l.category
),

denied_combos as (
    select
        actor_role,
        action,
        categories_key,
        string_agg(category, ', ' order by category) as denied_categories
    from category_verdicts
    where not permitted
    group by actor_role, action, categories_key
),

-- The days judged: in a full evaluation every day (no rollup day comes before the first audit event); in an
-- incremental refresh of stored findings, which reads the audit events from its window's first day on
-- (compliance.stored_findings), the days from that one alone, the only days whose alarms it keeps (100M events: the
-- rollup's 14.7M actor-days were read for the few denied combinations on every daily load).
judged_from as (
    select min(event_date) as first_date
    from audit_events
),

-- What each actor-day did beyond its role, one phrase per (role, action, denied categories), from the rollup again
-- (a second read of it costs less than keeping its rows between the two).
denied_pairs as (
    select
        d.actor_id,
        d.event_date,
        d.actor_role,
        d.action,
        c.denied_categories,
        sum(d.events) as events,
        sum(d.records) as records,
        max(d.last_at) as last_at
    from audit_role_action_days as d
    inner join denied_combos as c
        on c.actor_role is not distinct from d.actor_role
        and c.action = d.action
        and c.categories_key = d.categories_key
    cross join judged_from as j
    where d.event_date <= $as_of
      and d.event_date >= j.first_date
    group by d.actor_id, d.event_date, d.actor_role, d.action, c.denied_categories
),

denied_days as (
    select
        actor_id,
        event_date,
        -- a known role that lacks the permission is worse than an account missing from the directory
        max(case when actor_role is not null then 1 else 0 end) = 1 as has_known_role,
        -- the newest offending event of the day (the evidence lists only the first 50)
        max(last_at) as last_at,
        string_agg(
            action || ' of ' || denied_categories
            || case when actor_role is not null then ' as ' || actor_role else '' end
            || ' (' || cast(events as varchar) || case when events = 1 then ' event, ' else ' events, ' end
            || cast(records as varchar) || case when records = 1 then ' record)' else ' records)' end,
            '; '
            order by action, denied_categories, actor_role
        ) as what
    from denied_pairs
    group by actor_id, event_date
),

-- Evidence: the offending events of those actor-days alone, the only events read (joined to the few days, whose
-- dates and actors then bound the scan of the events).
denied_events as (
    select
        e.event_id,
        e.actor_id,
        e.event_date,
        e.occurred_at
    from denied_days as d
    inner join audit_data_actions as e
        on e.actor_id = d.actor_id
        and e.event_date = d.event_date
    inner join denied_combos as c
        on c.actor_role is not distinct from e.actor_role
        and c.action = e.action
        and c.categories_key = e.categories_key
),

ranked_evidence as (
    select
        actor_id,
        event_date,
        event_id,
        occurred_at,
        row_number() over (partition by actor_id, event_date order by occurred_at, event_id) as rn
    from denied_events
),

evidence as (
    select
        actor_id,
        event_date,
        array_agg(event_id order by rn) as event_ids
    from ranked_evidence
    where rn <= 50
    group by actor_id, event_date
),

-- Per actor, role and action first: the distinct roles and actions of the summary then come from a few thousand
-- rows instead of every group.
actor_role_actions as (
    select
        actor_id,
        coalesce(actor_role, 'unknown') as role_name,
        action,
        sum(events) as events,
        sum(records) as records,
        max(last_at) as last_at
    from audit_role_action_groups
    group by actor_id, coalesce(actor_role, 'unknown'), action
),

actor_summary as (
    select
        actor_id,
        -- ordered: without an order the list came out in either order from run to run
        string_agg(distinct role_name, ', ' order by role_name) as roles,
        sum(events) as events,
        sum(records) as records,
        count(distinct action) as actions,
        max(last_at) as last_at
    from actor_role_actions
    group by actor_id
),

alarms as (
    select
        'actor:' || d.actor_id || '@' || cast(d.event_date as varchar) as resource,
        'alarm' as status,
        case when d.has_known_role then 'high' else 'medium' end as severity,
        case
            when d.has_known_role then
                d.actor_id || ' used personal data beyond what their role permits on ' || cast(d.event_date as varchar)
                || ': ' || d.what || '; the role matrix grants none of these.'
            else
                d.actor_id || ' is not in the directory (no role known): the role matrix authorises none of its '
                || 'personal-data actions on ' || cast(d.event_date as varchar) || ': ' || d.what || '.'
        end as reason,
        d.last_at as observed_at,
        v.event_ids as evidence
    from denied_days as d
    left join evidence as v
        on v.actor_id = d.actor_id
        and v.event_date = d.event_date
),

oks as (
    select
        'actor:' || a.actor_id as resource,
        'ok' as status,
        'info' as severity,
        a.actor_id || ': ' || cast(a.events as varchar) || ' successful personal-data actions ('
        || cast(a.records as varchar) || ' records, ' || cast(a.actions as varchar)
        || ' kinds of action), all permitted for their role (' || a.roles || ').' as reason,
        a.last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary as a
    where a.actor_id not in (select d.actor_id from denied_days as d)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
