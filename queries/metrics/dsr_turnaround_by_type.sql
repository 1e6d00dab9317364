-- name: dsr_turnaround_by_type
-- requires: dsr
-- description: Per request type and jurisdiction, requests received up to $as_of, each as it stood at the end of $as_of (dsr_requests_as_of): how many, open, completed, closed, median and p90 turnaround days of closed ones, and the share closed on time.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: request_type VARCHAR, jurisdiction VARCHAR, requests BIGINT, open BIGINT, completed BIGINT, closed BIGINT,
--          median_turnaround_days INTEGER, p90_turnaround_days INTEGER, on_time_share DOUBLE
with requests as (
    -- Each request as it stood at the end of $as_of (dsr_requests_as_of, as the dsr.* controls read it): a
    -- request answered later is open here.
    select
        request_type,
        jurisdiction,
        status,
        status <> 'open' as is_closed,
        turnaround_days,
        -- Timeliness is the request's state (the engine's request_state); NULL where nothing can be said: open,
        -- withdrawn (never late), no deadline, or a refusal with neither a due date nor a settled closed_late
        -- (its state is plain `rejected` then too).
        case
            when state = 'completed_on_time' then true
            when state = 'rejected' and (closed_late is not null or effective_due_date is not null) then true
            when state in ('completed_late', 'rejected_late') then false
        end as closed_on_time
    from dsr_requests_as_of
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
