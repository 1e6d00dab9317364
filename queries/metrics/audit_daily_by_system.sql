-- name: audit_daily_by_system
-- requires: audit
-- description: Audit events per system and UTC day up to $as_of, optionally from $start_date to $end_date (NULL = open-ended); days without events are absent (they are the gaps security.audit_gap looks for). Events naming no system count under '(none)'.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: system VARCHAR, event_date DATE, events BIGINT
-- The audit events in the page's date window: metric_audit_window.
with events as (
    select
        coalesce(system, '(none)') as system,
        event_date
    from metric_audit_window
),

final as (
    select
        system,
        event_date,
        count(*) as events
    from events
    group by system, event_date
)

select * from final
order by system, event_date
