-- name: retention_schedule_by_store
-- description: The retention schedule by store as of $as_of: one row per system x store x data category that the data map declares or the inventory holds, with the rule that governs it, where that rule comes from, and the records held, erased, past retention plus grace, and past it but exempt under legal hold (the model retention_entries_as_of, in key order).
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: system VARCHAR, store VARCHAR, data_category VARCHAR, declared BOOLEAN, policy_sections VARCHAR,
--          rule_category VARCHAR, rule_scope VARCHAR, period_days BIGINT, clock VARCHAR, grace_days BIGINT,
--          action VARCHAR, basis VARCHAR, records BIGINT, held BIGINT, erased BIGINT, past_retention BIGINT,
--          legal_hold_exempt BIGINT
-- The schedule is the model retention_entries_as_of, which datamap_matrix reads too.
with final as (
    select * from retention_entries_as_of
)

select * from final
order by system, store, data_category
