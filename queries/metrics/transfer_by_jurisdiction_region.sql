-- name: transfer_by_jurisdiction_region
-- requires: audit
-- description: Successful audit events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), that touch a subject in a processing region, per subject jurisdiction and region: the transfer mechanism transfers.yaml gives (NULL = none, so unlawful, as transfer.no_safeguard judges), events and distinct subjects. Subjects of unknown jurisdiction count under 'unknown'.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: jurisdiction VARCHAR, region VARCHAR, region_country VARCHAR, mechanism VARCHAR, lawful BOOLEAN,
--          events BIGINT, subjects BIGINT
-- The audit events in the page's date window: metric_audit_window.
-- The window's events from their daily rollup (the same events: successful, naming a subject and a region).
with day_events as (
    select
        jurisdiction as subject_jurisdiction,
        region as processing_region,
        cast(sum(events) as bigint) as events
    from audit_transfer_days
    where event_date <= $as_of
      and ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
    group by jurisdiction, region
),

-- Distinct subjects. A window open at its start holds every subject whose first day there falls by its end
-- (the ingest-time audit_transfer_subjects); a window from a start date counts its own events' subjects (the
-- events are read only then: the other branch's condition is false).
subjects_to_end as (
    select
        jurisdiction as subject_jurisdiction,
        region as processing_region,
        count(*) as subjects
    from audit_transfer_subjects
    where $start_date is null
      and first_date <= $as_of
      and ($end_date is null or first_date <= $end_date)
    group by jurisdiction, region
),

subjects_from_start as (
    select
        subject_jurisdiction,
        processing_region,
        count(distinct subject_id) as subjects
    from metric_audit_window
    where $start_date is not null
      and subject_id is not null
      and processing_region is not null
      and outcome = 'success'
    group by subject_jurisdiction, processing_region
),

counted as (
    select
        e.subject_jurisdiction,
        e.processing_region,
        e.events,
        coalesce(t.subjects, s.subjects) as subjects
    from day_events as e
    left join subjects_to_end as t
        on t.subject_jurisdiction is not distinct from e.subject_jurisdiction
        and t.processing_region = e.processing_region
    left join subjects_from_start as s
        on s.subject_jurisdiction is not distinct from e.subject_jurisdiction
        and s.processing_region = e.processing_region
),

final as (
    select
        coalesce(c.subject_jurisdiction, 'unknown') as jurisdiction,
        c.processing_region as region,
        g.country as region_country,
        t.mechanism,
        -- an unknown jurisdiction cannot be judged (the control reports it as info)
        case when c.subject_jurisdiction is not null then t.mechanism is not null end as lawful,
        c.events,
        c.subjects
    from counted as c
    left join ref_transfer_rules as t
        on t.jurisdiction = c.subject_jurisdiction
        and t.region = c.processing_region
    left join ref_regions as g on g.region = c.processing_region
)

select * from final
order by jurisdiction, region
