-- name: metric_actor_events
-- requires: audit
-- description: Every audit event of one actor ($actor_id), with whether it is a successful personal-data action (is_data_action: read, search, export, create, update, delete, deidentify or share that succeeded, the actions audit_actor_days counts) and the records it touched (an event without a record count counts one). The one statement of an actor's activity that the per-actor metrics (access_actor_profile, access_actor_timeline, access_actor_categories) narrow to their dates.
-- params: actor_id VARCHAR
-- returns: actor_type VARCHAR, actor_role VARCHAR, event_date DATE, action VARCHAR, outcome VARCHAR,
--          categories VARCHAR[], subject_id VARCHAR, tenant_id VARCHAR, geo_country VARCHAR,
--          is_data_action BOOLEAN, records BIGINT
with actor_events as (
    select
        actor_type,
        actor_role,
        event_date,
        action,
        outcome,
        categories,
        subject_id,
        tenant_id,
        geo_country,
        action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
        and outcome = 'success' as is_data_action,
        coalesce(record_count, 1) as records
    from audit_events
    where actor_id = $actor_id
),

final as (
    select * from actor_events
)

select * from final
