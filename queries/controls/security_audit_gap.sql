-- name: security_audit_gap
-- control: security.audit_gap
-- section: 5
-- severity: high
-- requires: audit
-- description: Silences longer than allowed that are unlikely under the system's own weekly rhythm (learned per hour of week); one row per system otherwise.
-- params: as_of DATE, security_audit_gap_hours DOUBLE, security_audit_gap_max_chance DOUBLE, security_audit_gap_min_weeks DOUBLE,
--         security_audit_gap_holidays DATE[], security_audit_gap_holidays_timezone VARCHAR
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- A silence is only suspicious when the system usually logs at that time. Each system's rhythm is learned per hour
-- of the week (168 slots, UTC): p = the share of the weeks observed in which it logged at least once in that slot,
-- counted as active / (weeks + 1) so that no slot is ever certain. The chance of a silence is the product of
-- (1 - p) over the hours it fully covers. A silence alarms when it is longer than the policy allows AND that
-- chance is below the allowed maximum: a weekday-only system's weekends (p = 0) never alarm, a missed weekday or a
-- 24/7 system's outage does. Events of any outcome prove that logging works. Events are read as system-hours from
-- the rollup computed at ingest (audit_system_hours); a system that stopped logging is caught by the silence from its
-- last event to the newest event of the whole audit log. A system with fewer than the minimum weeks of history is
-- reported as info, not judged.
-- A public holiday (a local date of the calendar in settings security.audit_gap_holidays) is a day off: an hour
-- of it is judged by the quieter of the system's own slot and the two weekend days' slots at that hour, so a
-- weekday system's silent holiday is as unremarkable as its weekend while a 24/7 system's outage still alarms.
--
-- duckdb: epoch() (Spark: unix_timestamp) gives seconds; generate_series (Spark: explode(sequence(...))) lists
-- hours; isodow()/hour() (Spark: dayofweek/hour) place an hour in the week.
with system_hours as (
    select
        system,
        hour_start,
        sum(events) as events,
        min(first_at) as first_at,
        max(last_at) as last_at,
        epoch(min(first_at)) as first_s,
        epoch(max(last_at)) as last_s
    from audit_system_hours
    where system is not null
      and event_date <= $as_of
    group by system, hour_start
),

log_end as (
    select
        max(last_at) as end_at,
        max(last_s) as end_s,
        date_trunc('hour', max(last_at)) as end_hour
    from system_hours
),

-- Every hour from each system's first logged hour to the end of the log, active or not.
system_calendar as (
    select
        h.system,
        unnest(generate_series(min(h.hour_start), max(e.end_hour), interval 1 hour)) as hour_start
    from system_hours as h
    cross join log_end as e
    group by h.system
),

calendar_slots as (
    select
        c.system,
        (isodow(c.hour_start) - 1) * 24 + hour(c.hour_start) as week_slot,
        h.hour_start is not null as is_active
    from system_calendar as c
    left join system_hours as h
        on h.system = c.system
        and h.hour_start = c.hour_start
),

-- The weekly rhythm: for each hour of the week, in how many of the weeks observed the system logged.
rhythm as (
    select
        system,
        week_slot,
        count(*) as weeks,
        sum(case when is_active then 1 else 0 end) as active_weeks,
        sum(case when is_active then 1 else 0 end) / (count(*) + 1.0) as p_active
    from calendar_slots
    group by system, week_slot
),

