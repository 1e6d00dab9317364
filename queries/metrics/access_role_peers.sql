-- name: access_role_peers
-- requires: audit
-- description: The peers of one actor ($actor_id) over the $volume_spike_baseline_days days up to $end_date (e.g. a flagged day): every person (employee, contractor) who held one of the roles the actor held in that window, per role, with active days, records touched, the median, p99 and largest daily records, and distinct subjects, as access.volume_spike compares people with their role peers; the actor's own rows are marked.
-- params: actor_id VARCHAR, end_date DATE, volume_spike_baseline_days INTEGER
-- returns: actor_role VARCHAR, actor_id VARCHAR, is_actor BOOLEAN, active_days BIGINT, records BIGINT,
--          median_daily_records DOUBLE, p99_daily_records DOUBLE, max_daily_records BIGINT, subjects BIGINT
with window_events as (
    select
        actor_id,
        actor_role,
        event_date,
        subject_id,
        coalesce(record_count, 1) as records
    from audit_events
    where actor_type in ('employee', 'contractor')
      and action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
      and outcome = 'success'
      and event_date <= $end_date
      and event_date > date_add($end_date, -$volume_spike_baseline_days)
),

actor_roles as (
    select distinct actor_role
    from window_events
    where actor_id = $actor_id
      and actor_role is not null
),

role_days as (
    -- One row per person, role and day (a person who changed roles counts in each role for its days).
    select
        w.actor_role,
        w.actor_id,
        w.event_date,
        cast(sum(w.records) as bigint) as records
    from window_events as w
    inner join actor_roles as r on r.actor_role = w.actor_role
    group by w.actor_role, w.actor_id, w.event_date
),

role_subjects as (
    select
        w.actor_role,
        w.actor_id,
        count(distinct w.subject_id) as subjects
    from window_events as w
    inner join actor_roles as r on r.actor_role = w.actor_role
    group by w.actor_role, w.actor_id
),

-- duckdb: quantile_cont (Spark: percentile), as access.volume_spike uses for the peer quantile.
people as (
    select
        actor_role,
        actor_id,
        count(*) as active_days,
        cast(sum(records) as bigint) as records,
        cast(median(records) as double) as median_daily_records,
        quantile_cont(cast(records as double), 0.99) as p99_daily_records,
        max(records) as max_daily_records
    from role_days
    group by actor_role, actor_id
),

final as (
    select
        p.actor_role,
        p.actor_id,
        p.actor_id = $actor_id as is_actor,
        p.active_days,
        p.records,
        p.median_daily_records,
        p.p99_daily_records,
        p.max_daily_records,
        s.subjects
    from people as p
    inner join role_subjects as s
        on s.actor_role = p.actor_role
        and s.actor_id = p.actor_id
)

select * from final
order by actor_role, records desc, actor_id
