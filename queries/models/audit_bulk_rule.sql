-- name: audit_bulk_rule
-- requires: audit
-- description: Every successful audit event with the bulk rule's two flags: is_bulk, a read, search or export of personal data (an event with data categories), and is_backup, a service account's export to an approved recipient (ref_recipient_aliases), which access.bulk_export counts apart from the records it judges. The one statement of the rule: the actor-day rollup computed at ingest (audit_actor_activity_days' bulk_* columns, compliance.ingest.derive) and access.bulk_export's exact windows read it, and so do the local-time model (audit_local_times: personal-data work at each local hour) and access.off_hours' evidence.
-- returns: event_id VARCHAR, actor_id VARCHAR, actor_type VARCHAR, actor_role VARCHAR, actor_timezone VARCHAR,
--          action VARCHAR, categories VARCHAR[], record_count BIGINT, occurred_at TIMESTAMP, event_date DATE,
--          is_bulk BOOLEAN, is_backup BOOLEAN
select
    event_id,
    actor_id,
    actor_type,
    actor_role,
    actor_timezone,
    action,
    categories,
    record_count,
    occurred_at,
    event_date,
    action in ('export', 'read', 'search') and array_length(categories) > 0 as is_bulk,
    actor_type = 'service'
    and action = 'export'
    and coalesce(recipient in (select a.alias from ref_recipient_aliases as a), false) as is_backup
from audit_events
where outcome = 'success'
