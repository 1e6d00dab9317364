-- name: audit_event_system_rule
-- requires: audit
-- description: Every audit event with the system it belongs to: the system that recorded it, else the one the data map lists its resource_type under (a resource_type belongs to one store of one system: the policy loader refuses a second), NULL when neither says; and the records it touched (no record count counts as one). The one statement of that rule, for every date: audit_disclosures keeps the disclosures, and the ingest-time rollups (audit_purpose_days, audit_system_category_days, audit_system_region_days: compliance.ingest.derive) read it for the days they recompute.
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          action VARCHAR, outcome VARCHAR, purpose VARCHAR, categories VARCHAR[], categories_key INTEGER,
--          processing_region VARCHAR, recipient VARCHAR, records BIGINT
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
        e.categories_key,
        e.processing_region,
        e.recipient,
        coalesce(e.record_count, 1) as records
    from audit_events as e
    left join resource_systems as rt on rt.resource_type = e.resource_type
)

select * from final
