-- name: access_by_hour_weekday
-- requires: audit
-- description: Successful personal-data actions (read, search, export, create, update, delete, deidentify, share) up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), by ISO weekday (Monday 1) and UTC hour: events, records, actors. Cells without activity are absent.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: iso_weekday INTEGER, hour_utc INTEGER, events BIGINT, records BIGINT, actors BIGINT
-- The audit events in the page's date window: metric_audit_window.
with data_events as (
    select
        actor_id,
        coalesce(record_count, 1) as records,
        -- ISO weekday without a dialect function: days since Monday 2024-01-01, mod 7 (kept non-negative
        -- for earlier dates), plus 1. date_diff on DATEs counts the same in DuckDB and Spark.
        cast((date_diff('day', date '2024-01-01', event_date) % 7 + 7) % 7 + 1 as integer) as iso_weekday,
        cast(extract(hour from occurred_at) as integer) as hour_utc
    from metric_audit_window
    where action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
      and outcome = 'success'
),

final as (
    select
        iso_weekday,
        hour_utc,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(distinct actor_id) as actors
    from data_events
    group by iso_weekday, hour_utc
)

select * from final
order by iso_weekday, hour_utc
