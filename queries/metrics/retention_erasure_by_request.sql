-- name: retention_erasure_by_request
-- requires: dsr, inventory
-- description: One row per delete request completed by $as_of: the subject's inventory records held when it completed, how many were deleted or de-identified in time (erased_within_grace: by the completion itself, or, in a store the data map marks as a backup, within the $retention_erasure_grace_days-day grace), later, or not at all by $as_of, how many are excepted under legal hold, the days from completion to the last erasure, and the finding as retention.erasure_incomplete judges it (complete, incomplete, legal_hold, in_grace).
-- params: as_of DATE, retention_erasure_grace_days INTEGER, retention_legal_hold_exempts BOOLEAN
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, completed_date DATE, grace_end_date DATE,
--          records BIGINT, erased_within_grace BIGINT, erased_after_grace BIGINT, still_stored BIGINT,
--          legal_hold BIGINT, systems BIGINT, days_to_last_erasure INTEGER, finding VARCHAR
-- The same requests, counts and verdict as retention.erasure_incomplete: erasure_request_verdicts.
with final as (
    select
        request_id,
        subject_id,
        jurisdiction,
        completed_date,
        grace_end_date,
        records,
        erased_in_time as erased_within_grace,
        erased_late as erased_after_grace,
        still_stored,
        legal_hold,
        systems,
        cast(date_diff('day', completed_date, last_erased_date) as integer) as days_to_last_erasure,
        -- the control's verdict, its two alarms (a false completion claim, a backup past its grace) as one
        case when verdict in ('false_claim', 'backup_late') then 'incomplete' else verdict end as finding
    from erasure_request_verdicts
)

select * from final
order by completed_date, request_id
