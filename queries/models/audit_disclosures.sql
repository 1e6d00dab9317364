-- name: audit_disclosures
-- requires: audit
-- description: Every disclosure, whatever its date: a successful share or export event that names a recipient, with the system it left (audit_event_system_rule: the one that recorded the event, else the one its resource_type belongs to in the data map) and the recipient in lower case (domains are case-insensitive). The one statement of what a disclosure is: disclosure_events bounds it by $as_of and matches each recipient to an approved one, and the daily rollup audit_disclosure_days (compliance.ingest.derive) counts it for the Security page and the data-map reconciliation.
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          recipient VARCHAR, records BIGINT, categories VARCHAR[], categories_key INTEGER
with disclosures as (
    select
        event_id,
        actor_id,
        occurred_at,
        event_date,
        system_id,
        lower(recipient) as recipient,
        records,
        categories,
        categories_key
    from audit_event_system_rule
    where action in ('share', 'export')
      and outcome = 'success'
      and recipient is not null
),

final as (
    select * from disclosures
)

select * from final
