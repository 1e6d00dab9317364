-- name: access_peer_daily
-- requires: audit
-- description: For one actor, per UTC day in the $volume_spike_baseline_days days up to $as_of: the role the actor held that day and their role peers' (other employees and contractors with that role that day) daily records touched: peers active, median, and the $volume_spike_peer_quantile quantile (as access.volume_spike compares).
-- params: as_of DATE, actor_id VARCHAR, volume_spike_baseline_days INTEGER, volume_spike_peer_quantile DOUBLE
-- returns: activity_date DATE, actor_role VARCHAR, peers BIGINT, peer_median_records DOUBLE, peer_quantile_records DOUBLE
with actor_days as (
    -- People's daily volumes, as access.volume_spike counts them (audit_actor_days; the role held at the end
    -- of the day).
    select
        actor_id,
        event_date,
        arg_max(actor_role, last_at) as actor_role,
        cast(sum(records) as bigint) as records
    from audit_actor_days
    where actor_type in ('employee', 'contractor')
      and event_date <= $as_of
      and event_date > date_add($as_of, -$volume_spike_baseline_days)
    group by actor_id, event_date
),

own_days as (
    select
        event_date,
        actor_role
    from actor_days
    where actor_id = $actor_id
),

-- duckdb: median and quantile_cont (Spark: percentile) are isolated here.
final as (
    select
        o.event_date as activity_date,
        o.actor_role,
        count(p.actor_id) as peers,
        median(cast(p.records as double)) as peer_median_records,
        quantile_cont(cast(p.records as double), $volume_spike_peer_quantile) as peer_quantile_records
    from own_days as o
    left join actor_days as p
        on p.event_date = o.event_date
        and p.actor_role = o.actor_role
        and p.actor_id <> $actor_id
    group by o.event_date, o.actor_role
)

select * from final
order by activity_date
