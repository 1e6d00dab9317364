-- name: metric_audit_window
-- requires: audit
-- description: The audit events in the dashboard's date window: events up to $as_of, from $start_date and to $end_date where those are given (NULL leaves that side open), with the columns the window metrics read. The one statement of that window for access_actor_drilldown, access_by_hour_weekday and transfer_by_jurisdiction_region.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system VARCHAR, action VARCHAR, outcome VARCHAR,
--          record_count BIGINT, categories_key INTEGER, actor_timezone VARCHAR, subject_id VARCHAR,
--          subject_jurisdiction VARCHAR, processing_region VARCHAR
with window_events as (
    select
        actor_id,
        occurred_at,
        event_date,
        system,
        action,
        outcome,
        record_count,
        categories_key,
        actor_timezone,
        subject_id,
        subject_jurisdiction,
        processing_region
    from audit_events
    where event_date <= $as_of
      and ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
),

final as (
    select * from window_events
)

select * from final
