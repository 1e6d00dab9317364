-- name: access_actor_daily
-- requires: audit
-- description: Per actor and active day in the $volume_spike_baseline_days days up to $as_of: events, records touched, and the median and number of the actor's active days in the baseline window before that day (as access.volume_spike computes it). One actor when $actor_id is given, else the 50 people (employees, contractors) with most records in the window.
-- params: as_of DATE, actor_id VARCHAR, volume_spike_baseline_days INTEGER
-- returns: actor_id VARCHAR, activity_date DATE, events BIGINT, records BIGINT, baseline_median_records DOUBLE,
--          baseline_days BIGINT
with actor_days as (
    -- Two windows back: the shown window plus the baseline of its first day (audit_actor_days).
    select
        actor_id,
        min(actor_type) as actor_type,
        event_date as activity_date,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records
    from audit_actor_days
    where event_date <= $as_of
      and event_date > date_add($as_of, -2 * $volume_spike_baseline_days)
      and ($actor_id is null or actor_id = $actor_id)
    group by actor_id, event_date
),

shown_days as (
    select *
    from actor_days
    where activity_date > date_add($as_of, -$volume_spike_baseline_days)
),

-- Without an actor, the chart shows people (as access.volume_spike judges people, and service
-- principals would crowd them out): the top 50 by records in the shown window, ties by id.
ranked_actors as (
    select
        actor_id,
        row_number() over (order by sum(records) desc, actor_id) as volume_rank
    from shown_days
    where $actor_id is not null
       or actor_type in ('employee', 'contractor')
    group by actor_id
),

selected_days as (
    select d.*
    from shown_days as d
    inner join ranked_actors as a on a.actor_id = d.actor_id
    where $actor_id is not null
       or a.volume_rank <= 50
),

-- The actor's own active days in the baseline window before each day (self-join on a date range).
baselines as (
    select
        d.actor_id,
        d.activity_date,
        d.events,
        d.records,
        median(b.records) as baseline_median_records,
        count(b.activity_date) as baseline_days
    from selected_days as d
    left join actor_days as b
        on b.actor_id = d.actor_id
        and b.activity_date >= date_add(d.activity_date, -$volume_spike_baseline_days)
        and b.activity_date < d.activity_date
    group by d.actor_id, d.activity_date, d.events, d.records
),

final as (
    select
        actor_id,
        activity_date,
        events,
        records,
        cast(baseline_median_records as double) as baseline_median_records,
        baseline_days
    from baselines
)

select * from final
order by actor_id, activity_date
