-- name: access_actor_hours
-- requires: audit
-- description: One actor's successful audit events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), by ISO weekday (Monday 1) and hour in the actor's own time zone (as access.off_hours judges them): events, records, and personal-data reads, searches and exports.
-- params: as_of DATE, actor_id VARCHAR, start_date DATE, end_date DATE
-- returns: iso_weekday INTEGER, local_hour INTEGER, events BIGINT, records BIGINT, data_events BIGINT

-- duckdb: AT TIME ZONE on a TIMESTAMP (no zone) column, as in access_off_hours (Spark:
-- from_utc_timestamp(occurred_at, tz)); isodow() and hour() of the local time.
-- The audit events in the page's date window: metric_audit_window.
with local_events as (
    select
        (occurred_at at time zone 'UTC') at time zone coalesce(actor_timezone, 'UTC') as local_at,
        coalesce(record_count, 1) as records,
        action in ('read', 'search', 'export') and array_length(categories) > 0 as is_data
    from metric_audit_window
    where actor_id = $actor_id
      and outcome = 'success'
),

final as (
    select
        cast(isodow(local_at) as integer) as iso_weekday,
        cast(hour(local_at) as integer) as local_hour,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(case when is_data then 1 end) as data_events
    from local_events
    group by isodow(local_at), hour(local_at)
)

select * from final
order by iso_weekday, local_hour
