-- name: retention_log_past_retention
-- control: retention.log_past_retention
-- section: 6
-- severity: medium
-- requires: audit
-- description: One row per log source (audit, usage, diagnostic): alarm when the export still holds lines older than the source's retention period plus grace as of $as_of, with the count, the oldest line and up to 20 of the oldest ids.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Requires only audit (the one mandatory export); usage and diagnostic are judged on their own, and
-- one that was not exported is a `skip` row here.
-- A line is expired when it is older than its source's retention plus grace: stamped before expired_before.
with limits as (
    select
        source,
        period_days,
        grace_days,
        date_add($as_of, -cast(period_days + grace_days as integer)) as expired_before
    from ref_log_retention
),

-- Lines per source and UTC day, as counted at ingest (audit_system_hours, usage_event_days and
-- diagnostic_service_days), not read one by one (100M events: 2.4 s to scan every audit event, 0.7 s for the time
-- of every usage and diagnostic line).
source_days as (
    select 'audit' as source, event_date, sum(events) as lines, min(first_at) as oldest_at
    from audit_system_hours
    where event_date <= $as_of
    group by event_date
    union all
    select 'usage' as source, event_date, lines, first_at as oldest_at
    from usage_event_days
    where event_date <= $as_of
    union all
    select 'diagnostic' as source, event_date, sum(lines) as lines, min(first_at) as oldest_at
    from diagnostic_service_days
    where event_date <= $as_of
    group by event_date
),

aged_days as (
    select
        d.source,
        d.event_date,
        d.lines,
        d.oldest_at,
        case when d.event_date < l.expired_before then d.lines else 0 end as expired
    from source_days as d
    inner join limits as l on l.source = d.source
),

per_source_counts as (
    select
        source,
        sum(lines) as line_count,
        min(oldest_at) as oldest_at,
        sum(expired) as expired_count
    from aged_days
    group by source
),

-- A source's 20 oldest expired lines are on its expired days up to the first at which 20 have expired (every
-- expired day when fewer have): only those days' lines are read, a range of dates DuckDB applies inside the scan.
evidence_days as (
    select
        l.source,
        l.expired_before,
        min(r.event_date) filter (where r.expired_so_far >= 20) as last_needed
    from limits as l
    inner join (
        select
            source,
            event_date,
            sum(expired) over (
                partition by source order by event_date rows between unbounded preceding and current row
            ) as expired_so_far
        from aged_days
        where expired > 0
    ) as r on r.source = l.source
    group by l.source, l.expired_before
),

-- The lines stamped before the day after the last evidence day (an expired day, so never after expired_before),
-- as a date for audit events and an instant for the others, so the range reaches the scan.
evidence_ranges as (
    select
        source,
        coalesce(date_add(last_needed, 1), expired_before) as read_before,
        cast(coalesce(date_add(last_needed, 1), expired_before) as timestamp) as read_before_at
    from evidence_days
),

expired_lines as (
    select 'audit' as source, e.event_id as line_id, e.occurred_at
    from audit_events as e
    inner join evidence_ranges as r on r.source = 'audit'
    where e.event_date < r.read_before
    union all
    select 'usage' as source, u.event_id as line_id, u.occurred_at
    from usage_events as u
    inner join evidence_ranges as r on r.source = 'usage'
    where u.occurred_at < r.read_before_at
    union all
    select 'diagnostic' as source, g.line_id, g.occurred_at
    from diagnostic_logs as g
    inner join evidence_ranges as r on r.source = 'diagnostic'
    where g.occurred_at < r.read_before_at
),

oldest_expired as (
    select
        source,
        -- duckdb: min_by(x, y, n) keeps the 20 oldest expired lines in one pass (a top-N, much cheaper than ranking
        -- millions; Spark: a sorted list); ties broken by id so output is stable.
        min_by(line_id, row(occurred_at, line_id), 20) as line_ids
    from expired_lines
    group by source
),

per_source as (
    select
        c.source,
        c.line_count,
        c.oldest_at,
        c.expired_count,
        o.line_ids
    from per_source_counts as c
    left join oldest_expired as o on o.source = c.source
),

assessed as (
    select
        p.source,
        p.period_days,
        p.grace_days,
        coalesce(s.line_count, 0) as line_count,
        coalesce(s.expired_count, 0) as expired_count,
        s.oldest_at,
        date_diff('day', cast(s.oldest_at as date), $as_of) as oldest_age_days,
        date_diff('day', cast(s.oldest_at as date), $as_of) - p.period_days - p.grace_days as days_beyond_limit,
        date_add(cast(s.oldest_at as date), cast(p.period_days as integer)) as oldest_due_date,
        s.line_ids
    from ref_log_retention as p
    left join per_source as s on s.source = p.source
),

final as (
    select
        'source:' || source as resource,
        case
            when line_count = 0 then 'skip'
            when expired_count > 0 then 'alarm'
            else 'ok'
        end as status,
        case
            when expired_count > 0 and days_beyond_limit > 30 then 'high'
            when expired_count > 0 then 'medium'
            else 'info'
        end as severity,
        case
            -- An optional source that was not exported has no lines: nothing to examine.
            when line_count = 0 then
                'No ' || source || ' lines up to ' || cast($as_of as varchar)
                || ' were loaded, so retention.log_past_retention had nothing to examine for this source.'
            when expired_count > 0 then
                'The ' || source || ' export still holds ' || cast(expired_count as varchar) || ' of '
                || cast(line_count as varchar) || ' lines older than the ' || cast(period_days as varchar)
                || '-day retention plus ' || cast(grace_days as varchar) || ' days grace as of ' || cast($as_of as varchar)
                || '; the oldest, from ' || cast(oldest_at as varchar) || ', is ' || cast(oldest_age_days as varchar)
                || ' days old'
                || case
                    when days_beyond_limit > 30 then ' (high: over 30 days beyond the limit).'
                    else ' (medium: within 30 days beyond the limit).'
                end
            else
                'The ' || source || ' export holds ' || cast(line_count as varchar) || ' lines, the oldest from '
                || cast(oldest_at as varchar) || ' (' || cast(oldest_age_days as varchar) || ' days old), within the '
                || cast(period_days as varchar) || '-day retention plus ' || cast(grace_days as varchar)
                || ' days grace as of ' || cast($as_of as varchar) || '.'
        end as reason,
        -- When the oldest line was (or will be) due for removal.
        cast(oldest_due_date as timestamp) as observed_at,
        coalesce(line_ids, cast([] as varchar[])) as evidence
    from assessed
)

select * from final
order by resource
