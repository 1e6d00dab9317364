-- name: transfer_no_safeguard
-- control: transfer.no_safeguard
-- section: 7
-- severity: high
-- requires: audit
-- description: Successful audit events up to $as_of that touch a subject in a processing region: alarm per subject processed in a region with no lawful transfer mechanism for their jurisdiction; ok per lawful (jurisdiction, region, mechanism); info for subjects of unknown jurisdiction.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with touches as (
    -- A denied or failed attempt processed nothing, so only successful events count.
    select
        e.event_id,
        e.subject_id,
        e.subject_jurisdiction as jurisdiction,
        e.processing_region as region,
        e.occurred_at,
        t.mechanism
    from audit_events as e
    left join ref_transfer_rules as t
        on t.jurisdiction = e.subject_jurisdiction
        and t.region = e.processing_region
    where e.subject_id is not null
      and e.processing_region is not null
      and e.outcome = 'success'
      and e.event_date <= $as_of
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
    where jurisdiction is not null
      and mechanism is null
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

unlawful_ranked as (
    select
        subject_id,
        event_id,
        row_number() over (partition by subject_id order by occurred_at desc, event_id desc) as evidence_rank
    from touches
    where jurisdiction is not null
      and mechanism is null
),

unlawful_evidence as (
    select
        subject_id,
        -- the 20 most recent events: enough to audit the finding
        array_agg(event_id order by evidence_rank) as evidence
    from unlawful_ranked
    where evidence_rank <= 20
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
        'transfer:' || jurisdiction || '/' || region as resource,
        'ok' as status,
        'info' as severity,
        cast(count(*) as varchar) || ' events touching ' || cast(count(distinct subject_id) as varchar) || ' '
        || jurisdiction || ' subjects were processed in ' || region || ' under ' || min(mechanism) || ', from '
        || cast(cast(min(occurred_at) as date) as varchar) || ' to ' || cast(cast(max(occurred_at) as date) as varchar)
        || '.' as reason,
        max(occurred_at) as observed_at,
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from touches
    where mechanism is not null
    group by jurisdiction, region
),

-- info: without a jurisdiction no rule applies, so these transfers cannot be judged either way.
info_rows as (
    select
        'source:audit' as resource,
        'info' as status,
        'info' as severity,
        cast(count(*) as varchar) || ' events touching ' || cast(count(distinct subject_id) as varchar)
        || ' subjects of unknown jurisdiction, from ' || cast(cast(min(occurred_at) as date) as varchar) || ' to '
        || cast(cast(max(occurred_at) as date) as varchar) || ', could not be checked against the transfer rules.'
        as reason,
        max(occurred_at) as observed_at,
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from touches
    where jurisdiction is null
    having count(*) > 0
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
