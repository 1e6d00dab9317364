-- name: access_volume_spike
-- control: access.volume_spike
-- section: 5
-- severity: high
-- requires: audit
-- description: Days on which a person touched far more records than their own baseline (robust z-score) and their role peers; one ok row per person otherwise.
-- params: as_of DATE, volume_spike_baseline_days INTEGER, volume_spike_min_baseline_days INTEGER,
--         volume_spike_robust_z DOUBLE, volume_spike_peer_quantile DOUBLE, volume_spike_min_records INTEGER,
--         volume_spike_recurring_peak_factor DOUBLE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- People's actor-days (audit_actor_days: events reduced to actor-days once, tens of thousands of rows); every
-- later step works on actor-days, and the baselines are computed only for days big enough to matter.
with actor_days as (
    select
        actor_id,
        event_date,
        -- the role held at the end of the day. duckdb: arg_max (Spark: max_by).
        arg_max(actor_role, last_at) as actor_role,
        cast(sum(records) as bigint) as records,
        cast(sum(events) as bigint) as events,
        max(last_at) as last_at
    from audit_actor_days
    where actor_type in ('employee', 'contractor')
      and event_date <= $as_of
    group by actor_id, event_date
),

-- The days judged: in a full evaluation every day (no actor-day comes before the first audit event); in an
-- incremental refresh of stored findings, which reads the audit events from its window's first day on
-- (compliance.stored_findings), the days from that one alone, the only days whose alarms it keeps. The baselines
-- before them still come from the whole rollup (100M events: 62k candidate days' baselines took 1 CPU s).
judged_from as (
    select min(event_date) as first_date
    from audit_events
),

-- A day below the absolute floor can never alarm: skip the baselines for it.
candidates as (
    select
        d.actor_id,
        d.event_date,
        d.actor_role,
        d.records,
        d.events,
        d.last_at,
        date_add(d.event_date, -$volume_spike_baseline_days) as baseline_start
    from actor_days as d
    cross join judged_from as j
    where d.records >= $volume_spike_min_records
      and d.event_date >= j.first_date
),

-- The person's own active days in the window before the day (self-join on a date range).
own_window as (
    select
        c.actor_id,
        c.event_date,
        b.records as base_records
    from candidates as c
    inner join actor_days as b
        on b.actor_id = c.actor_id
        and b.event_date >= c.baseline_start
        and b.event_date < c.event_date
),

own_median as (
    select
        actor_id,
        event_date,
        count(*) as baseline_days,
        median(base_records) as base_median,
        max(base_records) as base_max
    from own_window
    group by actor_id, event_date
),

own_mad as (
    select
        w.actor_id,
        w.event_date,
        median(abs(w.base_records - m.base_median)) as base_mad
    from own_window as w
    inner join own_median as m
        on m.actor_id = w.actor_id
        and m.event_date = w.event_date
    group by w.actor_id, w.event_date
),

own_scored as (
    select
        c.actor_id,
        c.event_date,
        c.actor_role,
        c.records,
        c.events,
        c.last_at,
        c.baseline_start,
        m.baseline_days,
        m.base_median,
        m.base_max,
        d.base_mad,
        -- MAD is 0 for a perfectly steady baseline; a floor of 1 record keeps z finite and meaningful
        (c.records - m.base_median) / (1.4826 * greatest(d.base_mad, 1)) as robust_z
    from candidates as c
    inner join own_median as m
        on m.actor_id = c.actor_id
        and m.event_date = c.event_date
    inner join own_mad as d
        on d.actor_id = c.actor_id
        and d.event_date = c.event_date
    where m.baseline_days >= $volume_spike_min_baseline_days
),

-- A peak that recurs is part of the person's rhythm (a month-end invoicing run, a quarterly report): the day must
-- also exceed the largest day of their own window by the recurring-peak factor. The first such peak still alarms.
own_spikes as (
    select * from own_scored
    where robust_z > $volume_spike_robust_z
      and records > $volume_spike_recurring_peak_factor * base_max
),

-- duckdb: range() (Spark: range(), column `id`) spells out each baseline date of a spike, so that the peer
-- join below is an equi-join on (role, date) rather than a role-wide join filtered by date.
baseline_dates as (
    select
        s.actor_id,
        s.event_date,
        s.actor_role,
        date_add(s.event_date, -cast(o.k as integer)) as peer_date
    from own_spikes as s
    cross join range(1, $volume_spike_baseline_days + 1) as o (k)
),

-- duckdb: quantile_cont (Spark: percentile) is isolated here. Peers are other people who held the same
-- role on their day, over the same baseline window.
peer_quantile as (
    select
        b.actor_id,
        b.event_date,
        count(*) as peer_days,
        quantile_cont(cast(p.records as double), $volume_spike_peer_quantile) as peer_q
    from baseline_dates as b
    inner join actor_days as p
        on p.actor_role = b.actor_role
        and p.event_date = b.peer_date
    where p.actor_id <> b.actor_id
    group by b.actor_id, b.event_date
),

-- Without any role peer the peer test cannot be made: the own-baseline test alone decides (the reason says so).
spikes as (
    select
        s.*,
        coalesce(q.peer_days, 0) as peer_days,
        q.peer_q
    from own_spikes as s
    left join peer_quantile as q
        on q.actor_id = s.actor_id
        and q.event_date = s.event_date
    where q.peer_q is null or s.records > q.peer_q
),

-- Evidence: the 50 largest events of each flagged day (a second, narrow pass joined to the few spikes), largest
-- first, then oldest, ties broken by id. duckdb: min_by(x, y, n) in one aggregate pass instead of a window over
-- the events (Spark: a sorted list).
evidence as (
    select
        e.actor_id,
        e.event_date,
        min_by(e.event_id, row(-e.record_count, e.occurred_at, e.event_id), 50) as event_ids
    from audit_events as e
    where e.actor_type in ('employee', 'contractor')
      and e.action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
      and e.outcome = 'success'
      -- a semi-join: the few flagged days are the build side, whatever the estimates say. The flagged dates alone
      -- first: a cheap filter on one column that drops nearly every event before the pair is compared.
      and e.event_date in (select s.event_date from spikes as s)
      and (e.actor_id, e.event_date) in (select s.actor_id, s.event_date from spikes as s)
    group by e.actor_id, e.event_date
),

actor_summary as (
    select
        actor_id,
        count(*) as active_days,
        median(records) as daily_median,
        max(records) as daily_max,
        max(last_at) as last_at
    from actor_days
    group by actor_id
),

alarms as (
    select
        'actor:' || s.actor_id || '@' || cast(s.event_date as varchar) as resource,
        'alarm' as status,
        'high' as severity,
        s.actor_id || ' (' || coalesce(s.actor_role, 'unknown role') || ') touched '
        || cast(s.records as varchar) || ' records in ' || cast(s.events as varchar)
        || case when s.events = 1 then ' event on ' else ' events on ' end
        || cast(s.event_date as varchar) || '; their ' || cast($volume_spike_baseline_days as varchar)
        || '-day median is ' || cast(round(s.base_median, 1) as varchar) || ' (MAD '
        || cast(round(s.base_mad, 1) as varchar) || ', ' || cast(s.baseline_days as varchar)
        || ' active days), robust z ' || cast(round(s.robust_z, 2) as varchar) || ' > '
        || cast($volume_spike_robust_z as varchar) || ', and above '
        || cast($volume_spike_recurring_peak_factor as varchar) || 'x their largest day in that window ('
        || cast(s.base_max as varchar) || '); '
        || case
            when s.peer_q is null then 'no role peers were active in that window to compare'
            else 'role peers'' p' || regexp_replace(cast(round(100 * $volume_spike_peer_quantile, 1) as varchar), '\.0$', '') || ' is '
                || cast(round(s.peer_q, 1) as varchar) || ' (over ' || cast(s.peer_days as varchar) || ' peer-days)'
        end
        || '; floor ' || cast($volume_spike_min_records as varchar) || ' records.' as reason,
        s.last_at as observed_at,
        v.event_ids as evidence
    from spikes as s
    left join evidence as v
        on v.actor_id = s.actor_id
        and v.event_date = s.event_date
),

oks as (
    select
        'actor:' || a.actor_id as resource,
        'ok' as status,
        'info' as severity,
        a.actor_id || ': ' || cast(a.active_days as varchar) || ' active days, daily median '
        || cast(round(a.daily_median, 1) as varchar) || ' records, max ' || cast(a.daily_max as varchar)
        || '; no day above both their own baseline (robust z > ' || cast($volume_spike_robust_z as varchar)
        || ' and ' || cast($volume_spike_recurring_peak_factor as varchar)
        || 'x their largest day in the window) and their role peers, with at least ' || cast($volume_spike_min_records as varchar)
        || ' records.' as reason,
        a.last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary as a
    where a.actor_id not in (select s.actor_id from spikes as s)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
