-- name: erasure_request_records
-- requires: dsr, inventory
-- description: One row per completed delete request (erasure_requests) and inventory record of its subject held when it completed (a record created later is new data, not what the erasure covered): whether the record sits in a store the data map marks as a backup (a store it does not list is a primary store), whether a legal hold excepts it ($retention_legal_hold_exempts), its first erasure (deleted or de-identified) if that happened by $as_of, and its erasure_status: in_time (erased by the completion itself, or, in a backup store, by the end of the $retention_erasure_grace_days-day grace), false_claim (a primary store not erased when the request was marked completed), backup_late (a backup not erased by the end of its grace, now over) or in_grace (a backup not yet erased, its grace not over as of $as_of); the legal hold is not part of the status.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, completed_at TIMESTAMP, grace_end_date DATE, system VARCHAR, record_key VARCHAR,
--          is_backup BOOLEAN, is_held BOOLEAN, erased_at TIMESTAMP, erasure_status VARCHAR
with backup_stores as (
    select distinct system_id, store_id
    from ref_data_map
    where is_backup
),

records as (
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
),

final as (
    select
        *,
        -- The erasure verdict of one record, stated once: retention.erasure_incomplete and
        -- retention_erasure_by_request both count these. A primary store must be erased by the time the
        -- request is marked completed; a backup has until the end of the grace's last day.
        case
            when not is_backup then
                case when erased_at <= completed_at then 'in_time' else 'false_claim' end
            when cast(erased_at as date) <= grace_end_date then 'in_time'
            when $as_of > grace_end_date then 'backup_late'
            else 'in_grace'
        end as erasure_status
    from records
)

select * from final
