-- name: audit_located_logins
-- requires: audit
-- description: Every successful login that can be placed: at its geo_lat/geo_lon, else at its country's centroid (contract 1.1), a login with neither coordinates nor a country in the centroid list below left out. What access.impossible_travel pairs, and what the ingest's per-day rollup of located logins (audit_located_login_days, compliance.ingest.derive) counts per actor, day and country, with each one's last login.
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, at_s DOUBLE,
--          geo_country VARCHAR, lat DOUBLE, lon DOUBLE, is_centroid BOOLEAN
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
        coalesce(e.geo_lat, c.lat) as lat,
        coalesce(e.geo_lon, c.lon) as lon,
        e.geo_lat is null or e.geo_lon is null as is_centroid
    from audit_events as e
    left join country_centroids as c
        on c.country = e.geo_country
    where e.action = 'login'
      and e.outcome = 'success'
),

final as (
    select * from logins
    where lat is not null
      and lon is not null
)

select * from final
