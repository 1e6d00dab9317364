-- name: access_actor_timeline
-- requires: audit
-- description: One actor's ($actor_id) activity per active day from $start_date to $end_date: all events, successful personal-data actions and the records they touched, distinct subjects, exports and shares, failed logins, source countries, and the own baseline access.volume_spike judges the day against (median records over the actor's active days in the $volume_spike_baseline_days days before it, and how many such days there were).
-- params: actor_id VARCHAR, start_date DATE, end_date DATE, volume_spike_baseline_days INTEGER
-- returns: activity_date DATE, events BIGINT, data_events BIGINT, records BIGINT, subjects BIGINT, exports BIGINT,
--          failed_logins BIGINT, countries VARCHAR, baseline_median_records DOUBLE, baseline_days BIGINT
-- The actor's events and which of them are personal-data actions: metric_actor_events. Back one baseline
-- window before start_date, so the first shown day has its baseline.
with actor_events as (
    select * from metric_actor_events
    where event_date <= $end_date
      and event_date > date_add($start_date, -$volume_spike_baseline_days)
),

days as (
    select
        event_date as activity_date,
        count(*) as events,
        count(case when is_data_action then 1 end) as data_events,
        cast(coalesce(sum(case when is_data_action then records end), 0) as bigint) as records,
        count(distinct case when is_data_action then subject_id end) as subjects,
        count(case when is_data_action and action in ('export', 'share') then 1 end) as exports,
        count(case when action = 'login_failed' then 1 end) as failed_logins,
        string_agg(distinct geo_country, ', ' order by geo_country) as countries
    from actor_events
    group by event_date
),

-- The baseline counts only days with personal-data actions, as access.volume_spike's actor-days do.
data_days as (
    select
        activity_date,
        records
    from days
    where data_events > 0
),

baselines as (
    select
        d.activity_date,
        median(b.records) as baseline_median_records,
        count(b.activity_date) as baseline_days
    from days as d
    left join data_days as b
        on b.activity_date >= date_add(d.activity_date, -$volume_spike_baseline_days)
        and b.activity_date < d.activity_date
    where d.activity_date >= $start_date
    group by d.activity_date
),

final as (
    select
        d.activity_date,
        d.events,
        d.data_events,
        d.records,
        d.subjects,
        d.exports,
        d.failed_logins,
        d.countries,
        cast(b.baseline_median_records as double) as baseline_median_records,
        b.baseline_days
    from days as d
    inner join baselines as b on b.activity_date = d.activity_date
)

select * from final
order by activity_date
