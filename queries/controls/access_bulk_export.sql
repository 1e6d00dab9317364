-- name: access_bulk_export
-- control: access.bulk_export
-- section: 5
-- severity: high
-- requires: audit
-- description: Actor-days on which one actor exported, read or searched more personal-data records than the bulk threshold within a sliding window; one ok row per actor otherwise.
-- params: as_of DATE, bulk_export_window_minutes INTEGER, bulk_export_max_records INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Exports by a service principal to an approved recipient (backups) are not counted; everything else is (the rule:
-- audit_bulk_rule, which the ingest rollup reads too).
--
-- Coarse to fine: records are summed per actor and block of whole UTC days, as few as hold a window (one day for a
-- window of up to a day), from the actor-day rollup computed at ingest (audit_actor_activity_days, whose bulk_*
-- columns count these reads, searches and exports, backups apart). A window spans at most two adjacent blocks, so
-- only blocks whose sum with a neighbour exceeds the threshold can hold a window that does; the exact sliding
-- windows run over the events of those few blocks' days only. Blocks are summed from two blocks' length before the
-- first event this evaluation reads (first_read): every block in a full evaluation; in a window refresh of stored
-- findings, which reads the events from the window's start, its own few (100M events: 3.3M actor-days grouped
-- before).
-- An actor's ok row states its totals over every day and its busiest block: from the all-time totals kept at ingest
-- (audit_actor_bulk_groups) when a block is one day; for longer blocks, every block summed.
--
-- duckdb: epoch() (Spark: unix_timestamp) turns dates and times into seconds, so blocks are plain divisions and
-- the sliding window a numeric range. Used here and in hot_events; nothing else is DuckDB-specific.
with block_length as (
    select
        ceil(greatest($bulk_export_window_minutes, 1440) / 1440.0) as days,
        86400 * ceil(greatest($bulk_export_window_minutes, 1440) / 1440.0) as seconds
),

-- Every actor-day up to $as_of with such an event, and its block.
dated_blocks as (
    select
        d.actor_id,
        d.event_date,
        floor(epoch(d.event_date) / b.seconds) as block,
        d.bulk_records
    from audit_actor_activity_days as d
    cross join block_length as b
    where d.bulk_events > 0
      and d.event_date <= $as_of
),

-- Two blocks before the first event read: a block is judged with the one before it, and the block of that day
-- may start up to a block's length before it (an earlier block cut short is never read from).
first_read as (
    select date_add(m.first_date, -cast(2 * b.days as integer)) as from_date
    from (select min(event_date) as first_date from audit_events) as m
    cross join block_length as b
),

actor_days as (
    select
        d.actor_id,
        d.event_date,
        d.block,
        d.bulk_records
    from dated_blocks as d
    cross join first_read as f
    where d.event_date >= f.from_date
),

blocks as (
    select
        actor_id,
        block,
        sum(bulk_records) as records
    from actor_days
    group by actor_id, block
),

-- Two blocks exceed the threshold together only if one of them holds more than half of it: the pairs (a block and
-- the one before it) are formed around those heavy blocks alone, not every block joined to its neighbour (100M
-- events: 3.3M actor-day blocks joined, 0.7 CPU s).
heavy_blocks as (
    select
        actor_id,
        block
    from blocks
    where records * 2 > $bulk_export_max_records
),

pair_ends as (
    select
        actor_id,
        block
    from heavy_blocks
    union
    select
        actor_id,
        block + 1 as block
    from heavy_blocks
),

block_pairs as (
    select
        b.actor_id,
        b.block,
        b.records + coalesce(p.records, 0) as with_previous
    from pair_ends as e
    inner join blocks as b
        on b.actor_id = e.actor_id
        and b.block = e.block
    left join blocks as p
        on p.actor_id = e.actor_id
        and p.block = e.block - 1
    where b.records > 0
),

hot_blocks as (
    select
        actor_id,
        block
    from block_pairs
    where with_previous > $bulk_export_max_records
    union
    select
        actor_id,
        block - 1 as block
    from block_pairs
    where with_previous > $bulk_export_max_records
),

hot_days as (
    select
        d.actor_id,
        d.event_date
    from actor_days as d
    inner join hot_blocks as h
        on h.actor_id = d.actor_id
        and h.block = d.block
),

-- Exact sliding windows over the hot days' counted events (a window ending at an event covers the window's
-- length before it, bounds included).
hot_events as (
    select
        e.event_id,
        e.actor_id,
        e.action,
        e.occurred_at,
        e.event_date,
        e.at_s,
        e.records,
        sum(e.records) over (
            partition by e.actor_id
            order by e.at_s
            range between 60 * $bulk_export_window_minutes preceding and current row
        ) as window_records
    from (
        select
            x.event_id,
            x.actor_id,
            x.action,
            x.occurred_at,
            x.event_date,
            epoch(x.occurred_at) as at_s,
            coalesce(x.record_count, 1) as records
        from audit_bulk_rule as x
        where x.is_bulk
          and not x.is_backup
          -- the hot dates alone first: a cheap filter on one column that drops nearly every event
          and x.event_date in (select h.event_date from hot_days as h)
          and (x.actor_id, x.event_date) in (select h.actor_id, h.event_date from hot_days as h)
    ) as e
),

