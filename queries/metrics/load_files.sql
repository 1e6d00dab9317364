-- name: load_files
-- description: One row per file in the load manifest: source folder, path, size, the load run and when it finished, rows read, loaded, duplicate and rejected, and the newest event in the file.
-- returns: source VARCHAR, path VARCHAR, file_id VARCHAR, size_bytes BIGINT, run_id BIGINT, loaded_at TIMESTAMP,
--          rows_read BIGINT, rows_loaded BIGINT, rows_duplicate BIGINT, rows_rejected BIGINT, newest_event_at TIMESTAMP
with files as (
    select
        m.source,
        m.path,
        m.file_id,
        m.size_bytes,
        m.run_id,
        m.load_seq,
        coalesce(r.finished_at, r.started_at) as loaded_at,
        m.rows_read,
        m.rows_loaded,
        m.rows_duplicate,
        m.rows_rejected,
        m.newest_event_at
    from load_manifest as m
    left join load_runs as r on r.run_id = m.run_id
),

final as (
    select
        source,
        path,
        file_id,
        size_bytes,
        run_id,
        loaded_at,
        rows_read,
        rows_loaded,
        rows_duplicate,
        rows_rejected,
        newest_event_at
    from files
)

select * from final
order by source, path, run_id
