-- name: mfa_coverage
-- requires: directory
-- description: Per directory role: whether the role matrix marks it privileged and requiring MFA, accounts, active accounts, and active accounts with and without MFA (the gaps security.mfa_missing flags are the active ones without MFA in roles that require it).
-- returns: role VARCHAR, privileged BOOLEAN, requires_mfa BOOLEAN, accounts BIGINT, active_accounts BIGINT,
--          active_with_mfa BIGINT, active_without_mfa BIGINT
with accounts as (
    select
        coalesce(a.role, '(none)') as role,
        coalesce(r.privileged, false) as privileged,
        coalesce(r.requires_mfa, false) as requires_mfa,
        a.status = 'active' as is_active,
        coalesce(a.mfa_enabled, false) as has_mfa
    from directory_accounts as a
    left join ref_roles as r on r.role = a.role
),

final as (
    select
        role,
        bool_or(privileged) as privileged,
        bool_or(requires_mfa) as requires_mfa,
        count(*) as accounts,
        count(case when is_active then 1 end) as active_accounts,
        count(case when is_active and has_mfa then 1 end) as active_with_mfa,
        count(case when is_active and not has_mfa then 1 end) as active_without_mfa
    from accounts
    group by role
)

select * from final
order by requires_mfa desc, active_without_mfa desc, role
