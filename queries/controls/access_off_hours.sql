-- name: access_off_hours
-- control: access.off_hours
-- section: 5
-- severity: medium
-- requires: audit
-- description: Local hours outside business hours in which a person read, searched or exported many personal-data records at an hour unusual for them; one ok row per person otherwise.
-- params: as_of DATE, off_hours_min_records INTEGER, off_hours_usual_hour_share DOUBLE, off_hours_baseline_days INTEGER,
--         business_hours_start_hour INTEGER, business_hours_end_hour INTEGER, business_hours_weekdays INTEGER[]
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- A person's "usual" hours come from all their successful events (a night-shift engineer who logs in at 02:00
-- every night works at 02:00); the alarm itself needs personal-data reads, searches or exports.
--
-- duckdb: AT TIME ZONE on a TIMESTAMP (no zone) column. `occurred_at at time zone 'UTC'` reads the stored UTC
-- wall time as an instant, and `instant at time zone tz` gives the wall time in tz (Spark:
-- from_utc_timestamp(occurred_at, tz)). This is the only place the local time is computed.
with local_events as (
    select
        actor_id,
        occurred_at,
        coalesce(actor_timezone, 'UTC') as actor_timezone,
        action in ('read', 'search', 'export') and array_length(categories) > 0 as is_data,
        action = 'export' as is_export,
        coalesce(record_count, 1) as records,
        date_trunc('hour', (occurred_at at time zone 'UTC') at time zone coalesce(actor_timezone, 'UTC')) as local_hour
    from audit_events
    where actor_type in ('employee', 'contractor')
      and outcome = 'success'
      and event_date <= $as_of
),

-- One row per person and local clock hour (tens of thousands of rows, not millions).
actor_hours as (
    select
        actor_id,
        local_hour,
        cast(local_hour as date) as local_date,
        hour(local_hour) as local_hod,
        isodow(local_hour) as local_dow,
        max(actor_timezone) as actor_timezone,
        count(*) as events,
        sum(case when is_data then 1 else 0 end) as data_events,
        sum(case when is_data then records else 0 end) as data_records,
        sum(case when is_data and is_export then 1 else 0 end) as exports,
        min(case when is_data then occurred_at end) as data_first_at,
        max(case when is_data then occurred_at end) as data_last_at
    from local_events
    group by actor_id, local_hour
),

-- Big enough and outside business hours in the person's own time zone (end hour exclusive: 19 means until 19:00).
candidates as (
    select
        *,
        date_add(local_date, -$off_hours_baseline_days) as baseline_start
    from actor_hours
    where data_records >= $off_hours_min_records
      and (
          not list_contains($business_hours_weekdays, local_dow)
          or local_hod < $business_hours_start_hour
          or local_hod >= $business_hours_end_hour
      )
),

-- The person's own activity over the previous baseline days (by local date), and the part of it in the same
-- clock hour. Joined only for the few candidate hours.
baseline as (
    select
        c.actor_id,
        c.local_hour,
        sum(b.events) as base_events,
        sum(case when b.local_hod = c.local_hod then b.events else 0 end) as base_hour_events
    from candidates as c
    inner join actor_hours as b
        on b.actor_id = c.actor_id
        and b.local_date >= c.baseline_start
        and b.local_date < c.local_date
    group by c.actor_id, c.local_hour
),

-- No baseline at all (a new account) makes every hour unusual: share 0.
flagged as (
    select
        c.*,
        coalesce(b.base_events, 0) as base_events,
        coalesce(cast(b.base_hour_events as double) / b.base_events, 0) as usual_share,
        cast(c.data_first_at as date) as event_date
    from candidates as c
    left join baseline as b
        on b.actor_id = c.actor_id
        and b.local_hour = c.local_hour
    where coalesce(cast(b.base_hour_events as double) / b.base_events, 0) < $off_hours_usual_hour_share
),

