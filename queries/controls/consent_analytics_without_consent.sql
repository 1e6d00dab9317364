-- name: consent_analytics_without_consent
-- control: consent.analytics_without_consent
-- section: 4
-- severity: high
-- requires: usage
-- description: Usage (analytics) events up to $as_of of subjects whose jurisdiction makes analytics consent-based: alarm per subject without consent (refused: high, unknown: medium); ok per consent-based jurisdiction; info for subjects of unknown jurisdiction.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with consent_jurisdictions as (
    -- Where the data map's legal basis for analytics reporting is consent (GDPR: EU, UK).
    select distinct jurisdiction
    from ref_data_uses
    where system_id = 'analytics'
      and data_use = 'analytics.reporting'
      and legal_basis = 'consent'
),

events as (
    select
        u.event_id,
        u.user_id as subject_id,
        u.subject_jurisdiction as jurisdiction,
        u.occurred_at,
        -- NULL (empty in the export) means the consent state is unknown, which is not consent
        u.consent_analytics,
        coalesce(not u.consent_analytics, true) as without_consent,
        j.jurisdiction is not null as needs_consent
    from usage_events as u
    left join consent_jurisdictions as j on j.jurisdiction = u.subject_jurisdiction
    where cast(u.occurred_at as date) <= $as_of
),

alarms as (
    select
        'subject:' || subject_id as resource,
        'alarm' as status,
        case when count(case when not consent_analytics then 1 end) > 0 then 'high' else 'medium' end as severity,
        'Subject ' || subject_id || ' (' || min(jurisdiction) || ', where analytics needs consent) has '
        || cast(count(*) as varchar) || ' analytics events from ' || cast(cast(min(occurred_at) as date) as varchar)
        || ' to ' || cast(cast(max(occurred_at) as date) as varchar) || ' without consent: '
        || cast(count(case when not consent_analytics then 1 end) as varchar) || ' with consent refused, '
        || cast(count(case when consent_analytics is null then 1 end) as varchar) || ' with consent unknown.' as reason,
        max(occurred_at) as observed_at,
        -- the 20 most recent events: enough to audit the finding. duckdb: max_by(x, y, n) keeps them in the same
        -- aggregate pass instead of a window over the events (Spark: a sorted list); ties broken by id.
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from events
    where needs_consent
      and without_consent
    group by subject_id
),

-- ok: one summary per consent-based jurisdiction (a handful of rows, not one per subject).
ok_rows as (
    select
        'jurisdiction:' || jurisdiction as resource,
        'ok' as status,
        'info' as severity,
        cast(count(*) as varchar) || ' analytics events of ' || cast(count(distinct subject_id) as varchar) || ' '
        || jurisdiction || ' subjects from ' || cast(cast(min(occurred_at) as date) as varchar) || ' to '
        || cast(cast(max(occurred_at) as date) as varchar) || ' carry analytics consent.' as reason,
        max(occurred_at) as observed_at,
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from events
    where needs_consent
      and consent_analytics
    group by jurisdiction
),

-- info: events without consent whose subject's jurisdiction is unknown cannot be judged either way.
info_rows as (
    select
        'source:usage' as resource,
        'info' as status,
        'info' as severity,
        cast(count(*) as varchar) || ' analytics events without consent of ' || cast(count(distinct subject_id) as varchar)
        || ' subjects of unknown jurisdiction, from ' || cast(cast(min(occurred_at) as date) as varchar) || ' to '
        || cast(cast(max(occurred_at) as date) as varchar)
        || ', could not be assessed: consent may have been required.' as reason,
        max(occurred_at) as observed_at,
        max_by(event_id, row(occurred_at, event_id), 20) as evidence
    from events
    where jurisdiction is null
      and without_consent
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
