-- name: audit_event_systems
-- requires: audit
-- description: Every audit event up to $as_of with the system it belongs to and the records it touched, as the rule audit_event_system_rule states them. What datamap_observed_vs_declared reads (datamap_matrix reads the rollup audit_system_category_days, and audit_disclosures the disclosures, from the same rule).
-- params: as_of DATE
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          action VARCHAR, outcome VARCHAR, purpose VARCHAR, categories VARCHAR[], categories_key INTEGER,
--          processing_region VARCHAR, recipient VARCHAR, records BIGINT
-- Not stored by a check: only datamap_observed_vs_declared reads it (disclosures come from audit_disclosures), and an
-- event-level model copied into memory is slower than its readers scanning audit_events.
with final as (
    select *
    from audit_event_system_rule
    where event_date <= $as_of
)

select * from final
