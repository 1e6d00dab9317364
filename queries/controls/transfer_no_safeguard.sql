-- name: transfer_no_safeguard
-- control: transfer.no_safeguard
-- section: 7
-- severity: high
-- requires: audit
-- description: Successful audit events up to $as_of that touch a subject in a processing region: alarm per subject processed in a region with no lawful transfer mechanism for their jurisdiction; ok per lawful (jurisdiction, region, mechanism); info for subjects of unknown jurisdiction.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- Lawful and unknown-jurisdiction transfers are summarised from the daily rollups of audit events
-- (docs/database.md: events per day, jurisdiction and region, and each subject's first day there). Events (the
-- model audit_transfer_events, which the rollups count) are read only on the days of unlawful pairs, usually
-- none, and on each pair's newest days for its evidence when the rollup does not keep that day's newest events,
-- joined on the day so DuckDB skips the others.
-- Each (jurisdiction, region) transfer up to $as_of, with the lawful mechanism for it (NULL: none). The rules
-- name each (jurisdiction, region) once, so the mechanism is looked up once per pair, here.
with transfer_pairs as (
    select
        d.jurisdiction,
        d.region,
        sum(d.events) as events,
        min(d.first_at) as first_at,
        max(d.last_at) as last_at,
        min(t.mechanism) as mechanism
    from audit_transfer_days as d
    left join ref_transfer_rules as t
        on t.jurisdiction = d.jurisdiction
        and t.region = d.region
    where d.event_date <= $as_of
    group by d.jurisdiction, d.region
),

-- A pair's newest 20 events lie on its newest days: those with fewer than 20 of its events on later days (up to
-- $as_of). The newest 20 of several pairs (the unknown jurisdiction's, over every region) are among theirs.
newest_pair_days as (
    select
        jurisdiction,
        region,
        event_date,
        newest_events
    from (
        select
            jurisdiction,
            region,
            event_date,
            newest_events,
            sum(events) over (
                partition by jurisdiction, region
                order by event_date desc
                rows between unbounded preceding and 1 preceding
            ) as later_events
        from audit_transfer_days
        where event_date <= $as_of
    ) as d
    where coalesce(later_events, 0) < 20
),

transfer_subjects as (
    select
        jurisdiction,
        region,
        subject_id
    from audit_transfer_subjects
    where first_date <= $as_of
),

unlawful_pairs as (
    select
        jurisdiction,
        region
    from transfer_pairs
    where jurisdiction is not null
      and mechanism is null
),

-- The days on which an unlawful pair was processed, from the rollup: its events are read on those days alone. Joined
-- on the day, the scan of the events skips the rest of the table (DuckDB prunes by the few dates; 100M events:
-- 0.03 s instead of 1.8-2.6 s for a join on the pair alone, which read every event touching a subject).
unlawful_days as (
    select distinct
        d.event_date,
        d.jurisdiction,
        d.region
    from audit_transfer_days as d
    inner join unlawful_pairs as p
        on p.jurisdiction = d.jurisdiction
        and p.region = d.region
    where d.event_date <= $as_of
),

-- The events read: those of the unlawful pairs' days, and of the pairs' newest days whose newest events the rollup
-- does not keep, in one read of the model, joined on the day (read twice, the model was materialised whole: 90M
-- events at 100M).
read_days as (
    select
        event_date,
        jurisdiction,
        region
    from unlawful_days

    union

    select
        event_date,
        jurisdiction,
        region
    from newest_pair_days
    where newest_events is null
),

day_events as (
    select
        e.event_id,
        e.subject_id,
        e.jurisdiction,
        e.region,
        e.occurred_at,
        e.event_date
    from read_days as d
    inner join audit_transfer_events as e
        on e.event_date = d.event_date
        and e.jurisdiction is not distinct from d.jurisdiction
        and e.region = d.region
),

-- A day's newest events as the rollup keeps them (a day loaded since the database was built, or a pair's newest
-- day then: compliance.ingest.derive.ROLLUP_NEWEST), else read from the day's events.
kept_newest as (
    select
        jurisdiction,
        region,
        unnest(newest_events) as kept
    from newest_pair_days
    where newest_events is not null
),

transfer_evidence as (
    select
        jurisdiction,
        region,
        kept.occurred_at,
        kept.event_id
    from kept_newest

    union all

    select
        e.jurisdiction,
        e.region,
        e.occurred_at,
        e.event_id
    from newest_pair_days as d
    inner join day_events as e
        on e.event_date = d.event_date
        and e.jurisdiction is not distinct from d.jurisdiction
        and e.region = d.region
    where d.newest_events is null
),

