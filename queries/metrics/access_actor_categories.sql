-- name: access_actor_categories
-- requires: audit
-- description: What one actor ($actor_id) did to personal data up to $as_of, one row per role held at the time x action x data category: successful events, records, distinct subjects and tenants, first and last day, and whether the role matrix permits that action on that category for that role (as access.out_of_role judges it: a granted category covers its descendants; an unknown role is permitted nothing).
-- params: actor_id VARCHAR, as_of DATE
-- returns: actor_role VARCHAR, action VARCHAR, data_category VARCHAR, events BIGINT, records BIGINT, subjects BIGINT,
--          tenants BIGINT, first_date DATE, last_date DATE, permitted BOOLEAN
-- The actor's successful personal-data actions: metric_actor_events.
with actor_events as (
    select
        -- customer users act under the customer_user role even when the enrichment left it empty
        coalesce(actor_role, case when actor_type = 'customer_user' then 'customer_user' end) as actor_role,
        action,
        categories,
        subject_id,
        tenant_id,
        event_date,
        records
    from metric_actor_events
    where is_data_action
      and event_date <= $as_of
),

-- duckdb: unnest() in the select list (Spark: explode) turns a category list into rows.
event_categories as (
    select
        actor_role,
        action,
        subject_id,
        tenant_id,
        event_date,
        records,
        unnest(categories) as data_category
    from actor_events
),

touched as (
    select
        actor_role,
        action,
        data_category,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(distinct subject_id) as subjects,
        count(distinct tenant_id) as tenants,
        min(event_date) as first_date,
        max(event_date) as last_date
    from event_categories
    group by actor_role, action, data_category
),

verdicts as (
    select
        t.actor_role,
        t.action,
        t.data_category,
        count(p.role) > 0 as permitted
    from touched as t
    left join ref_role_permissions as p
        on p.role = t.actor_role
        and p.action = t.action
        and (t.data_category = p.data_category or starts_with(t.data_category, p.data_category || '.'))
    group by t.actor_role, t.action, t.data_category
),

final as (
    select
        t.actor_role,
        t.action,
        t.data_category,
        t.events,
        t.records,
        t.subjects,
        t.tenants,
        t.first_date,
        t.last_date,
        v.permitted
    from touched as t
    inner join verdicts as v
        on v.actor_role is not distinct from t.actor_role
        and v.action = t.action
        and v.data_category = t.data_category
)

select * from final
order by actor_role nulls first, action, data_category
