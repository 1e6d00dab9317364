-- name: freshness_by_source
-- description: Per source folder of the export bundle: the native table, rows held, oldest and newest timestamp of its time column, files loaded, rows rejected, and when it was last loaded (load_manifest joined to load_runs). A source whose rows record later steps (a request acknowledged or completed, an incident contained or notified) reaches as far as the newest timestamp of any kind in it, so an export of old requests closed last week is not stale.
-- returns: source VARCHAR, table_name VARCHAR, time_column VARCHAR, row_count BIGINT, oldest_at TIMESTAMP,
--          newest_at TIMESTAMP, files BIGINT, rows_rejected BIGINT, last_loaded_at TIMESTAMP
with tables as (
    -- Each table's own time axis; directory accounts only carry a start date.
    -- Audit events from their hourly rollup, which counts every event (audit_system_hours): not a scan of them all.
    select 'audit' as source, 'audit_events' as table_name, 'occurred_at' as time_column,
        cast(coalesce(sum(events), 0) as bigint) as row_count, min(first_at) as oldest_at, max(last_at) as newest_at
    from audit_system_hours
    union all
    select 'usage', 'usage_events', 'occurred_at', count(*), min(occurred_at), max(occurred_at)
    from usage_events
    union all
    select 'diagnostic', 'diagnostic_logs', 'occurred_at', count(*), min(occurred_at), max(occurred_at)
    from diagnostic_logs
    union all
    -- A request's later steps are dated too: the export reaches its newest step, not its newest receipt.
    select 'dsr', 'dsr_requests', 'received_at or any later step', count(*), min(received_at),
        max(greatest(
            received_at, acknowledged_at, verified_at, extension_notified_at, completed_at,
            id_requested_at, id_received_at, clarification_requested_at, clarification_received_at
        ))
    from dsr_requests
    union all
    select 'inventory', 'inventory_records', 'snapshot_at', count(*), min(snapshot_at), max(snapshot_at)
    from inventory_records
    union all
    select 'directory', 'directory_accounts', 'start_date', count(*),
        cast(min(start_date) as timestamp), cast(max(start_date) as timestamp)
    from directory_accounts
    union all
    select 'tenants', 'tenants', 'contract_started_at', count(*), min(contract_started_at), max(contract_started_at)
    from tenants
    union all
    select 'subjects', 'subjects', 'created_at', count(*), min(created_at), max(created_at)
    from subjects
    union all
    select 'incidents', 'incidents', 'detected_at or any later step', count(*), min(detected_at),
        max(greatest(detected_at, contained_at, assessment_completed_at, regulator_notified_at, subjects_notified_at))
    from incidents
),

loads as (
    -- load_manifest.source is the export folder name (contract section 1).
    select
        m.source,
        count(distinct m.file_id) as files,
        cast(sum(m.rows_rejected) as bigint) as rows_rejected,
        max(coalesce(r.finished_at, r.started_at)) as last_loaded_at
    from load_manifest as m
    left join load_runs as r on r.run_id = m.run_id
    group by m.source
),

final as (
    select
        t.source,
        t.table_name,
        t.time_column,
        t.row_count,
        t.oldest_at,
        t.newest_at,
        coalesce(l.files, 0) as files,
        coalesce(l.rows_rejected, 0) as rows_rejected,
        l.last_loaded_at
    from tables as t
    left join loads as l on l.source = t.source
)

select * from final
order by source
