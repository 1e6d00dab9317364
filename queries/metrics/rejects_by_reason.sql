-- name: rejects_by_reason
-- description: Rejected rows per source folder, field and reason: how many rows, from how many files, and the first one (path and line) to look at.
-- returns: source VARCHAR, field VARCHAR, reason VARCHAR, rows_rejected BIGINT, files BIGINT, first_path VARCHAR,
--          first_line BIGINT
with ranked as (
    select
        source,
        coalesce(field, '(row)') as field,
        reason,
        file_id,
        path,
        line,
        row_number() over (partition by source, coalesce(field, '(row)'), reason order by path, line) as rn
    from rejects
),

final as (
    select
        source,
        field,
        reason,
        count(*) as rows_rejected,
        count(distinct file_id) as files,
        max(case when rn = 1 then path end) as first_path,
        max(case when rn = 1 then line end) as first_line
    from ranked
    group by source, field, reason
)

select * from final
order by rows_rejected desc, source, field, reason