history as (
    select
        system,
        count(*) as hours_observed,
        count(*) / 168.0 as weeks_observed
    from system_calendar
    group by system
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

long_silences as (
    select
        s.*,
        (s.gap_end_s - s.gap_start_s) / 3600.0 as gap_hours
    from silences as s
    inner join history as y
        on y.system = s.system
    where (s.gap_end_s - s.gap_start_s) / 3600.0 > $security_audit_gap_hours
      and y.weeks_observed >= $security_audit_gap_min_weeks
),

-- The hours a long silence covers completely (strictly between the hours of the events that bound it).
silent_hours as (
    select
        system,
        gap_start_at,
        unnest(generate_series(
            date_trunc('hour', gap_start_at) + interval 1 hour,
            date_trunc('hour', gap_end_at) - interval 1 hour,
            interval 1 hour
        )) as hour_start
    from long_silences
),

-- duckdb: AT TIME ZONE (Spark: from_utc_timestamp) gives the holiday calendar's local date of a UTC hour, and
-- list_contains (Spark: array_contains) finds it among the holidays.
silent_slots as (
    select
        system,
        gap_start_at,
        (isodow(hour_start) - 1) * 24 + hour(hour_start) as week_slot,
        hour(hour_start) as hour_of_day,
        list_contains(
            $security_audit_gap_holidays,
            cast((hour_start at time zone 'UTC') at time zone $security_audit_gap_holidays_timezone as date)
        ) as is_holiday
    from silent_hours
),

-- The weekend days' rhythm per hour of the day (ISO Saturday and Sunday: week slots 120 to 167).
weekend_rhythm as (
    select
        system,
        week_slot % 24 as hour_of_day,
        min(p_active) as p_active,
        min(case when active_weeks * 2 >= weeks then 1 else 0 end) as is_usual
    from rhythm
    where week_slot >= 120
    group by system, week_slot % 24
),

-- least() skips a NULL (no weekend observed yet) here and in Spark: the hour is then judged by its own slot.
slot_odds as (
    select
        s.system,
        s.gap_start_at,
        case when s.is_holiday then least(r.p_active, w.p_active) else r.p_active end as p_active,
        case when r.active_weeks * 2 >= r.weeks then 1 else 0 end
        * case when s.is_holiday then coalesce(w.is_usual, 1) else 1 end as is_usual
    from silent_slots as s
    inner join rhythm as r
        on r.system = s.system
        and r.week_slot = s.week_slot
    left join weekend_rhythm as w
        on w.system = s.system
        and w.hour_of_day = s.hour_of_day
),

silence_odds as (
    select
        system,
        gap_start_at,
        count(*) as covered_hours,
        sum(p_active) as expected_active_hours,
        sum(is_usual) as usual_hours,
        sum(ln(1 - p_active)) as log_chance
    from slot_odds
    group by system, gap_start_at
),

judged_silences as (
    select
        l.*,
        coalesce(o.covered_hours, 0) as covered_hours,
        coalesce(o.expected_active_hours, 0) as expected_active_hours,
        coalesce(o.usual_hours, 0) as usual_hours,
        exp(coalesce(o.log_chance, 0)) as chance,
        y.weeks_observed
    from long_silences as l
    inner join history as y
        on y.system = l.system
    left join silence_odds as o
        on o.system = l.system
        and o.gap_start_at = l.gap_start_at
),

gaps as (
    select *
    from judged_silences
    where chance < $security_audit_gap_max_chance
),

-- Evidence: the events on either side of each silence, looked up by their exact times (a few rows) and days (so the
-- scan of the events reads those days alone).
bound_events as (
    select
        g.system,
        g.gap_start_at,
        e.event_id,
        1 as side
    from gaps as g
    inner join audit_events as e
        on e.event_date = cast(g.gap_start_at as date)
        and e.system = g.system
        and e.occurred_at = g.gap_start_at
    union all
    select
        g.system,
        g.gap_start_at,
        e.event_id,
        2 as side
    from gaps as g
    inner join audit_events as e
        on e.event_date = cast(g.gap_end_at as date)
        and e.system = g.system
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

-- duckdb: printf formats the chance in scientific notation (Spark: format_string).
alarms as (
    select
        'system:' || g.system || '@' || cast(cast(g.gap_start_at as date) as varchar) as resource,
        'alarm' as status,
        'high' as severity,
        g.system || ' logged no audit events for ' || cast(round(g.gap_hours, 1) as varchar) || ' hours, from '
        || cast(g.gap_start_at as varchar) || ' to ' || cast(g.gap_end_at as varchar) || ' UTC'
        || case when g.is_trailing then ' (the end of the audit log: it has not logged since)' else '' end
        || '; over the ' || cast(round(g.weeks_observed, 1) as varchar) || ' weeks observed it logs in '
        || cast(g.usual_hours as varchar) || ' of the ' || cast(g.covered_hours as varchar)
        || ' silent hours of the week at least every other week (' || cast(round(g.expected_active_hours, 1) as varchar)
        || ' active hours expected), so a silence like this has a chance of ' || printf('%.1e', g.chance)
        || ', under ' || cast($security_audit_gap_max_chance as varchar) || ', and it is longer than the '
        || cast($security_audit_gap_hours as varchar) || ' hours allowed.' as reason,
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

system_summary as (
    select
        y.system,
        y.weeks_observed,
        max(s.gap_hours) as longest_hours,
        count(s.gap_hours) as long_silences
    from history as y
    left join long_silences as s
        on s.system = y.system
    group by y.system, y.weeks_observed
),

oks as (
    select
        'system:' || m.system as resource,
        case when m.weeks_observed >= $security_audit_gap_min_weeks then 'ok' else 'info' end as status,
        'info' as severity,
        case
            when m.weeks_observed < $security_audit_gap_min_weeks then
                m.system || ' has ' || cast(round(m.weeks_observed, 1) as varchar)
                || ' weeks of audit history, under the ' || cast($security_audit_gap_min_weeks as varchar)
                || ' needed to learn its weekly rhythm: its silences are not judged yet.'
            when m.long_silences = 0 then
                m.system || ' never fell silent for more than ' || cast($security_audit_gap_hours as varchar)
                || ' hours over ' || cast(round(m.weeks_observed, 1) as varchar) || ' weeks.'
            else
                m.system || ' fell silent for more than ' || cast($security_audit_gap_hours as varchar)
                || ' hours ' || cast(m.long_silences as varchar) || ' times over '
                || cast(round(m.weeks_observed, 1) as varchar) || ' weeks (longest '
                || cast(round(m.longest_hours, 1) as varchar)
                || ' hours), each over hours of the week in which it usually does not log.'
        end as reason,
        cast($as_of as timestamp) as observed_at,
        cast([] as varchar[]) as evidence
    from system_summary as m
    where m.system not in (select g.system from gaps as g)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
