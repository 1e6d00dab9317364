-- name: audit_purpose_events
-- requires: audit
-- description: The successful data actions (read, search, export, create, update, delete, deidentify, share; a denied or failed attempt used no data) that declare a purpose, with the system they are attributed to (audit_event_system_rule: the one that recorded them, else the one their resource_type belongs to in the data map) and their records (an event without a record count counts one): the events the daily rollup audit_purpose_days counts (compliance.ingest.derive), and those purpose.undeclared_use reads its evidence from, on the few days it needs.
-- returns: event_date DATE, actor_id VARCHAR, system_id VARCHAR, purpose VARCHAR, occurred_at TIMESTAMP,
--          event_id VARCHAR, records BIGINT
with purpose_events as (
    select
        event_date,
        actor_id,
        system_id,
        purpose,
        occurred_at,
        event_id,
        records
    from audit_event_system_rule
    where purpose is not null
      and outcome = 'success'
      and action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
),

final as (
    select * from purpose_events
)

select * from final
