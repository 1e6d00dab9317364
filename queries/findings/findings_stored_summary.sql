-- name: findings_stored_summary
-- description: Per control in $control_ids, the stored findings as of $as_of counted by status, the highest severity among its alarms, and the reason of its first skip or error row (why it evidenced nothing).
-- params: as_of DATE, control_ids VARCHAR[]
-- returns: control_id VARCHAR, policy_section VARCHAR, rows BIGINT, alarm BIGINT, ok BIGINT, info BIGINT,
--          skip BIGINT, error BIGINT, suppressed BIGINT, highest_severity VARCHAR, note VARCHAR
with stored as (
    select
        *,
        -- Severity rank, ascending, as in compliance.controls.SEVERITIES.
        case severity
            when 'critical' then 5 when 'high' then 4 when 'medium' then 3 when 'low' then 2 else 1
        end as severity_rank
    from findings_as_of
),

alarm_severity as (
    select
        control_id,
        max(severity_rank) as top_rank
    from stored
    where status = 'alarm'
    group by control_id
),

ranked_notes as (
    -- Skip/error rows in run_controls' order, so the note is the one a live run would show.
    select
        control_id,
        reason,
        row_number() over (
            partition by control_id
            order by resource nulls last, status, severity, observed_at nulls last, reason nulls last
        ) as note_rank
    from stored
    where status in ('skip', 'error')
),

notes as (
    select
        control_id,
        reason as note
    from ranked_notes
    where note_rank = 1
),

counts as (
    select
        control_id,
        min(policy_section) as policy_section,
        count(*) as rows,
        count(*) filter (where status = 'alarm') as alarm,
        count(*) filter (where status = 'ok') as ok,
        count(*) filter (where status = 'info') as info,
        count(*) filter (where status = 'skip') as skip,
        count(*) filter (where status = 'error') as error,
        count(*) filter (where status = 'suppressed') as suppressed
    from stored
    group by control_id
),

final as (
    select
        c.control_id,
        c.policy_section,
        c.rows,
        c.alarm,
        c.ok,
        c.info,
        c.skip,
        c.error,
        c.suppressed,
        case a.top_rank
            when 5 then 'critical' when 4 then 'high' when 3 then 'medium' when 2 then 'low' when 1 then 'info'
        end as highest_severity,
        n.note
    from counts as c
    left join alarm_severity as a on a.control_id = c.control_id
    left join notes as n on n.control_id = c.control_id
)

select * from final
order by control_id
