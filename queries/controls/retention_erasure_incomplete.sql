-- name: retention_erasure_incomplete
-- control: retention.erasure_incomplete
-- section: 8
-- severity: high
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: alarm when a record of the subject (held when the request completed) was still there at the completion, in a store the data map does not mark as a backup (the completion claim was false, whether the record was erased later or not yet), or, in a backup store, was not deleted or de-identified within the $retention_erasure_grace_days-day erasure grace; legal-hold records are excepted and named.
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- Each completed delete request with its records counted and its verdict (erasure_request_verdicts, which
-- retention_erasure_by_request reports too).
with assessed as (
    select
        *,
        date_diff('day', completed_date, $as_of) as days_since_completion,
        date_diff('day', grace_end_date, $as_of) as days_past_grace,
        -- not erased and past its time: everything unerased and not held but a backup inside its grace
        still_stored - backups_in_grace as still_stored_late
    from erasure_request_verdicts
),

classified as (
    select
        *,
        'Delete request ' || request_id || ' (' || jurisdiction || ', subject ' || subject_id || ') completed '
        || cast(completed_at as varchar) as request_text,
        case
            when legal_hold > 0 then
                '; ' || cast(legal_hold as varchar) || ' record(s) kept under legal hold are excepted'
            else ''
        end as hold_text,
        case
            when false_claims > 0 and backups_late > 0 then
                '; ' || cast(backups_late as varchar) || ' backup record(s) also missed the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace ending ' || cast(grace_end_date as varchar)
            else ''
        end as backup_text
    from assessed
),

final as (
    select
        'dsr:' || request_id as resource,
        case
            when verdict in ('false_claim', 'backup_late') then 'alarm'
            when verdict = 'legal_hold' then 'info'
            else 'ok'
        end as status,
        case
            when verdict = 'false_claim' and still_stored_late > 0 and days_since_completion > 30 then 'critical'
            when verdict = 'backup_late' and days_past_grace > 30 then 'critical'
            when verdict in ('false_claim', 'backup_late') then 'high'
            else 'info'
        end as severity,
        case verdict
            when 'false_claim' then
                request_text || ', but ' || cast(false_claims as varchar) || ' of the subject''s '
                || cast(records as varchar) || ' record(s) in ' || late_systems
                || ' were not deleted or de-identified by then, so the completion claim was false ('
                || cast(false_claims_erased_later as varchar) || ' erased afterwards, '
                || cast(still_stored_late as varchar) || ' still stored as of ' || cast($as_of as varchar) || ')'
                || backup_text || hold_text
                || case
                    when still_stored_late > 0 and days_since_completion > 30 then
                        '; critical: still stored over 30 days after the claim.'
                    else '; high: the erasure was claimed before it was done.'
                end
            when 'backup_late' then
                request_text || ', but ' || cast(backups_late as varchar) || ' of the subject''s '
                || cast(records as varchar) || ' record(s) in backups of ' || late_systems
                || ' were not deleted or de-identified by the end of the '
                || cast($retention_erasure_grace_days as varchar) || '-day backup grace on '
                || cast(grace_end_date as varchar) || ' (' || cast(still_stored_late as varchar)
                || ' still stored as of ' || cast($as_of as varchar) || ')' || hold_text
                || case
                    when days_past_grace > 30 then '; critical: over 30 days past the grace.'
                    else '; high: within 30 days past the grace.'
                end
            when 'legal_hold' then
                request_text || '; every record of the subject was erased in time except '
                || cast(legal_hold as varchar) || ' record(s) kept under legal hold, which is exempt.'
            when 'in_grace' then
                request_text || '; its primary stores were erased by then, and the '
                || cast($retention_erasure_grace_days as varchar) || '-day backup grace for '
                || cast(backups_in_grace as varchar) || ' backup record(s) runs to ' || cast(grace_end_date as varchar)
                || ', not yet over as of ' || cast($as_of as varchar) || hold_text || '.'
            else
                request_text || '; all ' || cast(records as varchar)
                || ' record(s) of the subject were deleted or de-identified by then (backups within the '
                || cast($retention_erasure_grace_days as varchar) || '-day grace).'
        end as reason,
        case
            when verdict = 'false_claim' then completed_at
            else cast(grace_end_date as timestamp)
        end as observed_at,
        case
            when verdict in ('false_claim', 'backup_late', 'legal_hold') then remaining_keys
            else [request_id]
        end as evidence
    from classified
)

select * from final
order by resource
