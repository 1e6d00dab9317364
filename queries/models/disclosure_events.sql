-- name: disclosure_events
-- requires: audit
-- description: Every disclosure up to $as_of (audit_disclosures: a successful share or export event that names a recipient, with the system it left and the recipient in lower case) with the approved recipient it matches (disclosure_recipients; NULL = not an approved recipient). What disclosure.unapproved_recipient takes its evidence from; disclosure_by_recipient and datamap_observed_vs_declared count the same disclosures from their daily rollup.
-- params: as_of DATE
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          recipient VARCHAR, records BIGINT, categories VARCHAR[], categories_key INTEGER, recipient_id VARCHAR
-- A left join: a recipient the rollup lacks (it never should) is judged not approved, never dropped.
with final as (
    select
        d.*,
        m.recipient_id
    from audit_disclosures as d
    left join disclosure_recipients as m on m.recipient = d.recipient
    where d.event_date <= $as_of
)

select * from final
