-- name: access_impossible_travel
-- control: access.impossible_travel
-- section: 5
-- severity: high
-- requires: audit
-- description: Successive successful logins of one actor too far apart for the time between them (haversine distance over elapsed time); one ok row per actor otherwise.
-- params: as_of DATE, impossible_travel_min_distance_km DOUBLE, impossible_travel_max_speed_kmh DOUBLE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]

-- A login without geo_lat/geo_lon is placed at its country's centroid (contract 1.1). Logins with neither
-- coordinates nor a country in the centroid list below are skipped (they cannot be placed).
with country_centroids as (
    select * from (
        values
        ('AU', -25.27, 133.78), ('NZ', -40.90, 174.89), ('US', 37.09, -95.71), ('CA', 56.13, -106.35),
        ('MX', 23.63, -102.55), ('BR', -14.24, -51.93), ('AR', -38.42, -63.62), ('GB', 55.38, -3.44),
        ('IE', 53.41, -8.24), ('FR', 46.23, 2.21), ('DE', 51.17, 10.45), ('NL', 52.13, 5.29),
        ('BE', 50.50, 4.47), ('ES', 40.46, -3.75), ('PT', 39.40, -8.22), ('IT', 41.87, 12.57),
        ('CH', 46.82, 8.23), ('AT', 47.52, 14.55), ('SE', 60.13, 18.64), ('NO', 60.47, 8.47),
        ('DK', 56.26, 9.50), ('FI', 61.92, 25.75), ('PL', 51.92, 19.15), ('RO', 45.94, 24.97),
        ('UA', 48.38, 31.17), ('RU', 61.52, 105.32), ('TR', 38.96, 35.24), ('IL', 31.05, 34.85),
        ('AE', 23.42, 53.85), ('ZA', -30.56, 22.94), ('NG', 9.08, 8.68), ('KE', -0.02, 37.91),
        ('EG', 26.82, 30.80), ('IN', 20.59, 78.96), ('SG', 1.35, 103.82), ('MY', 4.21, 101.98),
        ('ID', -0.79, 113.92), ('PH', 12.88, 121.77), ('VN', 14.06, 108.28), ('TH', 15.87, 100.99),
        ('CN', 35.86, 104.20), ('HK', 22.40, 114.11), ('TW', 23.70, 120.96), ('KR', 35.91, 127.77),
        ('JP', 36.20, 138.25)
    ) as c (country, lat, lon)
),

-- duckdb: epoch() (Spark: unix_timestamp) gives seconds for the elapsed time. The only DuckDB-specific piece.
logins as (
    select
        e.event_id,
        e.actor_id,
        e.occurred_at,
        e.event_date,
        epoch(e.occurred_at) as at_s,
        e.geo_country,
        e.source_ip,
        coalesce(e.geo_lat, c.lat) as lat,
        coalesce(e.geo_lon, c.lon) as lon,
        e.geo_lat is null or e.geo_lon is null as is_centroid
    from audit_events as e
    left join country_centroids as c
        on c.country = e.geo_country
    where e.action = 'login'
      and e.outcome = 'success'
      and e.event_date <= $as_of
),

located as (
    select * from logins
    where lat is not null
      and lon is not null
),

-- Per actor and country first: the summary's distinct countries come from a few rows per actor, and so does the
-- span of an actor's places.
actor_countries as (
    select
        actor_id,
        geo_country,
        count(*) as logins,
        max(occurred_at) as last_at,
        min(lat) as min_lat,
        max(lat) as max_lat,
        min(lon) as min_lon,
        max(lon) as max_lon
    from located
    group by actor_id, geo_country
),

-- Only an actor with two places at least the minimum distance apart can have an impossible pair, and most log in
-- from one place: their logins are left out before the ordering below (100M events: 29,010 actors, 3.3M logins;
-- the ordering took 3.2 s). A bound, never an under-estimate: two points of an actor's latitude-longitude box are
-- joined by a path along a meridian (6,371 km x the latitude span in radians) then along a parallel (at most
-- 6,371 km x the longitude span), and the great-circle distance is no longer than any path; so an actor is left
-- out only when none of its pairs can reach the minimum distance.
travelling_actors as (
    select actor_id
    from actor_countries
    group by actor_id
    having 6371.0 * (radians(max(max_lat) - min(min_lat)) + radians(max(max_lon) - min(min_lon)))
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

-- The fastest pair of each actor and UTC day (of the second login).
worst as (
    select * from (
        select
            *,
            count(*) over (partition by actor_id, event_date) as pairs_that_day,
            row_number() over (
                partition by actor_id, event_date
                order by coalesce(speed_kmh, 1e12) desc, occurred_at
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
