-- name: retention_erasure_incomplete
-- control: retention.erasure_incomplete
-- section: 8
-- severity: high
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: alarm when a record of the subject (held when the request completed) was still there at the completion, in a store the data map does not mark as a backup (the completion claim was false, whether the record was erased later or not yet), or, in a backup store, was not deleted or de-identified within the $retention_erasure_grace_days-day erasure grace; legal-hold records are excepted and named.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The completed delete requests (erasure_requests) and their subjects' records held at completion
-- (erasure_request_records).
with remaining as (
    -- Each record's verdict is erasure_request_records.erasure_status; here it is counted per request.
    select
        request_id,
        count(*) as record_count,
        count(*) filter (where erasure_status = 'false_claim' and not is_held) as false_count,
        count(*) filter (where erasure_status = 'false_claim' and not is_held and erased_at is not null)
            as erased_after_count,
        count(*) filter (where erasure_status in ('false_claim', 'backup_late') and not is_held and erased_at is null)
            as still_stored_count,
        count(*) filter (where erasure_status = 'backup_late' and not is_held) as backup_late_count,
        count(*) filter (where erasure_status = 'in_grace' and not is_held) as backup_pending_count,
        count(*) filter (where erasure_status <> 'in_time' and is_held) as legal_hold_count,
        string_agg(distinct system, ', ' order by system) filter (
            where erasure_status in ('false_claim', 'backup_late') and not is_held
        ) as late_systems,
        array_agg(record_key order by record_key) filter (
            where erasure_status in ('false_claim', 'backup_late') or (erasure_status = 'in_grace' and is_held)
        ) as remaining_keys
    from erasure_request_records
    group by request_id
),

assessed as (
    select
        e.*,
        date_diff('day', cast(e.completed_at as date), $as_of) as days_since_completion,
        date_diff('day', e.grace_end_date, $as_of) as days_past_grace,
        coalesce(r.record_count, 0) as record_count,
        coalesce(r.false_count, 0) as false_count,
        coalesce(r.erased_after_count, 0) as erased_after_count,
        coalesce(r.still_stored_count, 0) as still_stored_count,
        coalesce(r.backup_late_count, 0) as backup_late_count,
        coalesce(r.backup_pending_count, 0) as backup_pending_count,
        coalesce(r.legal_hold_count, 0) as legal_hold_count,
        r.late_systems,
        r.remaining_keys
    from erasure_requests as e
    left join remaining as r on r.request_id = e.request_id
),

classified as (
    select
        *,
        case
            when false_count > 0 then 'false_claim'
            when backup_late_count > 0 then 'backup_late'
            when backup_pending_count > 0 then 'in_grace'
            when legal_hold_count > 0 then 'legal_hold'
            else 'complete'
        end as finding,
        'Delete request ' || request_id || ' (' || jurisdiction || ', subject ' || subject_id || ') completed '
        || cast(completed_at as varchar) as request_text,
        case
            when legal_hold_count > 0 then
                '; ' || cast(legal_hold_count as varchar) || ' record(s) kept under legal hold are excepted'
            else ''
        end as hold_text,
        case
            when false_count > 0 and backup_late_count > 0 then
                '; ' || cast(backup_late_count as varchar) || ' backup record(s) also missed the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace ending ' || cast(grace_end_date as varchar)
            else ''
        end as backup_text
    from assessed
),

final as (
    select
        'dsr:' || request_id as resource,
        case
            when finding in ('false_claim', 'backup_late') then 'alarm'
            when finding = 'legal_hold' then 'info'
            else 'ok'
        end as status,
        case
            when finding = 'false_claim' and still_stored_count > 0 and days_since_completion > 30 then 'critical'
            when finding = 'backup_late' and days_past_grace > 30 then 'critical'
            when finding in ('false_claim', 'backup_late') then 'high'
            else 'info'
        end as severity,
        case finding
            when 'false_claim' then
                request_text || ', but ' || cast(false_count as varchar) || ' of the subject''s '
                || cast(record_count as varchar) || ' record(s) in ' || late_systems
                || ' were not deleted or de-identified by then, so the completion claim was false ('
                || cast(erased_after_count as varchar) || ' erased afterwards, '
                || cast(still_stored_count as varchar) || ' still stored as of ' || cast($as_of as varchar) || ')'
                || backup_text || hold_text
                || case
                    when still_stored_count > 0 and days_since_completion > 30 then
                        '; critical: still stored over 30 days after the claim.'
                    else '; high: the erasure was claimed before it was done.'
                end
            when 'backup_late' then
                request_text || ', but ' || cast(backup_late_count as varchar) || ' of the subject''s '
                || cast(record_count as varchar) || ' record(s) in backups of ' || late_systems
                || ' were not deleted or de-identified by the end of the '
                || cast($retention_erasure_grace_days as varchar) || '-day backup grace on '
                || cast(grace_end_date as varchar) || ' (' || cast(still_stored_count as varchar)
                || ' still stored as of ' || cast($as_of as varchar) || ')' || hold_text
                || case
                    when days_past_grace > 30 then '; critical: over 30 days past the grace.'
                    else '; high: within 30 days past the grace.'
                end
            when 'legal_hold' then
                request_text || '; every record of the subject was erased in time except '
                || cast(legal_hold_count as varchar) || ' record(s) kept under legal hold, which is exempt.'
            when 'in_grace' then
                request_text || '; its primary stores were erased by then, and the '
                || cast($retention_erasure_grace_days as varchar) || '-day backup grace for '
                || cast(backup_pending_count as varchar) || ' backup record(s) runs to ' || cast(grace_end_date as varchar)
                || ', not yet over as of ' || cast($as_of as varchar) || hold_text || '.'
            else
                request_text || '; all ' || cast(record_count as varchar)
                || ' record(s) of the subject were deleted or de-identified by then (backups within the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace).'
        end as reason,
        case
            when finding = 'false_claim' then completed_at
            else cast(grace_end_date as timestamp)
        end as observed_at,
        case
            when finding in ('false_claim', 'backup_late', 'legal_hold') then remaining_keys
            else [request_id]
        end as evidence
    from classified
)

select * from final
order by resource
