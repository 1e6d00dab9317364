-- name: disclosure_events
-- requires: audit
-- description: Every successful share or export event up to $as_of that names a recipient, with the system it left (audit_event_systems: the one that recorded the event, else the one its resource_type belongs to in the data map), the recipient in lower case (domains are case-insensitive) and the approved recipient it matches (ref_recipient_aliases: the recipient id itself, one of its domains, or a sub-domain of one, s3.eu-central-1.amazonaws.com -> aws; NULL = not an approved recipient). The one statement of what a disclosure is and whom it went to, that disclosure.unapproved_recipient, disclosure_by_recipient and datamap_observed_vs_declared read.
-- params: as_of DATE
-- returns: event_id VARCHAR, actor_id VARCHAR, occurred_at TIMESTAMP, event_date DATE, system_id VARCHAR,
--          recipient VARCHAR, records BIGINT, categories VARCHAR[], recipient_id VARCHAR
with disclosures as (
    select
        event_id,
        actor_id,
        occurred_at,
        event_date,
        system_id,
        lower(recipient) as recipient,
        records,
        categories
    from audit_event_systems
    where action in ('share', 'export')
      and outcome = 'success'
      and recipient is not null
),

-- Matched once per distinct recipient string (a handful), not per event.
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

final as (
    select
        d.*,
        m.recipient_id
    from disclosures as d
    inner join recipient_match as m on m.recipient = d.recipient
)

select * from final
