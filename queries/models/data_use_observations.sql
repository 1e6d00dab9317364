-- name: data_use_observations
-- requires: audit
-- description: The purposes successful data actions declared up to $as_of, one row per system and purpose (the system that recorded the event, else the one its resource_type belongs to in the data map; a denied or failed attempt used no data): events, records, first and last day, and the judgement of the use: declared (a data use the data map allows for this system equals the purpose or is an ancestor of it), declared anywhere (for any system), prohibited (ref_prohibited_uses: the sale and third-party advertising uses the policy rules out), and the verdict purpose.undeclared_use gives (prohibited, allowed or undeclared). The one statement of that judgement that purpose.undeclared_use and datamap_observed_vs_declared read.
-- params: as_of DATE
-- returns: system_id VARCHAR, purpose VARCHAR, events BIGINT, records BIGINT, first_seen DATE, last_seen DATE,
--          declared BOOLEAN, declared_anywhere BOOLEAN, prohibited BOOLEAN, verdict VARCHAR
-- Read from the daily rollup `audit_use_days` (docs/database.md), which counts per day, system and purpose exactly
-- these events (audit_purpose_days summed over actors), so the judgement never rescans audit_events.
with uses as (
    select
        system_id,
        purpose,
        cast(sum(events) as bigint) as events,
        cast(sum(records) as bigint) as records,
        min(event_date) as first_seen,
        max(event_date) as last_seen
    from audit_use_days
    where event_date <= $as_of
    group by system_id, purpose
),

-- A declared use covers its descendants (essential.service allows essential.service.operations).
-- ref_data_uses repeats a use per jurisdiction only to vary its legal basis, so the jurisdiction is not a
-- condition here (the legal basis is the consent control's business). Prohibition wins over any declaration.
judged as (
    select
        u.system_id,
        u.purpose,
        u.events,
        u.records,
        u.first_seen,
        u.last_seen,
        count(case when d.system_id = u.system_id then 1 end) > 0 as declared,
        count(d.system_id) > 0 as declared_anywhere,
        count(x.data_use) > 0 as prohibited
    from uses as u
    left join ref_prohibited_uses as x
        on u.purpose = x.data_use
        or starts_with(u.purpose, x.data_use || '.')
    left join ref_data_uses as d
        on u.purpose = d.data_use
        or starts_with(u.purpose, d.data_use || '.')
    group by u.system_id, u.purpose, u.events, u.records, u.first_seen, u.last_seen
),

final as (
    select
        *,
        case
            when prohibited then 'prohibited'
            when declared then 'allowed'
            else 'undeclared'
        end as verdict
    from judged
)

select * from final
