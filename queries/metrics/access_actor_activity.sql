-- name: access_actor_activity
-- requires: audit
-- description: One actor's audit events per UTC day and action group (sign-in, failed sign-in, read/search, export/share, change, admin) up to $as_of, optionally from $start_date to $end_date (NULL = open-ended): events, records touched, and events that failed or were denied.
-- params: as_of DATE, actor_id VARCHAR, start_date DATE, end_date DATE
-- returns: activity_date DATE, action_group VARCHAR, events BIGINT, records BIGINT, failed BIGINT
-- The audit events in the page's date window: metric_audit_window.
with actor_events as (
    -- Grouped actions keep a year of one actor's days under the chart's row limit (6 groups x 366 days).
    select
        event_date,
        case
            when action in ('login', 'logout', 'mfa_challenge') then 'sign-in'
            when action = 'login_failed' then 'failed sign-in'
            when action in ('read', 'search') then 'read/search'
            when action in ('export', 'share') then 'export/share'
            when action in ('create', 'update', 'delete', 'deidentify') then 'change'
            else 'admin'
        end as action_group,
        coalesce(record_count, 1) as records,
        outcome <> 'success' as is_failed
    from metric_audit_window
    where actor_id = $actor_id
),

final as (
    select
        event_date as activity_date,
        action_group,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(case when is_failed then 1 end) as failed
    from actor_events
    group by event_date, action_group
)

select * from final
order by activity_date, action_group
