-- name: disclosure_by_recipient
-- requires: audit
-- description: Successful share and export events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), per recipient (lower case, as disclosure.unapproved_recipient compares): the approved recipient it matches (by id, domain or sub-domain; NULL = not approved) with its country and transfer mechanism, events, records, actors, categories and first and last disclosure.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: recipient VARCHAR, recipient_id VARCHAR, recipient_name VARCHAR, country VARCHAR, mechanism VARCHAR,
--          approved BOOLEAN, events BIGINT, records BIGINT, actors BIGINT, categories VARCHAR,
--          first_at TIMESTAMP, last_at TIMESTAMP
-- The disclosures (audit_disclosures) counted per day, recipient, actor and category list at ingest
-- (audit_disclosure_days), and the approved recipient each recipient matches as disclosure.unapproved_recipient
-- judges it (disclosure_recipients).
with disclosures as (
    select * from audit_disclosure_days
    where event_date <= $as_of
      and ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
),

per_recipient as (
    select
        recipient,
        sum(events) as events,
        cast(sum(records) as bigint) as records,
        count(distinct actor_id) as actors,
        min(first_at) as first_at,
        max(last_at) as last_at
    from disclosures
    group by recipient
),

-- duckdb: cross join unnest(list) (Spark: lateral view explode).
recipient_categories as (
    select
        recipient,
        string_agg(distinct data_category, ', ' order by data_category) as categories
    from (
        select
            d.recipient,
            c.data_category
        from (select distinct recipient, categories_key from disclosures) as d
        inner join audit_category_lists as l on l.categories_key = d.categories_key
        cross join unnest(l.categories) as c (data_category)
    ) as x
    group by recipient
),

final as (
    select
        p.recipient,
        m.recipient_id,
        r.name as recipient_name,
        r.country,
        r.mechanism,
        m.recipient_id is not null as approved,
        cast(p.events as bigint) as events,
        p.records,
        p.actors,
        c.categories,
        p.first_at,
        p.last_at
    from per_recipient as p
    left join disclosure_recipients as m on m.recipient = p.recipient
    left join ref_recipients as r on r.recipient_id = m.recipient_id
    left join recipient_categories as c on c.recipient = p.recipient
)

select * from final
order by approved, records desc, recipient
