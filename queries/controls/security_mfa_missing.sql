-- name: security_mfa_missing
-- control: security.mfa_missing
-- section: 5
-- severity: high
-- requires: directory
-- description: Active workforce accounts (employees, contractors) whose current role is privileged or requires MFA while MFA is not enabled; one row per active workforce account.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- The current role follows the audit enrichment: the newest successful role_grant to the account up to $as_of,
-- else its directory role. Evidence is the directory account id, and the grant event when the role came from one.
-- Grants are read from the rollup of them the ingest keeps (audit_role_grant_days), not from every event.
with latest_grants as (
    select
        target_actor_id as actor_id,
        role,
        event_id
    from (
        select
            target_actor_id,
            role,
            event_id,
            row_number() over (partition by target_actor_id order by granted_at desc, event_id desc) as rn
        from audit_role_grant_days
        where event_date <= $as_of
    ) as ranked
    where rn = 1
),

accounts as (
    select
        d.actor_id,
        d.actor_type,
        d.role as directory_role,
        coalesce(g.role, d.role) as effective_role,
        g.event_id as grant_event_id,
        coalesce(d.mfa_enabled, false) as has_mfa,
        d.mfa_enabled is null as mfa_unknown
    from directory_accounts as d
    left join latest_grants as g
        on g.actor_id = d.actor_id
    where d.actor_type in ('employee', 'contractor')
      and d.status = 'active'
      and (d.start_date is null or d.start_date <= $as_of)
),

judged as (
    select
        a.*,
        r.role is not null as is_known_role,
        coalesce(r.privileged, false) as is_privileged,
        coalesce(r.requires_mfa, false) as requires_mfa
    from accounts as a
    left join ref_roles as r
        on r.role = a.effective_role
),

final as (
    select
        'actor:' || actor_id as resource,
        case
            when (is_privileged or requires_mfa) and not has_mfa then 'alarm'
            when not is_known_role then 'info'
            else 'ok'
        end as status,
        case
            when is_privileged and not has_mfa then 'critical'
            when requires_mfa and not has_mfa then 'high'
            else 'info'
        end as severity,
        actor_id || ' (' || actor_type || ') holds role ' || coalesce(effective_role, '?')
        || case when grant_event_id is not null then ' (granted; directory role ' || coalesce(directory_role, '?') || ')' else '' end
        || case
            when (is_privileged or requires_mfa) and not has_mfa then
                ', which ' || case when is_privileged then 'is privileged' else 'requires MFA' end
                || ', but MFA is ' || case when mfa_unknown then 'not recorded in the directory' else 'disabled' end
                || '.'
            when not is_known_role then ', which is not in the role matrix, so its MFA need is unknown.'
            when is_privileged or requires_mfa then ', which requires MFA, and MFA is enabled.'
            else ', which neither is privileged nor requires MFA.'
        end as reason,
        cast($as_of as timestamp) as observed_at,
        case
            when grant_event_id is not null then [actor_id, grant_event_id]
            else [actor_id]
        end as evidence
    from judged
)

select * from final
order by resource
