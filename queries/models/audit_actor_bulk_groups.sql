-- name: audit_actor_bulk_groups
-- requires: audit
-- description: Each actor's reads, searches and exports of personal data over every day up to $as_of (access.bulk_export's counting: bulk events, their records without the backups, the backups' events and records, the newest such event) and its busiest UTC day's records, from the all-time totals kept at ingest (audit_actor_bulk_totals, through its through_date) and the actor-days they do not hold (audit_actor_bulk_days); for an as-of date before the totals' day, from the actor-days alone. Only actors with such an event.
-- params: as_of DATE
-- returns: actor_id VARCHAR, bulk_events BIGINT, bulk_records BIGINT, backup_events BIGINT, backup_records BIGINT,
--          bulk_last_at TIMESTAMP, busiest_day_records BIGINT
with spans as (
    select actor_id, bulk_events, bulk_records, backup_events, backup_records, bulk_last_at, busiest_day_records
    from audit_actor_bulk_totals
    where through_date <= $as_of
    union all
    select actor_id, bulk_events, bulk_records, backup_events, backup_records, bulk_last_at, busiest_day_records
    from audit_actor_bulk_days
),

final as (
    select
        actor_id,
        cast(sum(bulk_events) as bigint) as bulk_events,
        cast(sum(bulk_records) as bigint) as bulk_records,
        cast(sum(backup_events) as bigint) as backup_events,
        cast(sum(backup_records) as bigint) as backup_records,
        max(bulk_last_at) as bulk_last_at,
        max(busiest_day_records) as busiest_day_records
    from spans
    group by actor_id
)

select * from final
