-- name: datamap_personal_data_in_logs
-- control: datamap.personal_data_in_logs
-- section: 2
-- severity: high
-- requires: diagnostic
-- description: One row per service in the diagnostic logs up to $as_of: alarm when its messages contain email addresses, phone numbers or card numbers, with counts per kind.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with scanned as (
    -- Every pattern lives in this CTE. They use [0-9], [.], [+] instead of backslash escapes, which
    -- Spark string literals would unescape (regexp_matches is `rlike` there). Each pattern is fenced by
    -- a non-alphanumeric character (or the text's edge) so that parts of longer ids, hashes, IPs and
    -- decimals do not match.
    -- email: local@domain.tld.
    -- phone: E.164 (+61412345678); international with separators (+61 412 345 678, +1 (415) 555-0100);
    --        North American (415) 555-0100 / 415-555-0100 / 415.555.0100; national trunk-prefixed
    --        0412 345 678 / 02 9876 5432 / 020 7946 0958 (AU, UK, EU), 10 or 11 digits.
    -- card:  13-19 digits, optionally space/dash separated, starting with an issuer prefix (Visa 4,
    --        Mastercard 51-55 / 22-27, Amex 34/37, Discover 6011/65). The prefix is what separates a
    --        card from an ordinary numeric id (epoch millis and most counters start with 1); no Luhn check.
    select
        service,
        line_id,
        occurred_at,
        coalesce(
            regexp_matches(message, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+([.][A-Za-z0-9-]+)*[.][A-Za-z]{2,}'),
            false
        ) as has_email,
        coalesce(
            regexp_matches(
                message,
                '(^|[^0-9A-Za-z._-])('
                || '[+][1-9][0-9]{7,14}'
                || '|[+][1-9][0-9]{0,2}[ .-]?[(]?[0-9]{1,4}[)]?([ .-][0-9]{2,5}){2,3}'
                || '|([(][2-9][0-9]{2}[)] ?|[2-9][0-9]{2}[ .-])[0-9]{3}[ .-][0-9]{4}'
                || '|0[1-9]([ -]?[0-9]){8,9}'
                || ')([^0-9A-Za-z]|$)'
            ),
            false
        ) as has_phone,
        coalesce(
            regexp_matches(
                message,
                '(^|[^0-9A-Za-z._+-])(4[0-9]{3}|5[1-5][0-9]{2}|2[2-7][0-9]{2}|3[47][0-9]{2}|6011|65[0-9]{2})'
                || '([ -]?[0-9]){9,15}([^0-9A-Za-z]|$)'
            ),
            false
        ) as has_card
    from diagnostic_logs
    where cast(occurred_at as date) <= $as_of
),

flagged as (
    select
        *,
        has_email or has_phone or has_card as has_personal_data
    from scanned
),

per_service as (
    select
        service,
        count(*) as lines,
        sum(case when has_email then 1 else 0 end) as email_lines,
        sum(case when has_phone then 1 else 0 end) as phone_lines,
        sum(case when has_card then 1 else 0 end) as card_lines,
        sum(case when has_personal_data then 1 else 0 end) as flagged_lines,
        min(case when has_personal_data then occurred_at end) as first_flagged_at,
        max(case when has_personal_data then occurred_at end) as last_flagged_at,
        min(occurred_at) as first_line_at,
        max(occurred_at) as last_line_at,
        -- The 20 most recent flagged lines: enough to audit the finding. duckdb: max_by(x, y, n) keeps them in
        -- the same aggregate pass instead of a window over the lines (Spark: a sorted list); ties broken by id.
        max_by(line_id, row(occurred_at, line_id), 20) filter (where has_personal_data) as evidence
    from flagged
    group by service
),

final as (
    select
        'service:' || s.service as resource,
        case when s.flagged_lines > 0 then 'alarm' else 'ok' end as status,
        case
            when s.card_lines > 0 then 'critical'
            when s.flagged_lines > 0 then 'high'
            else 'info'
        end as severity,
        case
            when s.flagged_lines > 0 then
                'Service ' || s.service || ' logged personal data in ' || cast(s.flagged_lines as varchar) || ' of '
                || cast(s.lines as varchar) || ' diagnostic lines from ' || cast(cast(s.first_flagged_at as date) as varchar)
                || ' to ' || cast(cast(s.last_flagged_at as date) as varchar) || ': ' || cast(s.email_lines as varchar)
                || ' with email addresses, ' || cast(s.phone_lines as varchar) || ' with phone numbers, '
                || cast(s.card_lines as varchar) || ' with card numbers.'
            else
                'Service ' || s.service || ': none of its ' || cast(s.lines as varchar) || ' diagnostic lines from '
                || cast(cast(s.first_line_at as date) as varchar) || ' to ' || cast(cast(s.last_line_at as date) as varchar)
                || ' contains an email address, phone number or card number.'
        end as reason,
        coalesce(s.last_flagged_at, s.last_line_at) as observed_at,
        coalesce(s.evidence, cast([] as varchar[])) as evidence
    from per_service as s
)

select * from final
order by resource