touches as (
    select
        e.event_id,
        e.subject_id,
        e.jurisdiction,
        e.region,
        e.occurred_at
    from unlawful_pairs as p
    inner join day_events as e
        on e.jurisdiction = p.jurisdiction
        and e.region = p.region
),

allowed_regions as (
    select
        jurisdiction,
        string_agg(region || ' (' || mechanism || ')', ', ' order by region) as regions
    from ref_transfer_rules
    group by jurisdiction
),

-- Alarms: one row per subject, listing each unlawful region with its event count.
unlawful_regions as (
    select
        subject_id,
        jurisdiction,
        region,
        count(*) as events,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from touches
    group by subject_id, jurisdiction, region
),

unlawful_subjects as (
    select
        subject_id,
        jurisdiction,
        cast(sum(events) as bigint) as events,
        min(first_at) as first_at,
        max(last_at) as last_at,
        string_agg(region || ' (' || cast(events as varchar) || ' events)', ', ' order by region) as regions
    from unlawful_regions
    group by subject_id, jurisdiction
),

unlawful_evidence as (
    select
        subject_id,
        -- the 20 most recent events: enough to audit the finding. duckdb: max_by(x, y, n) keeps them in one
        -- aggregate pass instead of a window over the events (Spark: a sorted list); ties broken by id.
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from touches
    group by subject_id
),

alarms as (
    select
        'subject:' || s.subject_id as resource,
        'alarm' as status,
        'high' as severity,
        s.jurisdiction || ' subject ' || s.subject_id || ' had data processed in ' || s.regions || ' from '
        || cast(cast(s.first_at as date) as varchar) || ' to ' || cast(cast(s.last_at as date) as varchar)
        || ', with no lawful transfer mechanism for ' || s.jurisdiction || ' there (allowed: '
        || coalesce(a.regions, 'none') || ').' as reason,
        s.last_at as observed_at,
        ev.evidence
    from unlawful_subjects as s
    inner join unlawful_evidence as ev on ev.subject_id = s.subject_id
    left join allowed_regions as a on a.jurisdiction = s.jurisdiction
),

-- ok: one summary per lawful (jurisdiction, region, mechanism), resource `transfer:<jurisdiction>/<region>`.
-- duckdb: max_by(x, y, n) keeps the 20 most recent events in one aggregate pass instead of a window over
-- every lawful event (Spark: a row_number() window); ties broken by id so output is stable.
ok_rows as (
    select
        'transfer:' || d.jurisdiction || '/' || d.region as resource,
        'ok' as status,
        'info' as severity,
        cast(d.events as varchar) || ' events touching ' || cast(s.subjects as varchar) || ' '
        || d.jurisdiction || ' subjects were processed in ' || d.region || ' under ' || d.mechanism || ', from '
        || cast(cast(d.first_at as date) as varchar) || ' to ' || cast(cast(d.last_at as date) as varchar)
        || '.' as reason,
        d.last_at as observed_at,
        ev.evidence
    from transfer_pairs as d
    inner join (
        select
            jurisdiction,
            region,
            count(distinct subject_id) as subjects
        from transfer_subjects
        group by jurisdiction, region
    ) as s
        on s.jurisdiction = d.jurisdiction
        and s.region = d.region
    inner join (
        select
            jurisdiction,
            region,
            max_by(event_id, row(occurred_at, event_id), 20) as evidence
        from transfer_evidence
        group by jurisdiction, region
    ) as ev
        on ev.jurisdiction = d.jurisdiction
        and ev.region = d.region
    where d.mechanism is not null
),

-- info: without a jurisdiction no rule applies, so these transfers cannot be judged either way.
info_rows as (
    select
        'source:audit' as resource,
        'info' as status,
        'info' as severity,
        cast(d.events as varchar) || ' events touching ' || cast(s.subjects as varchar)
        || ' subjects of unknown jurisdiction, from ' || cast(cast(d.first_at as date) as varchar) || ' to '
        || cast(cast(d.last_at as date) as varchar) || ', could not be checked against the transfer rules.'
        as reason,
        d.last_at as observed_at,
        ev.evidence
    from (
        select
            sum(events) as events,
            min(first_at) as first_at,
            max(last_at) as last_at
        from transfer_pairs
        where jurisdiction is null
        having count(*) > 0
    ) as d
    cross join (
        select count(distinct subject_id) as subjects
        from transfer_subjects
        where jurisdiction is null
    ) as s
    cross join (
        select max_by(event_id, row(occurred_at, event_id), 20) as evidence
        from transfer_evidence
        where jurisdiction is null
    ) as ev
),

final as (
    select * from alarms
    union all
    select * from ok_rows
    union all
    select * from info_rows
)

select * from final
order by resource
