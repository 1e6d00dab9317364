-- name: inventory_retention_as_of
-- requires: inventory
-- description: The inventory records that existed on $as_of (created by then) with their retention chain (inventory_retention_due) judged on that day: erasures stamped later had not happened yet, days past the due date, and one retention status, the one definition that retention.record_past_retention alarms on and the retention metrics count. Status in order: no_rule (no rule covers the category), erased (deleted or de-identified by $as_of), clock_not_running, within_retention (at most grace days past due), legal_hold (past grace but on a hold that exempts it when $retention_legal_hold_exempts), past_retention.
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: system VARCHAR, store VARCHAR, record_id VARCHAR, data_category VARCHAR, snapshot_at TIMESTAMP,
--          created_at TIMESTAMP, last_activity_at TIMESTAMP, contract_ended_at TIMESTAMP, deleted_at TIMESTAMP,
--          deidentified_at TIMESTAMP, legal_hold BOOLEAN, rule_category VARCHAR, rule_system VARCHAR,
--          rule_store VARCHAR, period_days BIGINT, clock VARCHAR, grace_days BIGINT, action VARCHAR, basis VARCHAR,
--          clock_date DATE, due_date DATE, deleted_date DATE, deidentified_date DATE, is_erased BOOLEAN,
--          age_days BIGINT, days_past_due BIGINT, retention_status VARCHAR
with records as (
    -- Records created after as_of did not exist yet on that day.
    select
        *,
        case when cast(deleted_at as date) <= $as_of then cast(deleted_at as date) end as deleted_date,
        case when cast(deidentified_at as date) <= $as_of then cast(deidentified_at as date) end as deidentified_date,
        date_diff('day', cast(created_at as date), $as_of) as age_days,
        date_diff('day', due_date, $as_of) as days_past_due
    from inventory_retention_due
    where cast(created_at as date) <= $as_of
),

final as (
    select
        system,
        store,
        record_id,
        data_category,
        snapshot_at,
        created_at,
        last_activity_at,
        contract_ended_at,
        deleted_at,
        deidentified_at,
        legal_hold,
        rule_category,
        rule_system,
        rule_store,
        period_days,
        clock,
        grace_days,
        action,
        basis,
        clock_date,
        due_date,
        deleted_date,
        deidentified_date,
        deleted_date is not null or deidentified_date is not null as is_erased,
        age_days,
        days_past_due,
        case
            when rule_category is null then 'no_rule'
            when deleted_date is not null or deidentified_date is not null then 'erased'
            when clock_date is null then 'clock_not_running'
            when days_past_due <= grace_days then 'within_retention'
            when legal_hold and $retention_legal_hold_exempts then 'legal_hold'
            else 'past_retention'
        end as retention_status
    from records
)

select * from final
