-- name: disclosure_by_recipient
-- requires: audit
-- description: Successful share and export events up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), per recipient (lower case, as disclosure.unapproved_recipient compares): the approved recipient it matches (by id, domain or sub-domain; NULL = not approved) with its country and transfer mechanism, events, records, actors, categories and first and last disclosure.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: recipient VARCHAR, recipient_id VARCHAR, recipient_name VARCHAR, country VARCHAR, mechanism VARCHAR,
--          approved BOOLEAN, events BIGINT, records BIGINT, actors BIGINT, categories VARCHAR,
--          first_at TIMESTAMP, last_at TIMESTAMP
with disclosures as (
    select
        event_id,
        actor_id,
        occurred_at,
        lower(recipient) as recipient,
        coalesce(record_count, 1) as records,
        categories
    from audit_events
    where action in ('share', 'export')
      and outcome = 'success'
      and recipient is not null
      and event_date <= $as_of
      and ($start_date is null or event_date >= $start_date)
      and ($end_date is null or event_date <= $end_date)
),

recipient_match as (
    select
        d.recipient,
        min(a.recipient_id) as recipient_id
    from (select distinct recipient from disclosures) as d
    left join ref_recipient_aliases as a
        on d.recipient = a.alias
        or ends_with(d.recipient, '.' || a.alias)
    group by d.recipient
),

per_recipient as (
    select
        recipient,
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
        m.recipient_id,
        r.name as recipient_name,
        r.country,
        r.mechanism,
        m.recipient_id is not null as approved,
        p.events,
        p.records,
        p.actors,
        c.categories,
        p.first_at,
        p.last_at
    from per_recipient as p
    inner join recipient_match as m on m.recipient = p.recipient
    left join ref_recipients as r on r.recipient_id = m.recipient_id
    left join recipient_categories as c on c.recipient = p.recipient
)

select * from final
order by approved, records desc, recipient
