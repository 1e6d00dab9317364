-- name: erasure_request_records
-- requires: dsr, inventory
-- description: One row per completed delete request (erasure_requests) and inventory record of its subject held when it completed (a record created later is new data, not what the erasure covered): whether the record sits in a store the data map marks as a backup (a store it does not list is a primary store), whether a legal hold excepts it ($retention_legal_hold_exempts), and its first erasure (deleted or de-identified) if that happened by $as_of.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, completed_at TIMESTAMP, grace_end_date DATE, system VARCHAR, record_key VARCHAR,
--          is_backup BOOLEAN, is_held BOOLEAN, erased_at TIMESTAMP
with backup_stores as (
    select distinct system_id, store_id
    from ref_data_map
    where is_backup
),

final as (
    select
        e.request_id,
        e.completed_at,
        e.grace_end_date,
        i.system,
        i.system || '/' || i.store || '/' || i.record_id as record_key,
        b.store_id is not null as is_backup,
        coalesce(i.legal_hold, false) and $retention_legal_hold_exempts as is_held,
        -- least() skips NULLs here and in Spark
        case
            when cast(least(i.deleted_at, i.deidentified_at) as date) <= $as_of
                then least(i.deleted_at, i.deidentified_at)
        end as erased_at
    from erasure_requests as e
    inner join inventory_records as i on i.subject_id = e.subject_id
    left join backup_stores as b on b.system_id = i.system and b.store_id = i.store
    where i.created_at <= e.completed_at
)

select * from final
