-- name: access_dormant_account
-- control: access.dormant_account
-- section: 5
-- severity: medium
-- requires: audit, directory
-- description: Days on which a directory account became active again after a long gap without successful activity; one ok row per directory account otherwise.
-- params: as_of DATE, dormant_account_dormant_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Gaps are measured between the UTC dates of successive successful events, on actor-days (the directory accounts'
-- actor-day rollup computed at ingest, audit_account_activity_days; the window then runs over tens of thousands of
-- rows, not over events).
with accounts as (
    select
        actor_id,
        actor_type,
        role,
        status
    from directory_accounts
),

active_days as (
    select
        d.actor_id,
        d.event_date,
        sum(d.events) as events,
        sum(d.personal_events) as personal_events,
        min(d.first_at) as first_at
    from audit_account_activity_days as d
    inner join accounts as a
        on a.actor_id = d.actor_id
    where d.event_date <= $as_of
    group by d.actor_id, d.event_date
),

gaps as (
    select
        *,
        date_diff(
            'day',
            lag(event_date) over (partition by actor_id order by event_date),
            event_date
        ) as gap_days,
        lag(event_date) over (partition by actor_id order by event_date) as previous_date
    from active_days
),

reactivations as (
    select * from gaps
    where gap_days >= $dormant_account_dormant_days
),

-- Evidence: the day's first 50 successful events. duckdb: min_by(x, y, n) keeps them in one aggregate pass
-- instead of a window over the events (Spark: a sorted list); ties broken by id.
evidence as (
    select
        e.actor_id,
        e.event_date,
        min_by(e.event_id, row(e.occurred_at, e.event_id), 50) as event_ids
    from audit_events as e
    where e.outcome = 'success'
      -- the reactivation dates alone first: a cheap filter on one column that drops nearly every event
      and e.event_date in (select r.event_date from reactivations as r)
      and (e.actor_id, e.event_date) in (select r.actor_id, r.event_date from reactivations as r)
    group by e.actor_id, e.event_date
),

account_summary as (
    select
        a.actor_id,
        a.actor_type,
        a.role,
        a.status,
        count(g.event_date) as active_days,
        min(g.event_date) as first_date,
        max(g.event_date) as last_date,
        max(g.gap_days) as longest_gap,
        max(g.first_at) as last_day_at
    from accounts as a
    left join gaps as g
        on g.actor_id = a.actor_id
    group by a.actor_id, a.actor_type, a.role, a.status
),

alarms as (
    select
        'actor:' || r.actor_id || '@' || cast(r.event_date as varchar) as resource,
        'alarm' as status,
        'medium' as severity,
        r.actor_id || ' (' || a.actor_type || ', ' || coalesce(a.role, 'no role') || ', ' || a.status
        || ') was active again on ' || cast(r.event_date as varchar) || ', ' || cast(r.gap_days as varchar)
        || ' days after its previous successful activity on ' || cast(r.previous_date as varchar)
        || ' (dormant from ' || cast($dormant_account_dormant_days as varchar) || ' days): '
        || cast(r.events as varchar) || case when r.events = 1 then ' event' else ' events' end
        || ' that day, ' || cast(r.personal_events as varchar) || ' on personal data.' as reason,
        r.first_at as observed_at,
        v.event_ids as evidence
    from reactivations as r
    inner join accounts as a
        on a.actor_id = r.actor_id
    left join evidence as v
        on v.actor_id = r.actor_id
        and v.event_date = r.event_date
),

oks as (
    select
        'actor:' || actor_id as resource,
        'ok' as status,
        'info' as severity,
        case
            when active_days = 0 then
                actor_id || ' (' || status || ') has no successful activity up to ' || cast($as_of as varchar) || '.'
            else
                actor_id || ' (' || status || '): active on ' || cast(active_days as varchar) || ' days from '
                || cast(first_date as varchar) || ' to ' || cast(last_date as varchar) || '; longest gap '
                || cast(coalesce(longest_gap, 0) as varchar) || ' days (dormant from '
                || cast($dormant_account_dormant_days as varchar) || ').'
        end as reason,
        coalesce(last_day_at, cast($as_of as timestamp)) as observed_at,
        cast([] as varchar[]) as evidence
    from account_summary
    where actor_id not in (select r.actor_id from reactivations as r)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
