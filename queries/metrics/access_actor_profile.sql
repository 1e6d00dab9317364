-- name: access_actor_profile
-- requires: audit
-- description: One row about one actor ($actor_id) up to $as_of: the directory's account (type, role, department, status, dates, MFA, home country, time zone; NULL when the directory lacks it) and what the audit trail shows (roles held when acting, first and last day seen, active days, events, successful personal-data actions, records touched, distinct subjects and tenants, failed logins, source countries). No row when neither knows the actor.
-- params: actor_id VARCHAR, as_of DATE
-- returns: actor_id VARCHAR, actor_type VARCHAR, directory_role VARCHAR, roles_held VARCHAR, department VARCHAR,
--          status VARCHAR, start_date DATE, end_date DATE, mfa_enabled BOOLEAN, home_country VARCHAR,
--          timezone VARCHAR, first_seen DATE, last_seen DATE, active_days BIGINT, events BIGINT,
--          data_events BIGINT, records BIGINT, subjects BIGINT, tenants BIGINT, failed_logins BIGINT,
--          countries VARCHAR
-- The actor's events and which of them are personal-data actions: metric_actor_events.
with actor_events as (
    select * from metric_actor_events
    where event_date <= $as_of
),

activity as (
    select
        min(actor_type) as actor_type,
        string_agg(distinct actor_role, ', ' order by actor_role) as roles_held,
        min(event_date) as first_seen,
        max(event_date) as last_seen,
        count(distinct event_date) as active_days,
        count(*) as events,
        count(case when is_data_action then 1 end) as data_events,
        cast(coalesce(sum(case when is_data_action then records end), 0) as bigint) as records,
        count(distinct case when is_data_action then subject_id end) as subjects,
        count(distinct case when is_data_action then tenant_id end) as tenants,
        count(case when action = 'login_failed' then 1 end) as failed_logins,
        string_agg(distinct geo_country, ', ' order by geo_country) as countries
    from actor_events
    having count(*) > 0
),

directory as (
    select *
    from directory_accounts
    where actor_id = $actor_id
),

final as (
    select
        $actor_id as actor_id,
        coalesce(d.actor_type, a.actor_type) as actor_type,
        d.role as directory_role,
        a.roles_held,
        d.department,
        d.status,
        d.start_date,
        d.end_date,
        d.mfa_enabled,
        d.home_country,
        d.timezone,
        a.first_seen,
        a.last_seen,
        coalesce(a.active_days, 0) as active_days,
        coalesce(a.events, 0) as events,
        coalesce(a.data_events, 0) as data_events,
        coalesce(a.records, 0) as records,
        coalesce(a.subjects, 0) as subjects,
        coalesce(a.tenants, 0) as tenants,
        coalesce(a.failed_logins, 0) as failed_logins,
        a.countries
    from directory as d
    full outer join activity as a on true
)

select * from final
