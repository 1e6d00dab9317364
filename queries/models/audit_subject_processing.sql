-- name: audit_subject_processing
-- requires: audit
-- description: Every successful data action on a data subject other than erasing it: a read, search, export, create, update or share naming a subject_id (delete and de-identify are the erasure itself: retention and erasure jobs, not further processing), exports and shares flagged as disclosures. What dsr.processing_after_erasure counts after an erasure, read from the ingest's table of the processing of every subject with a delete request (audit_erasure_subject_days, compliance.ingest.derive).
-- returns: event_id VARCHAR, subject_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, is_disclosure BOOLEAN
with processing as (
    select
        event_id,
        subject_id,
        occurred_at,
        event_date,
        action in ('export', 'share') as is_disclosure
    from audit_events
    where subject_id is not null
      and outcome = 'success'
      and action in ('read', 'search', 'export', 'create', 'update', 'share')
),

final as (
    select * from processing
)

select * from final
