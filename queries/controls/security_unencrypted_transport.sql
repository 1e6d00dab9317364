-- name: security_unencrypted_transport
-- control: security.unencrypted_transport
-- section: 5
-- severity: high
-- requires: diagnostic
-- description: One row per service in the diagnostic logs up to $as_of: alarm when network lines carrying personal data (subject or tenant id) used TLS below $security_min_tls_version or none, or storage lines were unencrypted.
-- params: as_of DATE, security_min_tls_version VARCHAR
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with tls_ranks as (
    -- Protocol versions in order, so "below the minimum" is a comparison; `none` is plaintext. An
    -- empty or unknown tls_version (non-network line) has no rank and is not judged on transport.
    select 'none' as tls_version, 0 as tls_rank
    union all
    select 'TLSv1.0', 10
    union all
    select 'TLSv1.1', 11
    union all
    select 'TLSv1.2', 12
    union all
    select 'TLSv1.3', 13
),

minimum as (
    select tls_rank as min_rank
    from tls_ranks
    where tls_version = $security_min_tls_version
),

-- Whether a line carries personal data (the line names a subject or a tenant): diagnostic_lines_as_of.
lines as (
    select
        l.service,
        l.line_id,
        l.occurred_at,
        l.tls_version,
        r.tls_rank is not null as is_network,
        l.storage_encrypted is not null as is_storage,
        l.carries_personal_data,
        coalesce(r.tls_rank < m.min_rank, false) as below_minimum,
        coalesce(not l.storage_encrypted, false) as unencrypted_storage
    from diagnostic_lines_as_of as l
    left join tls_ranks as r on r.tls_version = l.tls_version
    cross join minimum as m
),

flagged as (
    select
        *,
        below_minimum and carries_personal_data as weak_transport,
        (below_minimum and carries_personal_data) or unencrypted_storage as is_flagged
    from lines
),

weak_versions as (
    select
        service,
        string_agg(tls_version || ': ' || cast(lines as varchar), ', ' order by tls_version) as versions_text
    from (
        select
            service,
            tls_version,
            count(*) as lines
        from flagged
        where weak_transport
        group by service, tls_version
    ) as v
    group by service
),

per_service as (
    select
        service,
        count(case when is_network and carries_personal_data then 1 end) as personal_network_lines,
        count(case when weak_transport then 1 end) as weak_lines,
        count(case when is_storage then 1 end) as storage_lines,
        count(case when unencrypted_storage then 1 end) as unencrypted_lines,
        min(case when is_flagged then occurred_at end) as first_flagged_at,
        max(case when is_flagged then occurred_at end) as last_flagged_at,
        max(occurred_at) as last_line_at,
        -- Evidence: the 20 most recent flagged lines. duckdb: max_by(x, y, n) keeps them in the same aggregate
        -- pass instead of a window over the lines (Spark: a sorted list); ties broken by id.
        max_by(line_id, row(occurred_at, line_id), 20) filter (where is_flagged) as evidence
    from flagged
    group by service
),

final as (
    select
        'service:' || p.service as resource,
        case when p.weak_lines + p.unencrypted_lines > 0 then 'alarm' else 'ok' end as status,
        case when p.weak_lines + p.unencrypted_lines > 0 then 'high' else 'info' end as severity,
        case
            when p.weak_lines + p.unencrypted_lines > 0 then
                'Service ' || p.service || ' from ' || cast(cast(p.first_flagged_at as date) as varchar) || ' to '
                || cast(cast(p.last_flagged_at as date) as varchar) || ': ' || cast(p.weak_lines as varchar) || ' of '
                || cast(p.personal_network_lines as varchar) || ' network lines carrying personal data used less than '
                || $security_min_tls_version || coalesce(' (' || w.versions_text || ')', '') || ', and '
                || cast(p.unencrypted_lines as varchar) || ' of ' || cast(p.storage_lines as varchar)
                || ' storage lines were unencrypted.'
            else
                'Service ' || p.service || ': all ' || cast(p.personal_network_lines as varchar)
                || ' network lines carrying personal data used ' || $security_min_tls_version || ' or newer, and all '
                || cast(p.storage_lines as varchar) || ' storage lines were encrypted.'
        end as reason,
        coalesce(p.last_flagged_at, p.last_line_at) as observed_at,
        coalesce(p.evidence, cast([] as varchar[])) as evidence
    from per_service as p
    left join weak_versions as w on w.service = p.service
)

select * from final
order by resource
