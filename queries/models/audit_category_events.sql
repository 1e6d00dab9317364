-- name: audit_category_events
-- requires: audit
-- description: Every audit event once per data category it carries (the enrichment lists each category once), whatever its action or outcome: the events the daily rollup audit_category_days counts (compliance.ingest.derive), and those datamap.undeclared_category reads its evidence from, on the few newest days it needs.
-- returns: event_date DATE, data_category VARCHAR, occurred_at TIMESTAMP, event_id VARCHAR
-- duckdb: cross join unnest(list) (Spark: lateral view explode).
with category_events as (
    select
        e.event_date,
        c.data_category,
        e.occurred_at,
        e.event_id
    from audit_events as e
    cross join unnest(e.categories) as c (data_category)
),

final as (
    select * from category_events
)

select * from final
