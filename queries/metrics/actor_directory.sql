-- name: actor_directory
-- description: Every account in the directory, plus actors seen in audit events but missing from it (customer users, unknown accounts): type, role, department, status, time zone, MFA, home country, start and end dates, and audit events.
-- returns: actor_id VARCHAR, actor_type VARCHAR, role VARCHAR, department VARCHAR, status VARCHAR, timezone VARCHAR,
--          mfa_enabled BOOLEAN, home_country VARCHAR, start_date DATE, end_date DATE, in_directory BOOLEAN,
--          audit_events BIGINT
with seen as (
    select
        actor_id,
        min(actor_type) as actor_type,
        count(*) as events
    from audit_events
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
    from directory_accounts as d
    full outer join seen as s on s.actor_id = d.actor_id
)

select * from final
order by actor_id
