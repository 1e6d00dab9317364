-- name: audit_event_systems
-- requires: audit
-- description: Every audit event up to $as_of with the system it belongs to: the system that recorded it, else the one the data map lists its resource_type under (a resource_type belongs to one store of one system: the policy loader refuses a second), NULL when neither says; and the records it touched (no record count counts as one). The one statement of an event's system that datamap_matrix, datamap_observed_vs_declared and disclosure_events read.
-- params: as_of DATE
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          action VARCHAR, outcome VARCHAR, purpose VARCHAR, categories VARCHAR[], processing_region VARCHAR,
--          recipient VARCHAR, records BIGINT
-- Not stored by a check: only disclosure.unapproved_recipient reads it (through disclosure_events), and an
-- event-level model copied into memory is slower than its readers scanning audit_events.
with resource_systems as (
    select distinct
        resource_type,
        system_id
    from ref_resource_types
),

final as (
    select
        e.event_id,
        e.actor_id,
        e.occurred_at,
        e.event_date,
        coalesce(e.system, rt.system_id) as system_id,
        e.action,
        e.outcome,
        e.purpose,
        e.categories,
        e.processing_region,
        e.recipient,
        coalesce(e.record_count, 1) as records
    from audit_events as e
    left join resource_systems as rt on rt.resource_type = e.resource_type
    where e.event_date <= $as_of
)

select * from final
