-- name: dsr_monthly_trend
-- requires: dsr
-- description: Per month of receipt (local date) and jurisdiction, requests received up to $as_of, each as it stood at the end of $as_of (dsr_requests_as_of): received, completed on time, completed late, completed without a tracked deadline, rejected or withdrawn, and still open.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: month DATE, jurisdiction VARCHAR, received BIGINT, completed_on_time BIGINT, completed_late BIGINT,
--          completed_untracked BIGINT, rejected_or_withdrawn BIGINT, open BIGINT
with requests as (
    -- Each request's status and state as of $as_of (dsr_requests_as_of, the engine's request_state); the five
    -- outcome columns add up to `received`.
    select
        cast(date_trunc('month', received_date) as date) as month,
        jurisdiction,
        status,
        state
    from dsr_requests_as_of
),

final as (
    select
        month,
        jurisdiction,
        count(*) as received,
        count(case when status = 'completed' and state = 'completed_on_time' then 1 end) as completed_on_time,
        count(case when status = 'completed' and state = 'completed_late' then 1 end) as completed_late,
        count(case when status = 'completed' and state = 'no_deadline' then 1 end) as completed_untracked,
        count(case when status in ('rejected', 'withdrawn') then 1 end) as rejected_or_withdrawn,
        count(case when status = 'open' then 1 end) as open
    from requests
    group by month, jurisdiction
)

select * from final
order by month, jurisdiction
