-- name: dsr_turnaround_by_type
-- requires: dsr
-- description: Per request type and jurisdiction, requests received up to $as_of, each as it stood at the end of $as_of (dsr_states): how many, open, completed, closed, median and p90 turnaround days of closed ones, and the share closed on time.
-- params: as_of DATE
-- returns: request_type VARCHAR, jurisdiction VARCHAR, requests BIGINT, open BIGINT, completed BIGINT, closed BIGINT,
--          median_turnaround_days INTEGER, p90_turnaround_days INTEGER, on_time_share DOUBLE
with requests as (
    -- Each request as it stood at the end of $as_of (dsr_states, as the dsr.* controls read it): a request
    -- answered later is open here.
    select
        request_type,
        jurisdiction,
        status,
        status <> 'open' as is_closed,
        turnaround_days,
        -- Timeliness as the engine's request_state judges it: closed_late when known; an answer
        -- (completion or refusal) without a timestamp is late once as_of passes the due date; NULL where
        -- nothing can be said (no deadline rule, or a withdrawn request, which is never late).
        case
            when status = 'open' then null
            when closed_late is not null then not closed_late
            when status in ('completed', 'rejected') and effective_due_date is not null then $as_of <= effective_due_date
        end as closed_on_time
    from dsr_states
    where valid_from <= $as_of
      and (valid_to is null or valid_to > $as_of)
),

-- duckdb: quantile_disc (an observed day count, not an interpolation); Spark's percentile is the
-- continuous one, so this is the one CTE to adapt there.
turnaround_quantiles as (
    select
        request_type,
        jurisdiction,
        cast(quantile_disc(turnaround_days, 0.5) as integer) as median_turnaround_days,
        cast(quantile_disc(turnaround_days, 0.9) as integer) as p90_turnaround_days
    from requests
    where is_closed
      and turnaround_days is not null
    group by request_type, jurisdiction
),

counts as (
    select
        request_type,
        jurisdiction,
        count(*) as requests,
        count(case when not is_closed then 1 end) as open,
        count(case when status = 'completed' then 1 end) as completed,
        count(case when is_closed then 1 end) as closed,
        count(case when closed_on_time then 1 end) as closed_on_time,
        count(closed_on_time) as closed_judged
    from requests
    group by request_type, jurisdiction
),

final as (
    select
        c.request_type,
        c.jurisdiction,
        c.requests,
        c.open,
        c.completed,
        c.closed,
        q.median_turnaround_days,
        q.p90_turnaround_days,
        case when c.closed_judged > 0 then cast(c.closed_on_time as double) / c.closed_judged end as on_time_share
    from counts as c
    left join turnaround_quantiles as q
        on q.request_type = c.request_type
        and q.jurisdiction = c.jurisdiction
)

select * from final
order by request_type, jurisdiction
