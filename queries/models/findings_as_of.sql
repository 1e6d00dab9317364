-- name: findings_as_of
-- description: The stored findings (compliance check --record, the dashboard's cache) as of $as_of of the controls in $control_ids: what findings_stored_rows keeps and findings_stored_summary counts.
-- params: as_of DATE, control_ids VARCHAR[]
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with final as (
    select
        control_id,
        policy_section,
        resource,
        status,
        severity,
        reason,
        observed_at,
        evidence
    from findings
    -- duckdb: list_contains (Spark: array_contains)
    where as_of = $as_of and list_contains($control_ids, control_id)
)

select * from final
