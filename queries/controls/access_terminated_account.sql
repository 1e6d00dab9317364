-- name: access_terminated_account
-- control: access.terminated_account
-- section: 5
-- severity: high
-- requires: audit, directory
-- description: Directory accounts with an end date or terminated status, and any successful activity after their end date (one row per such account).
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- The end date is the last day the account may be used: activity on a later (UTC) day is the finding.
with leavers as (
    select
        actor_id,
        actor_type,
        role,
        status,
        end_date
    from directory_accounts
    where end_date is not null
       or status = 'terminated'
),

leaver_events as (
    select
        e.actor_id,
        e.event_id,
        e.occurred_at,
        e.event_date,
        l.end_date,
        e.event_date > l.end_date as is_after_end,
        array_length(e.categories) > 0 as is_personal
    from audit_events as e
    inner join leavers as l
        on l.actor_id = e.actor_id
    where e.outcome = 'success'
      and e.event_date <= $as_of
),

activity as (
    select
        actor_id,
        max(case when not coalesce(is_after_end, false) then occurred_at end) as last_before_at,
        sum(case when is_after_end then 1 else 0 end) as events_after,
        sum(case when is_after_end and is_personal then 1 else 0 end) as personal_after,
        count(distinct case when is_after_end then event_date end) as days_after,
        min(case when is_after_end then occurred_at end) as first_after_at,
        max(case when is_after_end then occurred_at end) as last_after_at,
        max(occurred_at) as last_at
    from leaver_events
    group by actor_id
),

ranked_after as (
    select
        actor_id,
        event_id,
        row_number() over (partition by actor_id order by occurred_at, event_id) as rn
    from leaver_events
    where is_after_end
),

evidence as (
    select
        actor_id,
        array_agg(event_id order by rn) as event_ids
    from ranked_after
    where rn <= 50
    group by actor_id
),

assessed as (
    select
        l.*,
        coalesce(a.events_after, 0) as events_after,
        coalesce(a.personal_after, 0) as personal_after,
        a.days_after,
        a.first_after_at,
        a.last_after_at,
        a.last_before_at,
        a.last_at,
        v.event_ids
    from leavers as l
    left join activity as a
        on a.actor_id = l.actor_id
    left join evidence as v
        on v.actor_id = l.actor_id
),

final as (
    select
        'actor:' || actor_id as resource,
        case
            when events_after > 0 then 'alarm'
            when end_date is null then 'info'
            else 'ok'
        end as status,
        case
            when personal_after > 0 then 'critical'
            when events_after > 0 then 'high'
            else 'info'
        end as severity,
        case
            when events_after > 0 then
                actor_id || ' (' || actor_type || ', ' || coalesce(role, 'no role') || ', ' || status
                || ') ended on ' || cast(end_date as varchar) || ' but had ' || cast(events_after as varchar)
                || case when events_after = 1 then ' successful event on ' else ' successful events on ' end
                || cast(days_after as varchar) || case when days_after = 1 then ' later day, from ' else ' later days, from ' end
                || cast(first_after_at as varchar) || ' to ' || cast(last_after_at as varchar) || ' UTC'
                || case
                    when personal_after > 0 then ', ' || cast(personal_after as varchar) || ' of them on personal data'
                    else ''
                end || '.'
            when end_date is null then
                actor_id || ' is terminated in the directory but has no end date, so activity after it cannot be '
                || 'judged; last successful activity '
                || coalesce(cast(last_at as varchar) || ' UTC', 'none') || '.'
            else
                actor_id || ' (' || status || ')'
                || case when end_date <= $as_of then ' ended on ' else ' ends on ' end || cast(end_date as varchar)
                || '; no successful activity after it up to ' || cast($as_of as varchar)
                || ' (' || coalesce('last ' || cast(last_before_at as varchar) || ' UTC', 'no activity seen') || ').'
        end as reason,
        case
            when events_after > 0 then first_after_at
            else coalesce(last_at, cast($as_of as timestamp))
        end as observed_at,
        coalesce(event_ids, cast([] as varchar[])) as evidence
    from assessed
)

select * from final
order by resource
