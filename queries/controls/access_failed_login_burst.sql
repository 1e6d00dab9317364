-- name: access_failed_login_burst
-- control: access.failed_login_burst
-- section: 5
-- severity: high
-- requires: audit
-- description: Bursts of failed logins against one account or from one source IP within a short window (critical when a successful login follows); one ok row per account otherwise.
-- params: as_of DATE, failed_login_burst_window_minutes INTEGER, failed_login_burst_per_account INTEGER,
--         failed_login_burst_per_ip INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- A failed login is a `login_failed` event, or a `login` whose outcome is not success (audit_login_attempts). Bursts
-- are counted per account (resource actor:<id>@<date>) and per source IP (resource ip:<address>@<date>) in the same
-- pass (audit_failed_login_windows). An alarm of day D reads the events of D, of the days its window reaches back
-- into and of those a successful login within a window after it falls on; an account's ok row reads the per-day
-- login rollup computed at ingest (audit_login_days, through its totals), so a daily load re-evaluates only its own
-- days.
with successes as (
    select * from audit_login_attempts
    where is_success
      and event_date <= $as_of
),

-- Successes keyed as audit_failed_login_windows keys failures. Kept apart rather than one model of every attempt
-- keyed: two readers of one such model made DuckDB key every attempt before either filter (10M events: 0.24 s
-- against 0.17 s for the control).
keyed_successes as (
    select
        'actor' as key_kind,
        actor_id as key_value,
        *
    from successes
    union all
    select
        'ip' as key_kind,
        source_ip as key_value,
        *
    from successes
    where source_ip is not null
),

-- A window's count reaches back only: the windows of failures up to $as_of are those computed over every failure.
failure_windows as (
    select
        *,
        case key_kind
            when 'actor' then $failed_login_burst_per_account
            else $failed_login_burst_per_ip
        end as threshold
    from audit_failed_login_windows
    where event_date <= $as_of
),

burst_ends as (
    select * from failure_windows
    where failures_in_window >= threshold
),

-- A successful login of the same account (or from the same IP) within one window after a burst's last failure;
-- the first such login of the day is the one reported.
successes_after as (
    select
        b.key_kind,
        b.key_value,
        b.event_date,
        s.event_id as success_event_id,
        s.actor_id as success_actor_id,
        s.occurred_at as success_at,
        row_number() over (
            partition by b.key_kind, b.key_value, b.event_date
            order by s.occurred_at, s.event_id
        ) as rn
    from burst_ends as b
    inner join keyed_successes as s
        on s.key_kind = b.key_kind
        and s.key_value = b.key_value
        and s.at_s > b.at_s
        and s.at_s <= b.at_s + 60 * $failed_login_burst_window_minutes
),

followed as (
    select * from successes_after
    where rn = 1
),

-- The biggest burst of each key and UTC day (by the day its last failure falls on).
peaks as (
    select
        key_kind,
        key_value,
        event_date,
        at_s as peak_end_s,
        occurred_at as peak_end_at,
        failures_in_window,
        threshold
    from (
        select
            *,
            row_number() over (
                partition by key_kind, key_value, event_date
                order by failures_in_window desc, at_s
            ) as rn
        from burst_ends
    ) as ranked
    where rn = 1
),

peak_failures as (
    select
        k.key_kind,
        k.key_value,
        k.event_date,
        f.event_id,
        f.actor_id,
        f.occurred_at,
        row_number() over (
            partition by k.key_kind, k.key_value, k.event_date
            order by f.occurred_at, f.event_id
        ) as rn
    from peaks as k
    inner join failure_windows as f
        on f.key_kind = k.key_kind
        and f.key_value = k.key_value
        and f.at_s >= k.peak_end_s - 60 * $failed_login_burst_window_minutes
        and f.at_s <= k.peak_end_s
),

peak_summary as (
    select
        key_kind,
        key_value,
        event_date,
        min(occurred_at) as peak_start_at,
        count(distinct actor_id) as accounts
    from peak_failures
    group by key_kind, key_value, event_date
),

