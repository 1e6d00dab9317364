-- name: audit_actor_bulk_days
-- requires: audit
-- description: One row per actor and UTC day up to $as_of with a read, search or export of personal data that the all-time totals kept at ingest do not hold (the days after their through_date; every day when their day comes after $as_of or there are none), from the actor-day rollup (audit_actor_activity_days' bulk_* and backup_* columns, access.bulk_export's counting): bulk events, their records without the backups, the backups' events and records, the newest such event, and the day's records again as busiest_day_records (the measure the totals keep the largest of). An actor id the events give two actor types has two rollup rows a day, which make one day here. What audit_actor_bulk_groups adds to the totals, and what the ingest sums the totals from (audit_actor_bulk_totals, compliance.ingest.derive, which reads it as if there were none).
-- params: as_of DATE
-- returns: actor_id VARCHAR, event_date DATE, bulk_events BIGINT, bulk_records BIGINT, backup_events BIGINT,
--          backup_records BIGINT, bulk_last_at TIMESTAMP, busiest_day_records BIGINT

-- Every totals row holds the same through_date: they all count, or none.
with counted_from as (
    select coalesce(max(through_date), cast('0001-01-01' as date)) as after_date
    from audit_actor_bulk_totals
    where through_date <= $as_of
),

-- The rollup's rows of those days first, then grouped: a filter on the grouped days would group every day.
bulk_rows as (
    select
        d.actor_id,
        d.event_date,
        d.bulk_events,
        d.bulk_records,
        d.backup_events,
        d.backup_records,
        d.bulk_last_at
    from audit_actor_activity_days as d
    cross join counted_from as c
    where d.bulk_events > 0
      and d.event_date <= $as_of
      and d.event_date > c.after_date
),

final as (
    select
        actor_id,
        event_date,
        cast(sum(bulk_events) as bigint) as bulk_events,
        cast(sum(bulk_records) as bigint) as bulk_records,
        cast(sum(backup_events) as bigint) as backup_events,
        cast(sum(backup_records) as bigint) as backup_records,
        max(bulk_last_at) as bulk_last_at,
        cast(sum(bulk_records) as bigint) as busiest_day_records
    from bulk_rows
    group by actor_id, event_date
)

select * from final