-- One alarm per person and UTC day, however many of its hours were flagged.
flagged_days as (
    select
        actor_id,
        event_date,
        max(actor_timezone) as actor_timezone,
        sum(data_records) as data_records,
        sum(data_events) as data_events,
        sum(exports) as exports,
        max(data_last_at) as last_at,
        string_agg(
            case local_dow
                when 1 then 'Mon' when 2 then 'Tue' when 3 then 'Wed' when 4 then 'Thu'
                when 5 then 'Fri' when 6 then 'Sat' else 'Sun'
            end
            || ' ' || cast(local_date as varchar) || ' ' || lpad(cast(local_hod as varchar), 2, '0') || ':00 local ('
            || cast(data_records as varchar) || ' records; '
            || cast(round(100 * usual_share, 1) as varchar) || '% of their '
            || cast(base_events as varchar) || ' events in the previous '
            || cast($off_hours_baseline_days as varchar) || ' days fell in that hour)',
            ', '
            order by local_hour
        ) as hours_text
    from flagged
    group by actor_id, event_date
),

-- Evidence: the flagged hours' personal-data events, found by their UTC span (no second time zone conversion).
flagged_events as (
    select
        f.actor_id,
        f.event_date,
        e.event_id,
        row_number() over (
            partition by f.actor_id, f.event_date
            order by e.record_count desc, e.occurred_at, e.event_id
        ) as rn
    from flagged as f
    inner join audit_events as e
        on e.actor_id = f.actor_id
        and e.occurred_at >= f.data_first_at
        and e.occurred_at <= f.data_last_at
    where e.outcome = 'success'
      and e.action in ('read', 'search', 'export')
      and array_length(e.categories) > 0
),

evidence as (
    select
        actor_id,
        event_date,
        array_agg(event_id order by rn) as event_ids
    from flagged_events
    where rn <= 50
    group by actor_id, event_date
),

actor_summary as (
    select
        actor_id,
        max(actor_timezone) as actor_timezone,
        count(distinct case when data_events > 0 then local_date end) as data_days,
        sum(data_events) as data_events,
        sum(
            case
                when data_events > 0
                    and (
                        not list_contains($business_hours_weekdays, local_dow)
                        or local_hod < $business_hours_start_hour
                        or local_hod >= $business_hours_end_hour
                    )
                    then 1
                else 0
            end
        ) as off_hours_hours,
        max(data_last_at) as last_at
    from actor_hours
    group by actor_id
    having sum(data_events) > 0
),

business_hours as (
    select
        'business hours ' || lpad(cast($business_hours_start_hour as varchar), 2, '0') || ':00-'
        || lpad(cast($business_hours_end_hour as varchar), 2, '0') || ':00 on ISO weekdays '
        || cast($business_hours_weekdays as varchar) as text
),

alarms as (
    select
        'actor:' || d.actor_id || '@' || cast(d.event_date as varchar) as resource,
        'alarm' as status,
        case when d.exports > 0 then 'high' else 'medium' end as severity,
        d.actor_id || ' (' || d.actor_timezone || ') read, searched or exported '
        || cast(d.data_records as varchar) || ' personal-data records in '
        || cast(d.data_events as varchar) || case when d.data_events = 1 then ' event' else ' events' end
        || case
            when d.exports > 0 then
                ' (' || cast(d.exports as varchar) || case when d.exports = 1 then ' export)' else ' exports)' end
            else ''
        end
        || ' outside ' || h.text || ', at hours unusual for them: ' || d.hours_text
        || '; alarm at >= ' || cast($off_hours_min_records as varchar) || ' records in an hour holding under '
        || cast(round(100 * $off_hours_usual_hour_share, 1) as varchar) || '% of their usual activity.' as reason,
        d.last_at as observed_at,
        v.event_ids as evidence
    from flagged_days as d
    cross join business_hours as h
    left join evidence as v
        on v.actor_id = d.actor_id
        and v.event_date = d.event_date
),

oks as (
    select
        'actor:' || a.actor_id as resource,
        'ok' as status,
        'info' as severity,
        a.actor_id || ' (' || a.actor_timezone || '): ' || cast(a.data_events as varchar)
        || ' personal-data read, search or export events on ' || cast(a.data_days as varchar) || ' local days; '
        || cast(a.off_hours_hours as varchar) || ' clock hours with such events fell outside ' || h.text
        || '; none reached ' || cast($off_hours_min_records as varchar)
        || ' records at an hour unusual for them.' as reason,
        a.last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary as a
    cross join business_hours as h
    where a.actor_id not in (select f.actor_id from flagged_days as f)
),

final as (
    select
        'access.off_hours' as control_id,
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
        'access.off_hours' as control_id,
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
