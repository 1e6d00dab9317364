-- name: audit_failed_login_windows
-- requires: audit
-- description: Every failed login attempt (audit_login_attempts), once per key it counts under (key_kind 'actor': its account; 'ip': its source IP, when it has one), with the failures of that key in the sliding window of $failed_login_burst_window_minutes ending at it. access.failed_login_burst judges these counts, and the ingest's login rollup (audit_login_days) keeps each account-day's largest; a count reaches back into the days before its own, never after.
-- params: failed_login_burst_window_minutes INTEGER
-- returns: key_kind VARCHAR, key_value VARCHAR, event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP,
--          event_date DATE, at_s DOUBLE, failures_in_window BIGINT
with failures as (
    select * from audit_login_attempts
    where not is_success
),

keyed_failures as (
    select
        'actor' as key_kind,
        actor_id as key_value,
        *
    from failures
    union all
    select
        'ip' as key_kind,
        source_ip as key_value,
        *
    from failures
    where source_ip is not null
),

windows as (
    select
        key_kind,
        key_value,
        event_id,
        actor_id,
        occurred_at,
        event_date,
        at_s,
        count(*) over (
            partition by key_kind, key_value
            order by at_s
            range between 60 * $failed_login_burst_window_minutes preceding and current row
        ) as failures_in_window
    from keyed_failures
),

final as (
    select * from windows
)

select * from final
