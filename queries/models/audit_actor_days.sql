-- name: audit_actor_days
-- requires: audit
-- description: One row per actor, actor type and UTC day with successful personal-data actions (read, search, export, create, update, delete, deidentify, share; a denied or failed attempt used no data): events, records touched (an event without a record count counts one), the role held at the end of the day (the later role is the one to judge a mid-day grant by) and the last event's time. The daily volumes that access.volume_spike judges and the access metrics chart, read from the actor-day rollup computed at ingest (audit_actor_activity_days, compliance.ingest.derive).
-- returns: actor_id VARCHAR, actor_type VARCHAR, event_date DATE, actor_role VARCHAR, events BIGINT, records BIGINT,
--          last_at TIMESTAMP
with actor_days as (
    select
        actor_id,
        actor_type,
        event_date,
        data_role as actor_role,
        data_events as events,
        data_records as records,
        data_last_at as last_at
    from audit_actor_activity_days
    where data_events > 0
),

final as (
    select * from actor_days
)

select * from final
