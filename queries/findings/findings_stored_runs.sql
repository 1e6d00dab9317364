-- name: findings_stored_runs
-- description: The controls whose findings ingest stored for $as_of under the policy whose digest is $policy_digest, with the digest of the SQL text each was run from; a reader uses stored rows only for a control whose digest matches its current file.
-- params: as_of DATE, policy_digest VARCHAR
-- returns: control_id VARCHAR, sql_digest VARCHAR, rows BIGINT, seconds DOUBLE
with runs as (
    select
        control_id,
        sql_digest,
        rows,
        seconds
    from findings_runs
    where as_of = $as_of and policy_digest = $policy_digest
),

final as (
    select
        control_id,
        sql_digest,
        rows,
        seconds
    from runs
)

select * from final
order by control_id
