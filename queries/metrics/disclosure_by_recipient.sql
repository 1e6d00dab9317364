-- name: disclosure_by_recipient
-- requires: audit
-- description: Successful share and export events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), per recipient (lower case, as disclosure.unapproved_recipient compares): the approved recipient it matches (by id, domain or sub-domain; NULL = not approved) with its country and transfer mechanism, events, records, actors, categories and first and last disclosure.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: recipient VARCHAR, recipient_id VARCHAR, recipient_name VARCHAR, country VARCHAR, mechanism VARCHAR,
--          approved BOOLEAN, events BIGINT, records BIGINT, actors BIGINT, categories VARCHAR,
--          first_at TIMESTAMP, last_at TIMESTAMP
-- The disclosures and their matched recipients as disclosure.unapproved_recipient judges them (disclosure_events).
with disclosures as (
    select * from disclosure_events
    where ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
),

per_recipient as (
    select
        recipient,
        min(recipient_id) as recipient_id,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(distinct actor_id) as actors,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from disclosures
    group by recipient
),

recipient_categories as (
    select
        recipient,
        string_agg(distinct data_category, ', ' order by data_category) as categories
    from (
        select
            d.recipient,
            c.data_category
        from disclosures as d
        cross join unnest(d.categories) as c (data_category)
    ) as x
    group by recipient
),

final as (
    select
        p.recipient,
        p.recipient_id,
        r.name as recipient_name,
        r.country,
        r.mechanism,
        p.recipient_id is not null as approved,
        p.events,
        p.records,
        p.actors,
        c.categories,
        p.first_at,
        p.last_at
    from per_recipient as p
    left join ref_recipients as r on r.recipient_id = p.recipient_id
    left join recipient_categories as c on c.recipient = p.recipient
)

select * from final
order by approved, records desc, recipient