-- Evidence: the burst's failures (at most 49, in time order), then the success that followed it.
evidence_ids as (
    select
        key_kind,
        key_value,
        event_date,
        event_id,
        rn
    from peak_failures
    where rn <= 49
    union all
    select
        key_kind,
        key_value,
        event_date,
        success_event_id as event_id,
        50 as rn
    from followed
),

evidence as (
    select
        key_kind,
        key_value,
        event_date,
        array_agg(event_id order by rn) as event_ids
    from evidence_ids
    group by key_kind, key_value, event_date
),

bursts as (
    select
        k.*,
        s.peak_start_at,
        s.accounts,
        v.event_ids,
        f.success_at,
        f.success_actor_id
    from peaks as k
    inner join peak_summary as s
        on s.key_kind = k.key_kind
        and s.key_value = k.key_value
        and s.event_date = k.event_date
    inner join evidence as v
        on v.key_kind = k.key_kind
        and v.key_value = k.key_value
        and v.event_date = k.event_date
    left join followed as f
        on f.key_kind = k.key_kind
        and f.key_value = k.key_value
        and f.event_date = k.event_date
),

-- Each account's attempts, failures and largest count in a window (its own key's, key_kind 'actor'), from the
-- account-day rollup of the same models (audit_login_days: a day's count reaches back into the days before it),
-- summed through its all-time totals (audit_login_groups). The rollup counted in the window of the policy at ingest:
-- a run with another window (a changed setting not yet ingested, a what-if) takes the largest count from the
-- failures' windows above, over every failure.
actor_days as (
    select
        actor_id,
        sum(attempts) as attempts,
        sum(failures) as failures,
        max(last_at) as last_at,
        max(max_failures_in_window) as rollup_max_in_window,
        bool_and(window_minutes = $failed_login_burst_window_minutes) as counted_in_this_window
    from audit_login_groups
    group by actor_id
),

live_peaks as (
    select
        key_value as actor_id,
        max(failures_in_window) as max_in_window
    from failure_windows
    where key_kind = 'actor'
    group by key_value
),

actor_summary as (
    select
        d.actor_id,
        d.attempts,
        d.failures,
        d.last_at,
        case when d.counted_in_this_window then d.rollup_max_in_window else p.max_in_window end as max_in_window
    from actor_days as d
    left join live_peaks as p
        on p.actor_id = d.actor_id
),

alarms as (
    select
        case when b.key_kind = 'actor' then 'actor:' else 'ip:' end
        || b.key_value || '@' || cast(b.event_date as varchar) as resource,
        'alarm' as status,
        case when b.success_at is not null then 'critical' else 'high' end as severity,
        cast(b.failures_in_window as varchar) || ' failed logins '
        || case
            when b.key_kind = 'actor' then 'for account ' || b.key_value
            else
                'from IP ' || b.key_value || ' (against ' || cast(b.accounts as varchar)
                || case when b.accounts = 1 then ' account)' else ' accounts)' end
        end
        || ' within ' || cast($failed_login_burst_window_minutes as varchar) || ' minutes, '
        || cast(b.peak_start_at as varchar) || ' to ' || cast(b.peak_end_at as varchar) || ' UTC (alarm at '
        || cast(b.threshold as varchar) || ')'
        || case
            when b.success_at is not null then
                ', followed by a successful login'
                || case when b.key_kind = 'ip' then ' of ' || b.success_actor_id else '' end
                || ' at ' || cast(b.success_at as varchar) || ' UTC: the account may be compromised.'
            else '; no successful login followed within the window.'
        end as reason,
        b.peak_end_at as observed_at,
        b.event_ids as evidence
    from bursts as b
),

oks as (
    select
        'actor:' || a.actor_id as resource,
        'ok' as status,
        'info' as severity,
        a.actor_id || ': ' || cast(a.attempts as varchar) || ' login attempts, ' || cast(a.failures as varchar)
        || ' failed; at most ' || cast(coalesce(a.max_in_window, 0) as varchar) || ' failures within '
        || cast($failed_login_burst_window_minutes as varchar) || ' minutes (alarm at '
        || cast($failed_login_burst_per_account as varchar) || ').' as reason,
        a.last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary as a
    where a.actor_id not in (select b.key_value from bursts as b where b.key_kind = 'actor')
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
