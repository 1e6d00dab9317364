-- name: access_impossible_travel
-- control: access.impossible_travel
-- section: 5
-- severity: high
-- requires: audit
-- description: Successive successful logins of one actor too far apart for the time between them (haversine distance over elapsed time); one ok row per actor otherwise.
-- params: as_of DATE, impossible_travel_min_distance_km DOUBLE, impossible_travel_max_speed_kmh DOUBLE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- A login without geo_lat/geo_lon is placed at its country's centroid (contract 1.1); logins with neither coordinates
-- nor a known country are skipped (audit_located_logins). An alarm of day D pairs D's logins with the login before
-- each, which may be any time back: the logins read here, and each actor's last login before the first of them from
-- the per-day rollup of located logins computed at ingest (audit_located_login_days), so a daily load re-evaluates
-- only its own days; an actor's ok row reads its all-time totals per country (audit_located_login_groups).
with located_events as (
    select * from audit_located_logins
    where event_date <= $as_of
),

first_days as (
    select
        actor_id,
        min(event_date) as first_date
    from located_events
    group by actor_id
),

-- The login before an actor's first one read here, from the rollup (each actor-day-country's last login): none
-- when every login is read (no rollup day comes before an actor's first login), the previous login when only the
-- days from a daily load's earliest changed date on are (compliance.stored_findings, window mode). It lies on the
-- actor's last rollup day before, found by a grouping; only that day's rows are ordered (100M events: ordering
-- every earlier rollup row, 2.3M, took 1.4 CPU s of a window run).
earlier_days as (
    select
        r.actor_id,
        max(r.event_date) as event_date
    from audit_located_login_days as r
    inner join first_days as f
        on f.actor_id = r.actor_id
        and r.event_date < f.first_date
    group by r.actor_id
),

earlier_logins as (
    select
        r.last_event_id as event_id,
        r.actor_id,
        r.last_at as occurred_at,
        r.event_date,
        -- duckdb: epoch() (Spark: unix_timestamp), as in audit_located_logins
        epoch(r.last_at) as at_s,
        r.geo_country,
        r.last_lat as lat,
        r.last_lon as lon,
        r.last_is_centroid as is_centroid,
        row_number() over (partition by r.actor_id order by r.last_at desc, r.last_event_id desc) as rn
    from audit_located_login_days as r
    inner join earlier_days as d
        on d.actor_id = r.actor_id
        and d.event_date = r.event_date
),

located as (
    select * from located_events
    union all
    select
        event_id,
        actor_id,
        occurred_at,
        event_date,
        at_s,
        geo_country,
        lat,
        lon,
        is_centroid
    from earlier_logins
    where rn = 1
),

-- Each actor's logins per country up to the as-of date, from the all-time totals (audit_located_login_groups):
-- what an ok row states.
actor_countries as (
    select
        actor_id,
        geo_country,
        logins,
        last_at
    from audit_located_login_groups
),

-- Only an actor with two places at least the minimum distance apart can have an impossible pair, and most log in
-- from one place: their logins are left out before the ordering below (100M events: 29,010 actors, 3.3M logins;
-- the ordering took 3.2 s). A bound, never an under-estimate: two points of an actor's latitude-longitude box are
-- joined by a path along a meridian (6,371 km x the latitude span in radians) then along a parallel (at most
-- 6,371 km x the longitude span), and the great-circle distance is no longer than any path; so an actor is left
-- out only when none of its pairs can reach the minimum distance.
travelling_actors as (
    select actor_id
    from located
    group by actor_id
    having 6371.0 * (radians(max(lat) - min(lat)) + radians(max(lon) - min(lon)))
        >= $impossible_travel_min_distance_km
),

pairs as (
    select
        *,
        lag(event_id) over (partition by actor_id order by occurred_at, event_id) as prev_event_id,
        lag(occurred_at) over (partition by actor_id order by occurred_at, event_id) as prev_at,
        lag(at_s) over (partition by actor_id order by occurred_at, event_id) as prev_at_s,
        lag(geo_country) over (partition by actor_id order by occurred_at, event_id) as prev_country,
        lag(lat) over (partition by actor_id order by occurred_at, event_id) as prev_lat,
        lag(lon) over (partition by actor_id order by occurred_at, event_id) as prev_lon,
        lag(is_centroid) over (partition by actor_id order by occurred_at, event_id) as prev_is_centroid
    from located
    where actor_id in (select t.actor_id from travelling_actors as t)
),

-- Haversine on a 6,371 km sphere (least() guards asin against rounding just above 1).
measured as (
    select
        *,
        2 * 6371.0 * asin(least(1.0, sqrt(
            power(sin(radians(lat - prev_lat) / 2), 2)
            + cos(radians(prev_lat)) * cos(radians(lat)) * power(sin(radians(lon - prev_lon) / 2), 2)
        ))) as distance_km,
        (at_s - prev_at_s) / 3600.0 as hours
    from pairs
    where prev_event_id is not null
      -- a centroid says nothing about where in its country a login was: within one country, skip the pair
      and not coalesce(geo_country = prev_country and (is_centroid or prev_is_centroid), false)
),

impossible as (
    select
        *,
        case when hours > 0 then distance_km / hours end as speed_kmh
    from measured
    where distance_km >= $impossible_travel_min_distance_km
      and (hours <= 0 or distance_km / hours > $impossible_travel_max_speed_kmh)
),

-- The fastest pair of each actor and UTC day (of the second login); among pairs as fast at the same instant (logins
-- at one time), the one whose second login has the smallest id, so a stored row and a live one name the same pair.
worst as (
    select * from (
        select
            *,
            count(*) over (partition by actor_id, event_date) as pairs_that_day,
            row_number() over (
                partition by actor_id, event_date
                order by coalesce(speed_kmh, 1e12) desc, occurred_at, event_id
            ) as rn
        from impossible
    ) as ranked
    where rn = 1
),

evidence_ids as (
    select
        actor_id,
        event_date,
        prev_event_id as event_id,
        prev_at as seen_at
    from impossible
    union
    select
        actor_id,
        event_date,
        event_id,
        occurred_at as seen_at
    from impossible
),

-- The first 50 of them. duckdb: min_by(x, y, n) in one aggregate pass instead of a window (Spark: a sorted
-- list); ties broken by id.
evidence as (
    select
        actor_id,
        event_date,
        min_by(event_id, row(seen_at, event_id), 50) as event_ids
    from evidence_ids
    group by actor_id, event_date
),

actor_summary as (
    select
        actor_id,
        sum(logins) as logins,
        count(geo_country) as countries,
        string_agg(geo_country, ', ' order by geo_country) as country_list,
        max(last_at) as last_at
    from actor_countries
    group by actor_id
),

alarms as (
    select
        'actor:' || w.actor_id || '@' || cast(w.event_date as varchar) as resource,
        'alarm' as status,
        'high' as severity,
        w.actor_id || ' logged in from ' || coalesce(w.prev_country, '?')
        || case when w.prev_is_centroid then ' (country centroid)' else '' end
        || ' at ' || cast(w.prev_at as varchar) || ' UTC and from ' || coalesce(w.geo_country, '?')
        || case when w.is_centroid then ' (country centroid)' else '' end
        || ' at ' || cast(w.occurred_at as varchar) || ' UTC: ' || cast(cast(round(w.distance_km) as bigint) as varchar)
        || ' km in ' || cast(cast(round(60 * w.hours) as bigint) as varchar) || ' minutes ('
        || coalesce(cast(cast(round(w.speed_kmh) as bigint) as varchar) || ' km/h', 'no time between them')
        || '), faster than ' || cast($impossible_travel_max_speed_kmh as varchar) || ' km/h over at least '
        || cast($impossible_travel_min_distance_km as varchar) || ' km; '
        || cast(w.pairs_that_day as varchar)
        || case when w.pairs_that_day = 1 then ' such pair that day.' else ' such pairs that day.' end as reason,
        w.occurred_at as observed_at,
        v.event_ids as evidence
    from worst as w
    left join evidence as v
        on v.actor_id = w.actor_id
        and v.event_date = w.event_date
),

oks as (
    select
        'actor:' || actor_id as resource,
        'ok' as status,
        'info' as severity,
        actor_id || ': ' || cast(logins as varchar)
        || case when logins = 1 then ' located successful login from ' else ' located successful logins from ' end
        || cast(countries as varchar) || case when countries = 1 then ' country (' else ' countries (' end
        || coalesce(country_list, 'none') || '); no two successive '
        || 'logins at least ' || cast($impossible_travel_min_distance_km as varchar) || ' km apart faster than '
        || cast($impossible_travel_max_speed_kmh as varchar) || ' km/h.' as reason,
        last_at as observed_at,
        cast([] as varchar[]) as evidence
    from actor_summary
    where actor_id not in (select w.actor_id from worst as w)
),

final as (
    select * from alarms
    union all
    select * from oks
)

select * from final
order by resource
