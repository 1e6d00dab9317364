-- name: dsr_monthly_trend
-- requires: dsr
-- description: Per month of receipt (local date) and jurisdiction, requests received up to $as_of, each as it stood at the end of $as_of (dsr_states): received, completed on time, completed late, completed without a tracked deadline, rejected or withdrawn, and still open.
-- params: as_of DATE
-- returns: month DATE, jurisdiction VARCHAR, received BIGINT, completed_on_time BIGINT, completed_late BIGINT,
--          completed_untracked BIGINT, rejected_or_withdrawn BIGINT, open BIGINT
with requests as (
    -- State as of $as_of per request (dsr_states); the five outcome columns add up to `received`.
    select
        cast(date_trunc('month', received_date) as date) as month,
        jurisdiction,
        status,
        -- as the engine's request_state: closed_late when known, else a completion without a timestamp
        -- is late once as_of passes the due date; NULL without a deadline rule
        case
            when closed_late is not null then not closed_late
            when effective_due_date is not null then $as_of <= effective_due_date
        end as on_time
    from dsr_states
    where valid_from <= $as_of
      and (valid_to is null or valid_to > $as_of)
),

final as (
    select
        month,
        jurisdiction,
        count(*) as received,
        count(case when status = 'completed' and on_time then 1 end) as completed_on_time,
        count(case when status = 'completed' and not on_time then 1 end) as completed_late,
        count(case when status = 'completed' and on_time is null then 1 end) as completed_untracked,
        count(case when status in ('rejected', 'withdrawn') then 1 end) as rejected_or_withdrawn,
        count(case when status = 'open' then 1 end) as open
    from requests
    group by month, jurisdiction
)

select * from final
order by month, jurisdiction
