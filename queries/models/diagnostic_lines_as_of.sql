-- name: diagnostic_lines_as_of
-- requires: diagnostic
-- description: The diagnostic log lines up to $as_of, each with whether it carries personal data: the contract's proxy for "serves personal data" is a line that names a subject or a tenant. The one statement of that proxy that security.unencrypted_transport and security_tls_by_service read.
-- params: as_of DATE
-- returns: service VARCHAR, line_id VARCHAR, occurred_at TIMESTAMP, tls_version VARCHAR, storage_encrypted BOOLEAN,
--          carries_personal_data BOOLEAN
with final as (
    select
        service,
        line_id,
        occurred_at,
        tls_version,
        storage_encrypted,
        subject_id is not null or tenant_id is not null as carries_personal_data
    from diagnostic_logs
    where cast(occurred_at as date) <= $as_of
)

select * from final
