-- name: datamap_personal_data_in_logs
-- control: datamap.personal_data_in_logs
-- section: 2
-- severity: high
-- requires: diagnostic
-- description: One row per service in the diagnostic logs up to $as_of: alarm when its messages contain email addresses, phone numbers or card numbers, with counts per kind.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The patterns are the model diagnostic_line_flags'. The ingest counts each service's lines per UTC day and those
-- that match (diagnostic_service_days), and keeps each service-day's 20 newest that match
-- (diagnostic_flagged_lines), so no message is matched again here (100M demo events: 1.2M messages, 0.7 s).
with service_days as (
    select *
    from diagnostic_service_days
    where event_date <= $as_of
),

per_service as (
    select
        service,
        sum(lines) as lines,
        sum(email_lines) as email_lines,
        sum(phone_lines) as phone_lines,
        sum(card_lines) as card_lines,
        sum(flagged_lines) as flagged_lines,
        min(flagged_first_at) as first_flagged_at,
        max(flagged_last_at) as last_flagged_at,
        min(first_at) as first_line_at,
        max(last_at) as last_line_at
    from service_days
    group by service
),

-- A service's 20 most recent flagged lines up to the as-of date are among the 20 newest of each of its days.
newest_flagged as (
    select
        service,
        -- Enough to audit the finding. duckdb: max_by(x, y, n) keeps them in one pass (Spark: a sorted list); ties
        -- broken by id.
        max_by(line_id, row(occurred_at, line_id), 20) as evidence
    from diagnostic_flagged_lines
    where event_date <= $as_of
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
        coalesce(n.evidence, cast([] as varchar[])) as evidence
    from per_service as s
    left join newest_flagged as n on n.service is not distinct from s.service
)

select * from final
order by resource
