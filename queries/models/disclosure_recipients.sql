-- name: disclosure_recipients
-- requires: audit
-- description: Every recipient a disclosure named (in lower case, as audit_disclosures states it; read from the daily rollup audit_disclosure_days, which counts every disclosure) with the approved recipient it matches (ref_recipient_aliases: the recipient id itself, one of its domains, or a sub-domain of one, s3.eu-central-1.amazonaws.com -> aws; NULL = not an approved recipient). The one statement of whom a disclosure went to: disclosure_events (what disclosure.unapproved_recipient judges) and disclosure_by_recipient read it.
-- returns: recipient VARCHAR, recipient_id VARCHAR
-- Matched once per distinct recipient string (a handful), not per event.
with recipients as (
    select distinct recipient
    from audit_disclosure_days
),

final as (
    select
        r.recipient,
        min(a.recipient_id) as recipient_id
    from recipients as r
    left join ref_recipient_aliases as a
        on r.recipient = a.alias
        or ends_with(r.recipient, '.' || a.alias)
    group by r.recipient
)

select * from final
