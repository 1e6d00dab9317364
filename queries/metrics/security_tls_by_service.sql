-- name: security_tls_by_service
-- requires: diagnostic
-- description: Diagnostic lines up to $as_of, optionally from $start_date to $end_date (NULL = open-ended), per service and setting: network lines by TLS version, storage lines by encrypted or not; lines, lines carrying personal data (a subject or tenant id, diagnostic_lines_as_of: the proxy security.unencrypted_transport uses), first and last seen.
-- params: as_of DATE, start_date DATE, end_date DATE
-- returns: service VARCHAR, line_kind VARCHAR, setting VARCHAR, lines BIGINT, personal_data_lines BIGINT,
--          first_at TIMESTAMP, last_at TIMESTAMP
with lines as (
    select
        service,
        occurred_at,
        tls_version,
        storage_encrypted,
        carries_personal_data
    from diagnostic_lines_as_of
    where ($start_date is null or cast(occurred_at as date) >= $start_date)
      and ($end_date is null or cast(occurred_at as date) <= $end_date)
),

-- A line is a network line when it names a TLS version (or `none`), a storage line when it says whether
-- storage was encrypted; a line may be both, and lines that are neither are left out.
settings as (
    select
        service,
        'network' as line_kind,
        tls_version as setting,
        occurred_at,
        carries_personal_data
    from lines
    where tls_version is not null
      and tls_version <> ''
    union all
    select
        service,
        'storage' as line_kind,
        case when storage_encrypted then 'encrypted' else 'unencrypted' end as setting,
        occurred_at,
        carries_personal_data
    from lines
    where storage_encrypted is not null
),

final as (
    select
        service,
        line_kind,
        setting,
        count(*) as lines,
        count(case when carries_personal_data then 1 end) as personal_data_lines,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at
    from settings
    group by service, line_kind, setting
)

select * from final
order by service, line_kind, setting
