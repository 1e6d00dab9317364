-- name: evidence_events
-- description: The raw rows behind a finding's evidence: audit events, usage events and diagnostic lines whose id is in $evidence_ids, in one shape (source, id, time, who, what, where, outcome, detail).
-- params: evidence_ids VARCHAR[]
-- returns: source VARCHAR, event_id VARCHAR, occurred_at TIMESTAMP, actor_id VARCHAR, subject_id VARCHAR,
--          action VARCHAR, system VARCHAR, outcome VARCHAR, resource VARCHAR, categories VARCHAR,
--          record_count BIGINT, purpose VARCHAR, location VARCHAR, recipient VARCHAR, detail VARCHAR
with audit as (
    select
        'audit' as source,
        event_id,
        occurred_at,
        actor_id,
        subject_id,
        action,
        system,
        outcome,
        resource_type || coalesce(':' || resource_id, '') as resource,
        array_to_string(categories, ', ') as categories,
        record_count,
        purpose,
        concat_ws(' / ', geo_country, source_ip, processing_region) as location,
        recipient,
        concat_ws('; ', 'role ' || actor_role, 'target ' || target_actor_id, 'granted ' || role) as detail
    from audit_events
    where list_contains($evidence_ids, event_id)
),

usage as (
    select
        'usage' as source,
        event_id,
        occurred_at,
        cast(null as varchar) as actor_id,
        user_id as subject_id,
        event_name as action,
        feature as system,
        cast(null as varchar) as outcome,
        'session:' || session_id as resource,
        cast(null as varchar) as categories,
        cast(null as bigint) as record_count,
        cast(null as varchar) as purpose,
        country as location,
        cast(null as varchar) as recipient,
        'consent_analytics ' || coalesce(cast(consent_analytics as varchar), 'unknown') as detail
    from usage_events
    where list_contains($evidence_ids, event_id)
),

diagnostic as (
    select
        'diagnostic' as source,
        line_id as event_id,
        occurred_at,
        cast(null as varchar) as actor_id,
        subject_id,
        level as action,
        service as system,
        cast(status_code as varchar) as outcome,
        'request:' || request_id as resource,
        cast(null as varchar) as categories,
        cast(null as bigint) as record_count,
        cast(null as varchar) as purpose,
        concat_ws(' / ', host, processing_region) as location,
        cast(null as varchar) as recipient,
        concat_ws('; ', 'tls ' || tls_version, 'storage_encrypted ' || cast(storage_encrypted as varchar), message)
            as detail
    from diagnostic_logs
    where list_contains($evidence_ids, line_id)
),

final as (
    select * from audit
    union all
    select * from usage
    union all
    select * from diagnostic
)

select * from final
order by occurred_at, source, event_id
