-- name: load_runs_summary
-- description: One row per load run: when it started and finished, the policy version and digest it loaded with, the export folders, and its files and rows (read, loaded, duplicate, rejected) from the manifest.
-- returns: run_id BIGINT, started_at TIMESTAMP, finished_at TIMESTAMP, policy_version VARCHAR, policy_digest VARCHAR,
--          exports VARCHAR, files BIGINT, rows_read BIGINT, rows_loaded BIGINT, rows_duplicate BIGINT,
--          rows_rejected BIGINT
with manifest as (
    select
        run_id,
        count(*) as files,
        cast(sum(rows_read) as bigint) as rows_read,
        cast(sum(rows_loaded) as bigint) as rows_loaded,
        cast(sum(rows_duplicate) as bigint) as rows_duplicate,
        cast(sum(rows_rejected) as bigint) as rows_rejected
    from load_manifest
    group by run_id
),

final as (
    select
        r.run_id,
        r.started_at,
        r.finished_at,
        r.policy_version,
        substr(r.policy_digest, 1, 16) as policy_digest,
        array_to_string(r.exports, ', ') as exports,
        coalesce(m.files, 0) as files,
        coalesce(m.rows_read, 0) as rows_read,
        coalesce(m.rows_loaded, 0) as rows_loaded,
        coalesce(m.rows_duplicate, 0) as rows_duplicate,
        coalesce(m.rows_rejected, 0) as rows_rejected
    from load_runs as r
    left join manifest as m on m.run_id = r.run_id
)

select * from final
order by run_id
