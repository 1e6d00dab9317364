-- name: actor_directory
-- description: Every account in the directory, plus actors seen in audit events but missing from it (customer users, unknown accounts): type, role, department, status, time zone, MFA, home country, start and end dates, and audit events; only the actor $actor_id when it is given (NULL: every actor).
-- params: actor_id VARCHAR
-- returns: actor_id VARCHAR, actor_type VARCHAR, role VARCHAR, department VARCHAR, status VARCHAR, timezone VARCHAR,
--          mfa_enabled BOOLEAN, home_country VARCHAR, start_date DATE, end_date DATE, in_directory BOOLEAN,
--          audit_events BIGINT
-- One actor (the Access page's drill-down) is a filtered scan: at 100M events 0.2 s instead of 1.2 s for all.
with directory as (
    select * from directory_accounts
    where $actor_id is null or actor_id = $actor_id
),

seen as (
    select
        actor_id,
        min(actor_type) as actor_type,
        count(*) as events
    from audit_events
    where $actor_id is null or actor_id = $actor_id
    group by actor_id
),

final as (
    select
        coalesce(d.actor_id, s.actor_id) as actor_id,
        coalesce(d.actor_type, s.actor_type) as actor_type,
        d.role,
        d.department,
        d.status,
        d.timezone,
        d.mfa_enabled,
        d.home_country,
        d.start_date,
        d.end_date,
        d.actor_id is not null as in_directory,
        coalesce(s.events, 0) as audit_events
    from directory as d
    full outer join seen as s on s.actor_id = d.actor_id
)

select * from final
order by actor_id
