-- name: diagnostic_line_flags
-- requires: diagnostic
-- description: Every diagnostic log line with whether its message holds an email address, a phone number or a card number: the one statement of datamap.personal_data_in_logs' patterns. The ingest counts them per service and day (diagnostic_service_days, compliance.ingest.derive) and keeps each service-day's 20 newest that hold any (diagnostic_flagged_lines), which the control reads instead of matching messages.
-- returns: service VARCHAR, line_id VARCHAR, occurred_at TIMESTAMP, has_email BOOLEAN, has_phone BOOLEAN,
--          has_card BOOLEAN, has_personal_data BOOLEAN
-- The patterns use [0-9], [.], [+] instead of backslash escapes, which Spark string literals would unescape
-- (regexp_matches is `rlike` there). Each pattern is fenced by a non-alphanumeric character (or the text's edge) so
-- that parts of longer ids, hashes, IPs and decimals do not match.
-- email: local@domain.tld.
-- phone: E.164 (+61412345678); international with separators (+61 412 345 678, +1 (415) 555-0100);
--        North American (415) 555-0100 / 415-555-0100 / 415.555.0100; national trunk-prefixed
--        0412 345 678 / 02 9876 5432 / 020 7946 0958 (AU, UK, EU), 10 or 11 digits.
-- card:  13-19 digits, optionally space/dash separated, starting with an issuer prefix (Visa 4,
--        Mastercard 51-55 / 22-27, Amex 34/37, Discover 6011/65). The prefix is what separates a
--        card from an ordinary numeric id (epoch millis and most counters start with 1); no Luhn check.
with flags as (
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
),

final as (
    select
        *,
        has_email or has_phone or has_card as has_personal_data
    from flags
)

select * from final
