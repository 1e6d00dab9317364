-- name: audit_data_actions
-- requires: audit
-- description: Every successful personal-data action (a read, search, export, create, update, delete, deidentify or share of an event with at least one data category; a denied or failed attempt used no data) under the role it is judged by: the actor's role at event time, or customer_user for a customer user whose enrichment left it empty. The one statement of access.out_of_role's rule: the actor-day rollup computed at ingest (audit_role_action_days, compliance.ingest.derive) and the control's evidence read it.
-- returns: event_id VARCHAR, actor_id VARCHAR, actor_role VARCHAR, action VARCHAR, categories_key INTEGER,
--          records BIGINT, occurred_at TIMESTAMP, event_date DATE
select
    event_id,
    actor_id,
    -- customer users act under the customer_user role even when the enrichment left it empty
    coalesce(actor_role, case when actor_type = 'customer_user' then 'customer_user' end) as actor_role,
    action,
    categories_key,
    coalesce(record_count, 1) as records,
    occurred_at,
    event_date
from audit_events
where action in ('read', 'search', 'export', 'create', 'update', 'delete', 'deidentify', 'share')
  and outcome = 'success'
  -- an event with no category (an empty list) used no personal data
  and categories_key in (select p.categories_key from personal_category_lists as p)
