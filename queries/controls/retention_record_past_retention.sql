-- name: retention_record_past_retention
-- control: retention.record_past_retention
-- section: 6
-- severity: high
-- requires: inventory
-- description: One row per inventory record held as of $as_of: alarm when it is past its retention rule's due date plus grace and neither deleted nor de-identified (legal hold -> info), or when no retention rule covers its category.
-- params: as_of DATE, retention_legal_hold_exempts BOOLEAN
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The records held on $as_of with their governing rule, due date and retention status: inventory_retention_as_of.
-- duckdb: concat() writes each text in one allocation, where a chain of || copies it once per part (about twice
-- the cost over 100k records); every part is either a required column or non-NULL in the branch that uses it
-- (sqlglot writes Spark's concat with each part coalesced to '', the same text).
with assessed as (
    select
        *,
        concat(system, '/', store, '/', record_id) as record_key,
        -- e.g. "user.name (system billing): 2555 days from created_at"
        concat(
            rule_category,
            case
                when rule_store is not null then concat(' (store ', rule_system || '/', rule_store, ')')
                when rule_system is not null then concat(' (system ', rule_system, ')')
                else ''
            end,
            ': ', cast(period_days as varchar), ' days from ', clock
        ) as rule_text
    from inventory_retention_as_of
),

classified as (
    select
        *,
        retention_status as finding,
        concat('Record ', record_key, ' (', data_category, ')') as record_text,
        concat(
            'rule ', rule_text, ' ', cast(clock_date as varchar),
            case when clock = 'last_activity_at' and last_activity_at is null then ' (creation, no activity since)' else '' end,
            ', grace ', cast(grace_days as varchar), ' days, then ', action
        ) as dated_rule_text
    from assessed
),

final as (
    select
        concat('record:', record_key) as resource,
        case
            when finding in ('no_rule', 'past_retention') then 'alarm'
            when finding = 'legal_hold' then 'info'
            else 'ok'
        end as status,
        case
            when finding = 'no_rule' then 'medium'
            when finding = 'past_retention' and days_past_due - grace_days > 30 then 'critical'
            when finding = 'past_retention' then 'high'
            else 'info'
        end as severity,
        case finding
            when 'no_rule' then
                concat(
                    record_text, ': no retention rule covers category ', data_category,
                    ', so nothing limits how long it is kept (medium: a gap in the schedule, not a proven overstay).'
                )
            when 'past_retention' then
                concat(
                    record_text, ' is ', cast(days_past_due as varchar), ' days past its retention due date ',
                    cast(due_date as varchar), ' as of ', cast($as_of as varchar),
                    ' and neither deleted nor de-identified',
                    case when legal_hold then ' (its legal hold does not exempt it under the settings)' else '' end,
                    '; ', dated_rule_text,
                    case
                        when days_past_due - grace_days > 30 then '; critical: over 30 days beyond the grace.'
                        else '; high: within 30 days beyond the grace.'
                    end
                )
            when 'legal_hold' then
                concat(
                    record_text, ' is ', cast(days_past_due as varchar), ' days past its retention due date ',
                    cast(due_date as varchar), ' as of ', cast($as_of as varchar),
                    ' but on legal hold, which exempts it; ', dated_rule_text, '.'
                )
            when 'erased' then
                concat(
                    record_text, ' was ',
                    case
                        when deleted_date is not null then concat('deleted ', cast(deleted_date as varchar))
                        else concat('de-identified ', cast(deidentified_date as varchar))
                    end,
                    '; rule ', rule_text, ', then ', action, '.'
                )
            when 'clock_not_running' then
                concat(
                    record_text, ': its retention clock (', clock, ') has not started, so nothing is due yet; rule ',
                    rule_text, ', then ', action, '.'
                )
            else
                concat(
                    record_text, ' is within retention as of ', cast($as_of as varchar), ': due ',
                    cast(due_date as varchar),
                    case
                        when days_past_due > 0 then
                            concat(', ', cast(days_past_due as varchar), ' days ago but within the grace')
                        else concat(', ', cast(-days_past_due as varchar), ' days to go')
                    end,
                    '; ', dated_rule_text, '.'
                )
        end as reason,
        coalesce(cast(due_date as timestamp), snapshot_at) as observed_at,
        [record_key] as evidence
    from classified
)

select * from final
order by resource
