-- name: disclosure_unapproved_recipient
-- control: disclosure.unapproved_recipient
-- section: PS
-- severity: high
-- requires: audit
-- description: Successful share/export events up to $as_of, per recipient: alarm when the recipient is not an approved processor (high) or an approved one received categories outside its approved list (medium); ok otherwise.
-- params: as_of DATE
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- Each disclosure and the approved recipient it matches (NULL: none), as the model disclosure_events states it.
with matched as (
    select * from disclosure_events
),

event_categories as (
    select
        m.event_id,
        m.recipient,
        m.recipient_id,
        c.data_category
    from matched as m
    cross join unnest(m.categories) as c (data_category)
),

-- A category is in scope when one of the recipient's approved categories equals or covers it.
out_of_scope as (
    select
        e.event_id,
        e.recipient_id,
        e.data_category
    from event_categories as e
    left join ref_recipient_categories as rc
        on rc.recipient_id = e.recipient_id
        and (e.data_category = rc.data_category or starts_with(e.data_category, rc.data_category || '.'))
    where e.recipient_id is not null
    group by e.event_id, e.recipient_id, e.data_category
    having count(rc.data_category) = 0
),

out_of_scope_events as (
    select
        event_id,
        string_agg(data_category, ', ' order by data_category) as categories_text
    from out_of_scope
    group by event_id
),

-- Approved recipients are reported by id, unapproved ones by the recipient string the event named.
judged as (
    select
        m.*,
        coalesce(m.recipient_id, m.recipient) as recipient_key,
        o.event_id is not null as is_out_of_scope
    from matched as m
    left join out_of_scope_events as o on o.event_id = m.event_id
),

recipient_categories as (
    select
        coalesce(recipient_id, recipient) as recipient_key,
        string_agg(distinct data_category, ', ' order by data_category) as categories_text
    from event_categories
    group by coalesce(recipient_id, recipient)
),

scope_categories as (
    select
        recipient_id as recipient_key,
        string_agg(distinct data_category, ', ' order by data_category) as categories_text
    from out_of_scope
    group by recipient_id
),

approved_lists as (
    select
        recipient_id as recipient_key,
        string_agg(data_category, ', ' order by data_category) as categories_text
    from ref_recipient_categories
    group by recipient_id
),

ranked as (
    -- Evidence: the 20 most recent events behind each row (the out-of-scope ones for that alarm).
    select
        *,
        row_number() over (
            partition by recipient_key, (recipient_id is null or is_out_of_scope)
            order by occurred_at desc, event_id desc
        ) as evidence_rank
    from judged
),

per_recipient as (
    select
        recipient_key,
        min(recipient_id) as recipient_id,
        count(*) as events,
        cast(sum(records) as bigint) as records,
        count(distinct actor_id) as actors,
        string_agg(distinct actor_id, ', ' order by actor_id) as actors_text,
        min(occurred_at) as first_at,
        max(occurred_at) as last_at,
        max(case when recipient_id is null or is_out_of_scope then occurred_at end) as last_problem_at,
        count(case when is_out_of_scope then 1 end) as out_of_scope_events,
        cast(sum(case when is_out_of_scope then records else 0 end) as bigint) as out_of_scope_records,
        array_agg(event_id order by evidence_rank) filter (
            where evidence_rank <= 20 and (recipient_id is null or is_out_of_scope)
        ) as problem_evidence,
        array_agg(event_id order by evidence_rank) filter (where evidence_rank <= 20) as any_evidence
    from ranked
    group by recipient_key
),

final as (
    select
        'recipient:' || p.recipient_key as resource,
        case when p.recipient_id is null or p.out_of_scope_events > 0 then 'alarm' else 'ok' end as status,
        case
            when p.recipient_id is null then 'high'
            when p.out_of_scope_events > 0 then 'medium'
            else 'info'
        end as severity,
        case
            when p.recipient_id is null then
                'Personal data went to ' || p.recipient_key || ', which is not an approved recipient: '
                || cast(p.events as varchar) || ' share/export events (' || cast(p.records as varchar) || ' records'
                || coalesce('; categories ' || c.categories_text, '') || ') by ' || p.actors_text || ' from '
                || cast(cast(p.first_at as date) as varchar) || ' to ' || cast(cast(p.last_at as date) as varchar) || '.'
            when p.out_of_scope_events > 0 then
                'Approved recipient ' || p.recipient_key || ' received categories outside its approved list ('
                || s.categories_text || ') in ' || cast(p.out_of_scope_events as varchar) || ' of '
                || cast(p.events as varchar) || ' share/export events (' || cast(p.out_of_scope_records as varchar)
                || ' records) from ' || cast(cast(p.first_at as date) as varchar) || ' to '
                || cast(cast(p.last_at as date) as varchar) || '; it is approved for ' || a.categories_text || '.'
            else
                'Approved recipient ' || p.recipient_key || ' received ' || cast(p.events as varchar)
                || ' share/export events (' || cast(p.records as varchar) || ' records) from '
                || cast(cast(p.first_at as date) as varchar) || ' to ' || cast(cast(p.last_at as date) as varchar)
                || ', all within its approved categories.'
        end as reason,
        coalesce(p.last_problem_at, p.last_at) as observed_at,
        coalesce(p.problem_evidence, p.any_evidence) as evidence
    from per_recipient as p
    left join recipient_categories as c on c.recipient_key = p.recipient_key
    left join scope_categories as s on s.recipient_key = p.recipient_key
    left join approved_lists as a on a.recipient_key = p.recipient_key
)

select * from final
order by resource
