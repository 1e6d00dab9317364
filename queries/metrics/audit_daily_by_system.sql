-- name: audit_daily_by_system
-- requires: audit
-- description: Audit events per system and UTC day up to $as_of, optionally from $start_date to $end_date (NULL = open-ended); days without events are absent (they are the gaps security.audit_gap looks for). Events naming no system count under '(none)'.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: system VARCHAR, event_date DATE, events BIGINT
-- The events per system and day from the hours ingest counts them in (audit_system_hours: compliance.ingest.derive),
-- not every event.
with days as (
    select
        coalesce(system, '(none)') as system,
        event_date,
        events
    from audit_system_hours
    where event_date <= $as_of
      and ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
),

final as (
    select
        system,
        event_date,
        cast(sum(events) as bigint) as events
    from days
    group by system, event_date
)

select * from final
order by system, event_date
