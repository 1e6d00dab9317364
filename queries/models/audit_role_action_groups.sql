-- name: audit_role_action_groups
-- requires: audit
-- description: Each actor's successful personal-data actions per judged role, action and category list over every day up to $as_of (events, records, newest event), from the all-time totals kept at ingest (audit_role_action_totals, through its through_date) and the role-action days after them; for an as-of date before the totals' day, from the days alone. The one statement of that choice.
-- params: as_of DATE
-- returns: actor_id VARCHAR, actor_role VARCHAR, action VARCHAR, categories_key INTEGER, events BIGINT,
--          records BIGINT, last_at TIMESTAMP

-- Every totals row holds the same through_date: they all count, or none.
with totals as (
    select
        actor_id,
        actor_role,
        action,
        categories_key,
        events,
        records,
        last_at,
        through_date
    from audit_role_action_totals
    where through_date <= $as_of
),

-- The days the totals do not hold: none at an as-of date at or after the newest loaded day, every day up to the
-- as-of date before the totals' day.
counted_from as (
    select coalesce(max(through_date), cast('0001-01-01' as date)) as after_date
    from totals
),

days_after as (
    select
        d.actor_id,
        d.actor_role,
        d.action,
        d.categories_key,
        d.events,
        d.records,
        d.last_at
    from audit_role_action_days as d
    cross join counted_from as c
    where d.event_date <= $as_of
      and d.event_date > c.after_date
),

spans as (
    select actor_id, actor_role, action, categories_key, events, records, last_at from totals
    union all
    select actor_id, actor_role, action, categories_key, events, records, last_at from days_after
),

final as (
    select
        actor_id,
        actor_role,
        action,
        categories_key,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records,
        max(last_at) as last_at
    from spans
    group by actor_id, actor_role, action, categories_key
)

select * from final
