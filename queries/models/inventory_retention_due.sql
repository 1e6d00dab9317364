-- name: inventory_retention_due
-- requires: inventory
-- description: Every inventory record with the retention rule that governs it, the day its retention clock started and its due date (clock + period): the retention chain, stated once for retention.record_past_retention and the retention metrics. The rule depends only on the record's system, store and category, so it is resolved once at ingest (retention_rules_resolved: a category rule covers its descendants, a system or store rule only that system or store; store 3 > system 2 > category 1, then the longest (nearest) category key); the rule columns are NULL when no rule covers the category. A record never active since creation was last active when it was created; clock_date and due_date are NULL while the clock has not started.
-- returns: system VARCHAR, store VARCHAR, record_id VARCHAR, data_category VARCHAR, snapshot_at TIMESTAMP,
--          created_at TIMESTAMP, last_activity_at TIMESTAMP, contract_ended_at TIMESTAMP, deleted_at TIMESTAMP,
--          deidentified_at TIMESTAMP, legal_hold BOOLEAN, rule_category VARCHAR, rule_system VARCHAR,
--          rule_store VARCHAR, period_days BIGINT, clock VARCHAR, grace_days BIGINT, action VARCHAR, basis VARCHAR,
--          clock_date DATE, due_date DATE
with ruled as (
    select
        r.system,
        r.store,
        r.record_id,
        r.data_category,
        r.snapshot_at,
        r.created_at,
        r.last_activity_at,
        r.contract_ended_at,
        r.deleted_at,
        r.deidentified_at,
        coalesce(r.legal_hold, false) as legal_hold,
        u.rule_category,
        u.rule_system,
        u.rule_store,
        u.period_days,
        u.clock,
        u.grace_days,
        u.action,
        u.basis
    from inventory_records as r
    left join retention_rules_resolved as u
        on u.system = r.system
        and u.store = r.store
        and u.data_category = r.data_category
),

clocked as (
    select
        *,
        cast(
            case clock
                when 'created_at' then created_at
                when 'last_activity_at' then coalesce(last_activity_at, created_at)
                when 'contract_ended_at' then contract_ended_at
            end as date
        ) as clock_date
    from ruled
),

final as (
    select
        *,
        date_add(clock_date, cast(period_days as integer)) as due_date
    from clocked
)

select * from final
