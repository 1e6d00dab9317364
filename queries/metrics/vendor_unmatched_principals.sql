-- name: vendor_unmatched_principals
-- description: The vendor principals that match no directory account (add them to identities/ to attribute their events), most events first, at most $max_rows.
-- params: max_rows INTEGER
-- returns: log_source VARCHAR, principal VARCHAR, actor_type VARCHAR, events BIGINT, first_at TIMESTAMP, last_at TIMESTAMP
with unmatched as (
    select
        e.log_source,
        e.actor_id,
        e.actor_type,
        e.occurred_at
    from audit_events as e
    left join directory_accounts as d
        on d.actor_id = e.actor_id
    where e.log_source is not null
      and e.log_source <> 'audit'
      and d.actor_id is null
),

final as (
    select
        log_source,
        actor_id as principal,
        max(actor_type) as actor_type,
        count(*) as events,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from unmatched
    group by log_source, actor_id
)

select * from final
order by events desc, log_source, principal
limit $max_rows
