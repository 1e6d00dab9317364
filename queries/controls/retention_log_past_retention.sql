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

-- Audit lines are counted from the hours ingest counts them in (audit_system_hours, every event by its UTC day), not
-- read one by one (100M events: 2.4 s for the scan of every event); usage and diagnostic lines are read.
audit_limit as (
    select expired_before
    from limits
    where source = 'audit'
),

audit_days as (
    select
        h.event_date,
        sum(h.events) as lines,
        min(h.first_at) as oldest_at,
        sum(case when h.event_date < l.expired_before then h.events else 0 end) as expired
    from audit_system_hours as h
    cross join audit_limit as l
    where h.event_date <= $as_of
    group by h.event_date
),

-- The 20 oldest expired audit lines are among the expired days up to the first at which 20 have expired: only
-- those days' events are read (a range of dates, which DuckDB applies inside the scan).
audit_evidence_days as (
    select min(event_date) as last_needed
    from (
        select
            event_date,
            sum(expired) over (order by event_date rows between unbounded preceding and current row) as expired_so_far
        from audit_days
        where expired > 0
    ) as running
    where expired_so_far >= 20
),

audit_oldest as (
    select
        -- duckdb: min_by(x, y, n) keeps the 20 oldest expired lines in one pass (Spark: a sorted list); ties broken
        -- by id so output is stable.
        min_by(e.event_id, row(e.occurred_at, e.event_id), 20) as line_ids
    from audit_events as e
    cross join audit_limit as l
    cross join audit_evidence_days as d
    where e.event_date < l.expired_before
      and (d.last_needed is null or e.event_date <= d.last_needed)
),

lines as (
    -- Lines stamped after as_of did not exist yet on that day.
    select 'usage' as source, event_id as line_id, occurred_at from usage_events
    where cast(occurred_at as date) <= $as_of
    union all
    select 'diagnostic' as source, line_id, occurred_at from diagnostic_logs
    where cast(occurred_at as date) <= $as_of
),

aged as (
    select
        l.source,
        l.line_id,
        l.occurred_at,
        cast(l.occurred_at as date) < p.expired_before as is_expired
    from lines as l
    inner join limits as p on p.source = l.source
),

per_source as (
    select
        source,
        count(*) as line_count,
        min(occurred_at) as oldest_at,
        sum(case when is_expired then 1 else 0 end) as expired_count,
        -- duckdb: min_by(x, y, n) keeps the 20 oldest expired lines in the same pass (a top-N, much cheaper than
        -- ranking millions; Spark: a sorted list); ties broken by id so output is stable.
        min_by(line_id, row(occurred_at, line_id), 20) filter (where is_expired) as line_ids
    from aged
    group by source
    union all
    select
        'audit' as source,
        d.line_count,
        d.oldest_at,
        d.expired_count,
        o.line_ids
    from (
        select
            sum(lines) as line_count,
            min(oldest_at) as oldest_at,
            sum(expired) as expired_count
        from audit_days
    ) as d
    cross join audit_oldest as o
    where d.line_count > 0
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
