-- name: retention_deletion_lag
-- requires: inventory
-- description: Per system, records deleted or de-identified up to $as_of: days from their retention due date (clock + period) to the erasure, as count, median, p90, max, within/beyond grace, and a histogram.
-- params: as_of DATE
-- returns: system VARCHAR, erased BIGINT, median_lag_days INTEGER, p90_lag_days INTEGER, max_lag_days INTEGER,
--          within_grace BIGINT, beyond_grace BIGINT, lag_early BIGINT, lag_0_7 BIGINT, lag_8_30 BIGINT,
--          lag_31_90 BIGINT, lag_over_90 BIGINT
-- Each record's due date as retention.record_past_retention takes it: inventory_retention_due.
-- Negative lag: erased before it was due (e.g. on a deletion request). Records without a rule or a started
-- clock have no due date and are left out. The first erasure counts (a record may be de-identified, then
-- deleted); least() skips a NULL argument here and in Spark.
with measured as (
    select
        system,
        grace_days,
        cast(date_diff('day', due_date, cast(least(deleted_at, deidentified_at) as date)) as integer) as lag_days
    from inventory_retention_due
    where cast(least(deleted_at, deidentified_at) as date) <= $as_of
      and due_date is not null
),

-- duckdb: quantile_disc (an observed lag, not an interpolation); the one CTE to adapt for Spark.
lag_quantiles as (
    select
        system,
        cast(quantile_disc(lag_days, 0.5) as integer) as median_lag_days,
        cast(quantile_disc(lag_days, 0.9) as integer) as p90_lag_days
    from measured
    group by system
),

final as (
    select
        m.system,
        count(*) as erased,
        min(q.median_lag_days) as median_lag_days,
        min(q.p90_lag_days) as p90_lag_days,
        max(m.lag_days) as max_lag_days,
        count(case when m.lag_days <= m.grace_days then 1 end) as within_grace,
        count(case when m.lag_days > m.grace_days then 1 end) as beyond_grace,
        count(case when m.lag_days < 0 then 1 end) as lag_early,
        count(case when m.lag_days between 0 and 7 then 1 end) as lag_0_7,
        count(case when m.lag_days between 8 and 30 then 1 end) as lag_8_30,
        count(case when m.lag_days between 31 and 90 then 1 end) as lag_31_90,
        count(case when m.lag_days > 90 then 1 end) as lag_over_90
    from measured as m
    inner join lag_quantiles as q on q.system = m.system
    group by m.system
)

select * from final
order by system
