-- name: vendor_principals
-- description: Per vendor log source (contract 1.10): events loaded, distinct principals, and the principals (with their events) that match no directory account, neither through identities/ nor by id; those keep their vendor name (email, ARN, object id) as actor_id.
-- returns: log_source VARCHAR, events BIGINT, principals BIGINT, unmatched_principals BIGINT, unmatched_events BIGINT

-- Audit events of the contract's own audit/ folder carry log_source 'audit' (or NULL in databases loaded
-- before the column existed) and are not vendor events.
with vendor_events as (
    select
        e.log_source,
        e.actor_id,
        d.actor_id is null as is_unmatched
    from audit_events as e
    left join directory_accounts as d
        on d.actor_id = e.actor_id
    where e.log_source is not null
      and e.log_source <> 'audit'
),

final as (
    select
        log_source,
        count(*) as events,
        count(distinct actor_id) as principals,
        count(distinct case when is_unmatched then actor_id end) as unmatched_principals,
        cast(sum(case when is_unmatched then 1 else 0 end) as bigint) as unmatched_events
    from vendor_events
    group by log_source
)

select * from final
order by log_source
