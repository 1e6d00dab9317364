-- name: datamap_undeclared_category
-- control: datamap.undeclared_category
-- section: 2
-- severity: high
-- requires: audit
-- description: One row per data category observed in audit events or inventory records up to $as_of; alarm when the data map declares it for no system.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- Audit events are counted from their daily rollup (docs/database.md: one row per day and category), and only
-- the newest days' events are read for evidence; inventory records are few.
with event_days as (
    select
        data_category,
        events,
        first_at,
        last_at
    from audit_category_days
    where event_date <= $as_of
),

held_records as (
    -- A record counts as seen from its `created_at` (it has held the category since then).
    select
        r.data_category,
        r.system || '/' || r.store || '/' || r.record_id as evidence_id,
        r.created_at as seen_at
    from inventory_records as r
    where cast(r.created_at as date) <= $as_of
),

-- Evidence ids: audit event ids as-is, inventory records as `<system>/<store>/<record_id>`. Each event is
-- listed once per category it carries (ingestion stores its categories once), so plain counts are distinct.
observed as (
    select
        data_category,
        events,
        0 as records,
        first_at,
        last_at
    from event_days

    union all

    select
        data_category,
        0 as events,
        1 as records,
        seen_at as first_at,
        seen_at as last_at
    from held_records
),

per_category as (
    select
        data_category,
        sum(events) as events,
        sum(records) as records,
        min(first_at) as first_seen_at,
        max(last_at) as last_seen_at
    from observed
    group by data_category
),

-- Declared: a data-map category equals the observed key or descends from it (declared_data_categories).
declaring_systems as (
    select
        p.data_category,
        d.system_id
    from per_category as p
    inner join declared_data_categories as d on d.data_category = p.data_category
),

coverage as (
    select
        p.*,
        s.systems
    from per_category as p
    left join (
        select
            data_category,
            string_agg(system_id, ', ' order by system_id) as systems
        from declaring_systems
        group by data_category
    ) as s on s.data_category = p.data_category
),

-- The 20 most recent ids per category: enough to audit a finding without listing millions. A category's newest 20
-- events lie on its newest days, those with fewer than 20 of its events on later days (up to $as_of): their
-- newest events as the rollup keeps them, else their events alone (audit_category_events, the events the rollup
-- counts), joined on the day.
newest_event_days as (
    select
        data_category,
        event_date,
        newest_events
    from (
        select
            data_category,
            event_date,
            newest_events,
            sum(events) over (
                partition by data_category
                order by event_date desc
                rows between unbounded preceding and 1 preceding
            ) as later_events
        from audit_category_days
        where event_date <= $as_of
    ) as d
    where coalesce(later_events, 0) < 20
),

-- A day's newest events as the rollup keeps them (a day loaded since the database was built, or a category's newest
-- day then: compliance.ingest.derive.ROLLUP_NEWEST), else read from the day's events.
kept_newest as (
    select
        data_category,
        unnest(newest_events) as kept
    from newest_event_days
    where newest_events is not null
),

evidence_candidates as (
    select
        data_category,
        kept.event_id as evidence_id,
        kept.occurred_at as seen_at
    from kept_newest

    union all

    select
        e.data_category,
        e.event_id as evidence_id,
        e.occurred_at as seen_at
    from newest_event_days as d
    inner join audit_category_events as e
        on e.event_date = d.event_date
        and e.data_category = d.data_category
    where d.newest_events is null

    union all

    select
        data_category,
        evidence_id,
        seen_at
    from held_records
),

-- duckdb: max_by(x, y, n) keeps the top n in one aggregate pass (Spark: row_number() over a window).
evidence as (
    select
        data_category,
        max_by(evidence_id, row(seen_at, evidence_id), 20) as evidence  -- ties broken by id: stable output
    from evidence_candidates
    group by data_category
),

final as (
    select
        'category:' || c.data_category as resource,
        case when c.systems is null then 'alarm' else 'ok' end as status,
        case when c.systems is null then 'high' else 'info' end as severity,
        'Data category ' || c.data_category || ' was observed in ' || cast(c.events as varchar)
        || ' audit events and ' || cast(c.records as varchar) || ' inventory records from '
        || cast(cast(c.first_seen_at as date) as varchar) || ' to ' || cast(cast(c.last_seen_at as date) as varchar)
        || case
            when c.systems is null then ', but no system of the data map declares it.'
            else '; the data map declares it for ' || c.systems || '.'
        end as reason,
        c.last_seen_at as observed_at,
        e.evidence
    from coverage as c
    inner join evidence as e on e.data_category = c.data_category
)

select * from final
order by resource
