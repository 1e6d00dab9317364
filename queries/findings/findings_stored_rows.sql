-- name: findings_stored_rows
-- description: The stored findings as of $as_of of the controls in $control_ids that a reader keeps: per control, its non-ok rows (alarms first, then errors, then the rest, at most $max_rows) and its ok rows when it has at most $small_ok of them.
-- params: as_of DATE, control_ids VARCHAR[], small_ok BIGINT, max_rows BIGINT
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with stored as (
    select * from findings_as_of
),

-- Counted apart, not as a window over every row: a filtered count over each control's partition ran for minutes
-- over 8 controls at once when one held 864,051 ok rows (DuckDB 2.0, 100M events).
ok_counts as (
    select
        control_id,
        count(*) as ok_rows
    from stored
    where status = 'ok'
    group by control_id
),

ranked as (
    select
        *,
        row_number() over (
            partition by control_id
            order by
                case status when 'alarm' then 0 when 'error' then 1 else 2 end,
                resource nulls last, status, severity, observed_at nulls last, reason nulls last
        ) as keep_rank
    from stored
    where status <> 'ok'
),

final as (
    select control_id, policy_section, resource, status, severity, reason, observed_at, evidence
    from ranked
    where keep_rank <= $max_rows
    union all
    select s.control_id, s.policy_section, s.resource, s.status, s.severity, s.reason, s.observed_at, s.evidence
    from stored as s
    inner join ok_counts as c on c.control_id = s.control_id
    where s.status = 'ok' and c.ok_rows <= $small_ok
)

-- The dashboard's own order (dashboard/data.py _trim): per resource, the kept non-ok rows (alarms,
-- then errors, then the rest) before its ok rows, each in run_controls' order.
select * from final
order by
    control_id,
    resource nulls last,
    case when status = 'ok' then 1 else 0 end,
    case status when 'alarm' then 0 when 'error' then 1 when 'ok' then 0 else 2 end,
    status,
    severity,
    observed_at nulls last,
    reason nulls last
