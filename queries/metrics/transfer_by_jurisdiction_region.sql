-- name: transfer_by_jurisdiction_region
-- requires: audit
-- description: Successful audit events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), that touch a subject in a processing region, per subject jurisdiction and region: the transfer mechanism transfers.yaml gives (NULL = none, so unlawful, as transfer.no_safeguard judges), events and distinct subjects. Subjects of unknown jurisdiction count under 'unknown'.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: jurisdiction VARCHAR, region VARCHAR, region_country VARCHAR, mechanism VARCHAR, lawful BOOLEAN,
--          events BIGINT, subjects BIGINT
-- The audit events in the page's date window: metric_audit_window.
with touches as (
    select
        subject_id,
        subject_jurisdiction,
        processing_region
    from metric_audit_window
    where subject_id is not null
      and processing_region is not null
      and outcome = 'success'
),

counted as (
    select
        subject_jurisdiction,
        processing_region,
        count(*) as events,
        count(distinct subject_id) as subjects
    from touches
    group by subject_jurisdiction, processing_region
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
