-- name: erasure_request_verdicts
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of (erasure_requests) with its records (erasure_request_records) counted by their erasure_status, and its verdict: false_claim (a primary-store record not held under legal hold was still there at the completion), else backup_late (a backup record missed the $retention_erasure_grace_days-day grace), else in_grace (a backup record still inside it), else legal_hold (only records excepted under legal hold, $retention_legal_hold_exempts, were left), else complete. Stated once for retention.erasure_incomplete and retention_erasure_by_request.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, completed_at TIMESTAMP, completed_date DATE,
--          grace_end_date DATE, records BIGINT, erased_in_time BIGINT, false_claims BIGINT,
--          false_claims_erased_later BIGINT, backups_late BIGINT, backups_in_grace BIGINT, legal_hold BIGINT,
--          erased_late BIGINT, still_stored BIGINT, systems BIGINT, late_systems VARCHAR,
--          remaining_keys VARCHAR[], last_erased_date DATE, verdict VARCHAR
with counts as (
    -- erased_in_time + legal_hold + erased_late + still_stored = records: erased in time (held or not), else
    -- excepted under legal hold, else erased late, else still stored (a backup inside its grace included).
    -- The left join keeps a request without records: its counts are 0.
    select
        e.request_id,
        e.subject_id,
        e.jurisdiction,
        e.completed_at,
        e.completed_date,
        e.grace_end_date,
        count(r.request_id) as records,
        count(case when r.erasure_status = 'in_time' then 1 end) as erased_in_time,
        count(case when r.erasure_status = 'false_claim' and not r.is_held then 1 end) as false_claims,
        count(case when r.erasure_status = 'false_claim' and not r.is_held and r.erased_at is not null then 1 end)
            as false_claims_erased_later,
        count(case when r.erasure_status = 'backup_late' and not r.is_held then 1 end) as backups_late,
        count(case when r.erasure_status = 'in_grace' and not r.is_held then 1 end) as backups_in_grace,
        count(case when r.erasure_status <> 'in_time' and r.is_held then 1 end) as legal_hold,
        count(case when r.erasure_status <> 'in_time' and not r.is_held and r.erased_at is not null then 1 end)
            as erased_late,
        count(case when not r.is_held and r.erased_at is null then 1 end) as still_stored,
        count(distinct r.system) as systems,
        string_agg(distinct r.system, ', ' order by r.system) filter (
            where r.erasure_status in ('false_claim', 'backup_late') and not r.is_held
        ) as late_systems,
        -- the records the verdict is about: those not erased in time, and held ones still inside a backup grace
        array_agg(r.record_key order by r.record_key) filter (
            where r.erasure_status in ('false_claim', 'backup_late') or (r.erasure_status = 'in_grace' and r.is_held)
        ) as remaining_keys,
        max(cast(r.erased_at as date)) as last_erased_date
    from erasure_requests as e
    left join erasure_request_records as r on r.request_id = e.request_id
    group by e.request_id, e.subject_id, e.jurisdiction, e.completed_at, e.completed_date, e.grace_end_date
),

final as (
    select
        *,
        case
            when false_claims > 0 then 'false_claim'
            when backups_late > 0 then 'backup_late'
            when backups_in_grace > 0 then 'in_grace'
            when legal_hold > 0 then 'legal_hold'
            else 'complete'
        end as verdict
    from counts
)

select * from final
