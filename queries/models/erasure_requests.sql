-- name: erasure_requests
-- requires: dsr
-- description: The delete requests completed by $as_of, with the day their completion claims the erasure and the end of the $retention_erasure_grace_days-day grace a backup store has to catch up: the population retention.erasure_incomplete judges, dsr.processing_after_erasure watches and retention_erasure_by_request reports.
-- params: as_of DATE, retention_erasure_grace_days INTEGER
-- returns: request_id VARCHAR, subject_id VARCHAR, jurisdiction VARCHAR, completed_at TIMESTAMP, completed_date DATE,
--          grace_end_date DATE
with erasures as (
    select
        request_id,
        subject_id,
        jurisdiction,
        completed_at,
        cast(completed_at as date) as completed_date,
        date_add(cast(completed_at as date), $retention_erasure_grace_days) as grace_end_date
    from dsr_requests
    where request_type = 'delete'
      and status = 'completed'
      and completed_at is not null
      and cast(completed_at as date) <= $as_of
),

final as (
    select * from erasures
)

select * from final
