-- name: access_privilege_grant
-- control: access.privilege_grant
-- section: 5
-- severity: high
-- requires: audit
-- description: Successful role grants, per grantee and UTC day: alarm when the role is privileged, unknown to the role matrix, or granted by someone whose role may not grant roles.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- The grantor's role is their role at the time of the grant (audit_events.actor_role).
with grants as (
    select
        e.event_id,
        e.occurred_at,
        e.event_date,
        e.actor_id as grantor_id,
        e.actor_role as grantor_role,
        coalesce(e.target_actor_id, '?') as grantee_id,
        e.role as granted_role
    from audit_events as e
    where e.action = 'role_grant'
      and e.outcome = 'success'
      and e.event_date <= $as_of
),

judged as (
    select
        g.*,
        r.role is not null as is_known_role,
        coalesce(r.privileged, false) as is_privileged,
        coalesce(gr.may_grant, false) as grantor_may_grant
    from grants as g
    left join ref_roles as r
        on r.role = g.granted_role
    left join ref_roles as gr
        on gr.role = g.grantor_role
),

described as (
    select
        *,
        case
            when is_privileged and not grantor_may_grant then 'critical'
            when is_privileged or not grantor_may_grant then 'high'
            when not is_known_role then 'medium'
        end as problem_severity,
        grantor_id || ' (' || coalesce(grantor_role, 'unknown role') || ') granted '
        || coalesce(granted_role, '?') || ' to ' || grantee_id || ' at ' || cast(occurred_at as varchar) || ' UTC'
        || case when is_privileged then '; ' || granted_role || ' is a privileged role' else '' end
        || case when not is_known_role then '; ' || coalesce(granted_role, '?') || ' is not in the role matrix' else '' end
        || case
            when not grantor_may_grant then
                '; ' || coalesce(grantor_role, 'an unknown role') || ' is not among the roles that may grant roles'
            else ''
        end as what
    from judged
),

-- One row per grantee and day, however many grants they received that day.
grantee_days as (
    select
        grantee_id,
        event_date,
        count(*) as grants,
        max(occurred_at) as last_at,
        max(
            case problem_severity
                when 'critical' then 3
                when 'high' then 2
                when 'medium' then 1
                else 0
            end
        ) as worst,
        string_agg(what, '. ' order by occurred_at, event_id) as whats,
        -- the first 50 grants. duckdb: min_by(x, y, n) in this aggregate pass instead of a window (Spark: a
        -- sorted list); ties broken by id
        min_by(event_id, row(occurred_at, event_id), 50) as event_ids
    from described
    group by grantee_id, event_date
),

final as (
    select
        'actor:' || grantee_id || '@' || cast(event_date as varchar) as resource,
        case when worst > 0 then 'alarm' else 'ok' end as status,
        case worst
            when 3 then 'critical'
            when 2 then 'high'
            when 1 then 'medium'
            else 'info'
        end as severity,
        whats
        || case
            when worst > 0 then '.'
            when grants = 1 then ': a non-privileged role, granted by a role that may grant roles.'
            else ': all non-privileged roles, granted by roles that may grant roles.'
        end as reason,
        last_at as observed_at,
        event_ids as evidence
    from grantee_days
)

select * from final
order by resource
