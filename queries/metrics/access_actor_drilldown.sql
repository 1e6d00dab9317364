-- name: access_actor_drilldown
-- requires: audit
-- description: One actor's audit events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), read once for the Access page's drill-down and summed two ways, told apart by `view`. 'day': per UTC day and action group (sign-in, failed sign-in, read/search, export/share, change, admin), over every event: events, records touched (an event without a record count counts one), and events that failed or were denied (failed). 'hour': per ISO weekday (Monday 1) and hour in the actor's own time zone (as access.off_hours judges them), over successful events: events, records, and personal-data reads, searches and exports (data_events). A row's columns of the other view are NULL.
-- params: as_of DATE, actor_id VARCHAR, start_date DATE, end_date DATE
-- returns: view VARCHAR, activity_date DATE, action_group VARCHAR, iso_weekday INTEGER, local_hour INTEGER,
--          events BIGINT, records BIGINT, failed BIGINT, data_events BIGINT
-- One query for both charts: finding one actor's events scans the actor column of every event (100M events: 0.4-0.7
-- s a scan), so they are read once, summed per day, local hour, action group and outcome (actor_hours, which DuckDB
-- materialises: two CTEs read it), and both views sum those few rows.
-- The audit events in the page's date window: metric_audit_window.
-- duckdb: AT TIME ZONE on a TIMESTAMP (no zone) column, as in audit_local_times (Spark:
-- from_utc_timestamp(occurred_at, tz)); isodow() and hour() of the local time.
-- A personal-data event's category list holds a category: personal_category_lists, judged on the list's key.
with actor_events as (
    select
        e.event_date,
        (e.occurred_at at time zone 'UTC') at time zone coalesce(e.actor_timezone, 'UTC') as local_at,
        -- Grouped actions keep a year of one actor's days under the chart's row limit (6 groups x 366 days).
        case
            when e.action in ('login', 'logout', 'mfa_challenge') then 'sign-in'
            when e.action = 'login_failed' then 'failed sign-in'
            when e.action in ('read', 'search') then 'read/search'
            when e.action in ('export', 'share') then 'export/share'
            when e.action in ('create', 'update', 'delete', 'deidentify') then 'change'
            else 'admin'
        end as action_group,
        e.outcome = 'success' as succeeded,
        coalesce(e.record_count, 1) as records,
        e.action in ('read', 'search', 'export') and p.categories_key is not null as is_data
    from metric_audit_window as e
    left join personal_category_lists as p on p.categories_key = e.categories_key
    where e.actor_id = $actor_id
),

actor_hours as (
    select
        event_date,
        cast(isodow(local_at) as integer) as iso_weekday,
        cast(hour(local_at) as integer) as local_hour,
        action_group,
        succeeded,
        count(*) as events,
        sum(records) as records,
        count(case when is_data then 1 end) as data_events
    from actor_events
    group by event_date, isodow(local_at), hour(local_at), action_group, succeeded
),

-- A NULL outcome neither failed nor succeeded.
day_rows as (
    select
        'day' as view,
        event_date as activity_date,
        action_group,
        cast(null as integer) as iso_weekday,
        cast(null as integer) as local_hour,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records,
        cast(coalesce(sum(case when not succeeded then events end), 0) as bigint) as failed,
        cast(null as bigint) as data_events
    from actor_hours
    group by event_date, action_group
),

hour_rows as (
    select
        'hour' as view,
        cast(null as date) as activity_date,
        cast(null as varchar) as action_group,
        iso_weekday,
        local_hour,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records,
        cast(null as bigint) as failed,
        cast(sum(data_events) as bigint) as data_events
    from actor_hours
    where succeeded
    group by iso_weekday, local_hour
),

final as (
    select * from day_rows
    union all
    select * from hour_rows
)

select * from final
order by view, activity_date, action_group, iso_weekday, local_hour
