-- name: dsr_extension_practice
-- requires: dsr
-- description: Per jurisdiction, requests received by $as_of, each as it stood at the end of $as_of (dsr_requests_as_of): how many have a deadline rule, how many of those the rule lets be extended, extensions notified by then (valid: by the original due date with reasons; late: after it; not allowed: under a rule without extensions; without reasons: void), closed requests that used a valid extension (closed after the original due date, by the extended one), and the distinct reasons given.
-- params: as_of DATE, dsr_due_soon_days INTEGER
-- returns: jurisdiction VARCHAR, requests BIGINT, with_deadline BIGINT, extendable BIGINT, extensions_notified BIGINT,
--          extensions_valid BIGINT, extensions_late BIGINT, extensions_not_allowed BIGINT, extensions_without_reasons BIGINT,
--          closed_within_extension BIGINT, reasons VARCHAR
-- Each request as it stood at the end of $as_of: dsr_requests_as_of.
with requests as (
    select
        jurisdiction,
        rule_id,
        extension_allowed,
        extension_status,
        due_date,
        extended_due_date,
        closed_date,
        -- the reasons of notices given by $as_of only
        case when extension_status <> 'none' then extension_reason end as extension_reason
    from dsr_requests_as_of
),

final as (
    select
        jurisdiction,
        count(*) as requests,
        count(rule_id) as with_deadline,
        count(case when rule_id is not null and extension_allowed then 1 end) as extendable,
        count(case when extension_status <> 'none' then 1 end) as extensions_notified,
        count(case when extension_status = 'valid' then 1 end) as extensions_valid,
        count(case when extension_status = 'late' then 1 end) as extensions_late,
        count(case when extension_status = 'not_allowed' then 1 end) as extensions_not_allowed,
        count(case when extension_status = 'no_reasons' then 1 end) as extensions_without_reasons,
        count(
            case
                when extension_status = 'valid'
                    and closed_date <= $as_of
                    and closed_date > due_date
                    and closed_date <= extended_due_date
                    then 1
            end
        ) as closed_within_extension,
        string_agg(distinct extension_reason, '; ' order by extension_reason) as reasons
    from requests
    group by jurisdiction
)

select * from final
order by jurisdiction
