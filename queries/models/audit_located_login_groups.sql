-- name: audit_located_login_groups
-- requires: audit
-- description: Each actor's located successful logins per country over every day up to $as_of (how many, and the newest), from the all-time totals kept at ingest (audit_located_login_totals, through its through_date) and the located-login days after them; for an as-of date before the totals' day, from the days alone. The one statement of that choice for access.impossible_travel's ok rows.
-- params: as_of DATE
-- returns: actor_id VARCHAR, geo_country VARCHAR, logins BIGINT, last_at TIMESTAMP

-- Every totals row holds the same through_date: they all count, or none.
with totals as (
    select
        actor_id,
        geo_country,
        logins,
        last_at,
        through_date
    from audit_located_login_totals
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
        d.geo_country,
        d.logins,
        d.last_at
    from audit_located_login_days as d
    cross join counted_from as c
    where d.event_date <= $as_of
      and d.event_date > c.after_date
),

spans as (
    select actor_id, geo_country, logins, last_at from totals
    union all
    select actor_id, geo_country, logins, last_at from days_after
),

final as (
    select
        actor_id,
        geo_country,
        cast(sum(logins) as bigint) as logins,
        max(last_at) as last_at
    from spans
    group by actor_id, geo_country
)

select * from final
