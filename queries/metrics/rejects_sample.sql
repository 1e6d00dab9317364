-- name: rejects_sample
-- description: Up to $max_rows rejected rows (in source, path and line order): source, file path, line, field, reason and the raw text (cut at 500 characters).
-- params: max_rows INTEGER
-- returns: source VARCHAR, path VARCHAR, line BIGINT, field VARCHAR, reason VARCHAR, raw VARCHAR
with ordered as (
    select
        *,
        row_number() over (order by source, path, line, field) as rn
    from rejects
),

final as (
    select
        source,
        path,
        line,
        field,
        reason,
        substr(raw, 1, 500) as raw
    from ordered
    where rn <= $max_rows
)

select * from final
order by source, path, line, field
