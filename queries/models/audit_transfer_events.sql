-- name: audit_transfer_events
-- requires: audit
-- description: The successful audit events that touch a subject in a processing region (a denied or failed attempt processed nothing), with the subject's jurisdiction (NULL: unknown) and the region: the events the daily rollup audit_transfer_days counts and audit_transfer_subjects dates (compliance.ingest.derive), and those transfer.no_safeguard reads, on the days it needs.
-- returns: event_date DATE, jurisdiction VARCHAR, region VARCHAR, subject_id VARCHAR, occurred_at TIMESTAMP,
--          event_id VARCHAR
with transfer_events as (
    select
        event_date,
        subject_jurisdiction as jurisdiction,
        processing_region as region,
        subject_id,
        occurred_at,
        event_id
    from audit_events
    where subject_id is not null
      and processing_region is not null
      and outcome = 'success'
),

final as (
    select * from transfer_events
)

select * from final
