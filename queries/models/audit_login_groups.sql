-- name: audit_login_groups
-- requires: audit
-- description: Each account's login attempts, failures, newest attempt and largest count of failures within a burst window over every day up to $as_of, per window length the counts were made in, from the all-time totals kept at ingest (audit_login_totals, through its through_date) and the login days after them; for an as-of date before the totals' day, from the days alone. The one statement of that choice for access.failed_login_burst's ok rows.
-- params: as_of DATE
-- returns: actor_id VARCHAR, window_minutes BIGINT, attempts BIGINT, failures BIGINT, last_at TIMESTAMP,
--          max_failures_in_window BIGINT

-- Every totals row holds the same through_date: they all count, or none.
with totals as (
    select
        actor_id,
        window_minutes,
        attempts,
        failures,
        last_at,
        max_failures_in_window,
        through_date
    from audit_login_totals
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
        d.window_minutes,
        d.attempts,
        d.failures,
        d.last_at,
        d.max_failures_in_window
    from audit_login_days as d
    cross join counted_from as c
    where d.event_date <= $as_of
      and d.event_date > c.after_date
),

spans as (
    select actor_id, window_minutes, attempts, failures, last_at, max_failures_in_window from totals
    union all
    select actor_id, window_minutes, attempts, failures, last_at, max_failures_in_window from days_after
),

final as (
    select
        actor_id,
        window_minutes,
        cast(sum(attempts) as bigint) as attempts,
        cast(sum(failures) as bigint) as failures,
        max(last_at) as last_at,
        max(max_failures_in_window) as max_failures_in_window
    from spans
    group by actor_id, window_minutes
)

select * from final