-- The heaviest window of each actor-day (by the UTC day it ends on).
peaks as (
    select
        actor_id,
        event_date,
        at_s as peak_end_s,
        occurred_at as peak_end_at,
        window_records,
        windows_over
    from (
        select
            actor_id,
            event_date,
            at_s,
            occurred_at,
            window_records,
            count(*) over (partition by actor_id, event_date) as windows_over,
            row_number() over (partition by actor_id, event_date order by window_records desc, at_s) as rn
        from hot_events
        where window_records > $bulk_export_max_records
    ) as ranked
    where rn = 1
),

peak_events as (
    select
        k.actor_id,
        k.event_date,
        h.event_id,
        h.action,
        h.occurred_at,
        h.records
    from peaks as k
    inner join hot_events as h
        on h.actor_id = k.actor_id
        and h.at_s >= k.peak_end_s - 60 * $bulk_export_window_minutes
        and h.at_s <= k.peak_end_s
),

peak_summary as (
    select
        actor_id,
        event_date,
        min(occurred_at) as peak_start_at,
        count(*) as events,
        sum(case when action = 'export' then 1 else 0 end) as exports,
        -- Evidence: the peak window's 50 largest events, then oldest, ties broken by id. duckdb: min_by(x, y, n)
        -- in this aggregate pass instead of a window over the events (Spark: a sorted list).
        min_by(event_id, row(-records, occurred_at, event_id), 50) as event_ids
    from peak_events
    group by actor_id, event_date
),

-- The busiest block of each actor when a block spans several days (a window over a day): every block of every
-- day summed, as the totals cannot; no row when a block is a day.
longer_blocks as (
    select
        actor_id,
        max(records) as busiest_block
    from (
        select
            d.actor_id,
            sum(d.bulk_records) as records
        from audit_actor_activity_days as d
        cross join block_length as b
        where $bulk_export_window_minutes > 1440
          and d.bulk_events > 0
          and d.event_date <= $as_of
        group by d.actor_id, floor(epoch(d.event_date) / b.seconds)
    ) as summed
    group by actor_id
),

actor_summary as (
    select
        t.actor_id,
        t.bulk_events - t.backup_events as events,
        t.bulk_records as records,
        coalesce(l.busiest_block, t.busiest_day_records) as busiest_block,
        t.backup_records,
        t.backup_events,
        t.bulk_last_at as last_at
    from audit_actor_bulk_groups as t
    left join longer_blocks as l on l.actor_id = t.actor_id
),

alarms as (
    select
        'actor:' || k.actor_id || '@' || cast(k.event_date as varchar) as resource,
        'alarm' as status,
        case when s.exports > 0 then 'high' else 'medium' end as severity,
        k.actor_id || ' read, searched or exported ' || cast(k.window_records as varchar)
        || ' personal-data records within ' || cast($bulk_export_window_minutes as varchar) || ' minutes, from '
        || cast(s.peak_start_at as varchar) || ' to ' || cast(k.peak_end_at as varchar) || ' UTC ('
        || cast(s.events as varchar) || case when s.events = 1 then ' event' else ' events' end
        || case
            when s.exports > 0 then
                ', ' || cast(s.exports as varchar) || case when s.exports = 1 then ' export' else ' exports' end
            else ''
        end
        || '), above the ' || cast($bulk_export_max_records as varchar) || '-record bulk threshold; '
        || cast(k.windows_over as varchar) || case when k.windows_over = 1 then ' window' else ' windows' end
        || ' ending that day exceeded it.' as reason,
        k.peak_end_at as observed_at,
        s.event_ids as evidence
    from peaks as k
    inner join peak_summary as s
        on s.actor_id = k.actor_id
        and s.event_date = k.event_date
),

oks as (
    select
        'actor:' || a.actor_id as resource,
        'ok' as status,
        'info' as severity,
        a.actor_id || ': ' || cast(a.records as varchar) || ' personal-data records read, searched or exported in '
        || cast(a.events as varchar) || case when a.events = 1 then ' event' else ' events' end
        || '; the busiest '
        || case
            when $bulk_export_window_minutes <= 1440 then 'UTC day'
            else cast(cast(ceil($bulk_export_window_minutes / 1440.0) as integer) as varchar) || '-day block'
        end
        || ' held ' || cast(a.busiest_block as varchar) || ' and no '
        || cast($bulk_export_window_minutes as varchar) || '-minute window exceeded '
        || cast($bulk_export_max_records as varchar) || ' records'
        || case
            when a.backup_events > 0 then
                '; not counted: ' || cast(a.backup_events as varchar)
                || case when a.backup_events = 1 then ' export (' else ' exports (' end
                || cast(a.backup_records as varchar)
                || ' records) by this service account to approved recipients (backups)'
            else ''
        end || '.' as reason,
        a.last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary as a
    where a.actor_id not in (select k.actor_id from peaks as k)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
