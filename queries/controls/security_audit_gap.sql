-- name: security_audit_gap
-- control: security.audit_gap
-- section: 5
-- severity: high
-- requires: audit
-- description: Silences longer than allowed between successive audit events of a system that logs every day (median daily count at the threshold or above); one row per system otherwise.
-- params: as_of DATE, security_audit_gap_hours DOUBLE, security_audit_gap_min_daily_events INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Events of any outcome prove that logging works. Events are first reduced to system-hours (first and last event
-- of each hour): a silence longer than an hour can only fall between hours, so gaps are exact for thresholds of
-- an hour or more. A system that stopped logging is caught by the silence from its last event to the newest event
-- of the whole audit log.
--
-- duckdb: epoch() (Spark: unix_timestamp) gives seconds for the lengths of silences.
with system_hours as (
    select
        system,
        date_trunc('hour', occurred_at) as hour_start,
        count(*) as events,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at,
        epoch(min(occurred_at)) as first_s,
        epoch(max(occurred_at)) as last_s
    from audit_events
    where system is not null
      and event_date <= $as_of
    group by system, date_trunc('hour', occurred_at)
),

log_end as (
    select
        max(last_at) as end_at,
        max(last_s) as end_s
    from system_hours
),

hour_sequence as (
    select
        *,
        lag(last_at) over (partition by system order by hour_start) as prev_last_at,
        lag(last_s) over (partition by system order by hour_start) as prev_last_s,
        lead(hour_start) over (partition by system order by hour_start) is null as is_last_hour
    from system_hours
),

silences as (
    select
        system,
        prev_last_at as gap_start_at,
        prev_last_s as gap_start_s,
        first_at as gap_end_at,
        first_s as gap_end_s,
        false as is_trailing
    from hour_sequence
    where prev_last_at is not null
    union all
    -- trailing silence: from each system's last event to the end of the whole log
    select
        h.system,
        h.last_at as gap_start_at,
        h.last_s as gap_start_s,
        e.end_at as gap_end_at,
        e.end_s as gap_end_s,
        true as is_trailing
    from hour_sequence as h
    cross join log_end as e
    where h.is_last_hour
),

all_silences as (
    select
        *,
        (gap_end_s - gap_start_s) / 3600.0 as gap_hours
    from silences
),

-- duckdb: generate_series() (Spark: explode(sequence(...))) builds each system's calendar, so days without
-- any event count as zero in the typical (median) daily volume.
system_days as (
    select
        system,
        cast(hour_start as date) as day,
        sum(events) as events
    from system_hours
    group by system, cast(hour_start as date)
),

calendar as (
    select
        system,
        cast(unnest(generate_series(min(day), max(day), interval 1 day)) as date) as day
    from system_days
    group by system
),

typical as (
    select
        c.system,
        count(*) as days,
        median(coalesce(d.events, 0)) as median_daily,
        sum(coalesce(d.events, 0)) as events
    from calendar as c
    left join system_days as d
        on d.system = c.system
        and d.day = c.day
    group by c.system
),

gaps as (
    select
        s.*,
        t.median_daily,
        t.days
    from all_silences as s
    inner join typical as t
        on t.system = s.system
    where t.median_daily >= $security_audit_gap_min_daily_events
      and s.gap_hours > $security_audit_gap_hours
),

-- Evidence: the events on either side of each silence, looked up by their exact times (a few rows).
bound_events as (
    select
        g.system,
        g.gap_start_at,
        e.event_id,
        1 as side
    from gaps as g
    inner join audit_events as e
        on e.system = g.system
        and e.occurred_at = g.gap_start_at
    union all
    select
        g.system,
        g.gap_start_at,
        e.event_id,
        2 as side
    from gaps as g
    inner join audit_events as e
        on e.system = g.system
        and e.occurred_at = g.gap_end_at
    where not g.is_trailing
),

bounds as (
    select
        system,
        gap_start_at,
        min(case when side = 1 then event_id end) as before_event_id,
        min(case when side = 2 then event_id end) as after_event_id
    from bound_events
    group by system, gap_start_at
),

longest as (
    select
        system,
        max(gap_hours) as longest_hours
    from all_silences
    group by system
),

alarms as (
    select
        'system:' || g.system || '@' || cast(cast(g.gap_start_at as date) as varchar) as resource,
        'alarm' as status,
        'high' as severity,
        g.system || ' logged no audit events for ' || cast(round(g.gap_hours, 1) as varchar) || ' hours, from '
        || cast(g.gap_start_at as varchar) || ' to ' || cast(g.gap_end_at as varchar) || ' UTC'
        || case when g.is_trailing then ' (the end of the audit log: it has not logged since)' else '' end
        || '; it typically logs ' || cast(round(g.median_daily, 1) as varchar) || ' events a day (median over '
        || cast(g.days as varchar) || ' days) and may not fall silent for more than '
        || cast($security_audit_gap_hours as varchar) || ' hours.' as reason,
        g.gap_start_at as observed_at,
        case
            when b.after_event_id is null then [b.before_event_id]
            else [b.before_event_id, b.after_event_id]
        end as evidence
    from gaps as g
    inner join bounds as b
        on b.system = g.system
        and b.gap_start_at = g.gap_start_at
),

oks as (
    select
        'system:' || t.system as resource,
        case when t.median_daily >= $security_audit_gap_min_daily_events then 'ok' else 'info' end as status,
        'info' as severity,
        case
            when t.median_daily >= $security_audit_gap_min_daily_events then
                t.system || ' typically logs ' || cast(round(t.median_daily, 1) as varchar)
                || ' events a day (median over ' || cast(t.days as varchar) || ' days); its longest silence was '
                || cast(round(l.longest_hours, 1) as varchar) || ' hours, within '
                || cast($security_audit_gap_hours as varchar) || '.'
            else
                t.system || ' logs too rarely to judge silences: a median of '
                || cast(round(t.median_daily, 1) as varchar) || ' events a day over ' || cast(t.days as varchar)
                || ' days, under ' || cast($security_audit_gap_min_daily_events as varchar) || '.'
        end as reason,
        cast($as_of as timestamp) as observed_at,
        cast([] as varchar[]) as evidence
    from typical as t
    inner join longest as l
        on l.system = t.system
    where t.system not in (select g.system from gaps as g)
),

final as (
    select
        'security.audit_gap' as control_id,
        '5' as policy_section,
        resource,
        status,
        severity,
        reason,
        observed_at,
        evidence
    from alarms
    union all
    select
        'security.audit_gap' as control_id,
        '5' as policy_section,
        resource,
        status,
        severity,
        reason,
        observed_at,
        evidence
    from oks
)

select * from final
order by resource
