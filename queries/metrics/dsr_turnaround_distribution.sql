-- name: dsr_turnaround_distribution
-- requires: dsr
-- description: Requests received up to $as_of and, as of $as_of (dsr_requests_as_of), closed (completed, rejected or withdrawn) with a known turnaround, per jurisdiction, request type and 5-day turnaround bin (bin_start 0 = 0-4 days; 120 and over share the last bin): how many, and how many were answered (completed or refused) after their deadline (a withdrawn request is never late).
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: jurisdiction VARCHAR, request_type VARCHAR, bin_start INTEGER, bin_label VARCHAR, requests BIGINT,
--          closed_late BIGINT
with closed as (
    -- Bins keep the chart small (at most 25 bins per type and jurisdiction) whatever the register's size.
    select
        jurisdiction,
        request_type,
        cast(floor(least(turnaround_days, 120) / 5) * 5 as integer) as bin_start,
        coalesce(closed_late, false) as is_late
    from dsr_requests_as_of
    where status <> 'open'
      and turnaround_days is not null
),

final as (
    select
        jurisdiction,
        request_type,
        bin_start,
        case
            when bin_start >= 120 then '120+'
            else cast(bin_start as varchar) || '-' || cast(bin_start + 4 as varchar)
        end as bin_label,
        count(*) as requests,
        count(case when is_late then 1 end) as closed_late
    from closed
    group by jurisdiction, request_type, bin_start
)

select * from final
order by jurisdiction, request_type, bin_start
