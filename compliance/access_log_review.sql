-- name: access_log_review
-- control: access.dashboard_log_review
-- section: 5
-- severity: critical
-- requires: dashboard_access_log
-- description: The dashboard's own access log reviewed: reveals of identifiers by someone without the investigator role and real-id downloads without the auditor role (impossible unless the dashboard or the log was tampered with), bulk real-id downloads per user_name and day, refusals; one ok row per user_name otherwise.
-- params: as_of DATE, bulk_real_id_rows BIGINT, bulk_window_hours INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- Not in queries/: its input is the access log (compliance/access_log.py registers it as the
-- `dashboard_access_log` relation), not the audit database every file under queries/ runs on.
with log_rows as (
    select
        "user" as user_name,
        "at" as logged_at,
        roles,
        event,
        real_ids,
        "rows" as row_count,
        hash
    from dashboard_access_log
    where "at" < cast($as_of as timestamp) + interval 1 day
),

unauthorised as (
    select
        user_name,
        event,
        logged_at,
        hash,
        case event
            when 'reveal' then 'investigator'
            else 'auditor'
        end as needed_role
    from log_rows
    where (event = 'reveal' and not list_contains(coalesce(roles, []), 'investigator'))
       or (event = 'download' and real_ids and not list_contains(coalesce(roles, []), 'auditor'))
),

-- Real-id rows downloaded per user_name in windows of $bulk_window_hours hours (fixed blocks from the epoch).
real_id_blocks as (
    select
        user_name,
        floor(epoch(logged_at) / (3600 * greatest($bulk_window_hours, 1))) as block, -- duckdb: epoch() (Spark: unix_timestamp)
        sum(coalesce(row_count, 0)) as real_id_rows,
        count(*) as downloads,
        max(logged_at) as last_at,
        list(hash order by logged_at) as hashes
    from log_rows
    where event = 'download' and real_ids
    group by user_name, block
),

bulk as (
    select *
    from real_id_blocks
    where real_id_rows > $bulk_real_id_rows
),

refusals as (
    select
        user_name,
        count(*) as refused,
        max(logged_at) as last_at,
        list(hash order by logged_at) as hashes
    from log_rows
    where event = 'refusal'
    group by user_name
),

users as (
    select distinct user_name
    from log_rows
    where user_name is not null
),

findings as (
    select
        'user:' || user_name || '@' || strftime(logged_at, '%Y-%m-%dT%H:%M:%S') as resource,
        'alarm' as status,
        'critical' as severity,
        user_name || ' made a ' || event || ' that needs the ' || needed_role
        || ' role without holding it: the dashboard refuses this, so the dashboard or its log was tampered with.'
            as reason,
        logged_at as observed_at,
        [hash] as evidence
    from unauthorised
    union all
    select
        'user:' || user_name || '@' || strftime(last_at, '%Y-%m-%d'),
        'alarm',
        'high',
        user_name || ' downloaded ' || cast(real_id_rows as varchar) || ' rows with real identifiers in '
        || cast(downloads as varchar) || ' download(s) within ' || cast($bulk_window_hours as varchar)
        || ' hours (threshold ' || cast($bulk_real_id_rows as varchar) || ').',
        last_at,
        hashes
    from bulk
    union all
    select
        'user:' || user_name,
        'info',
        'info',
        user_name || ' was refused ' || cast(refused as varchar) || ' action(s) their roles do not allow.',
        last_at,
        hashes
    from refusals
    union all
    select
        'user:' || u.user_name,
        'ok',
        'info',
        u.user_name || ' made no reveal or real-id download beyond their roles.',
        cast(null as timestamp),
        cast([] as varchar[])
    from users as u
    where not exists (select 1 from unauthorised as x where x.user_name = u.user_name)
      and not exists (select 1 from bulk as b where b.user_name = u.user_name)
    union all
    select
        'log:dashboard_access_log',
        'skip',
        'info',
        'The access log holds no row up to this date: nothing to review.',
        cast(null as timestamp),
        cast([] as varchar[])
    where not exists (select 1 from log_rows)
)

select
    resource,
    status,
    severity,
    reason,
    cast(observed_at as timestamp) as observed_at,
    cast(evidence as varchar[]) as evidence
from findings
order by status, resource
