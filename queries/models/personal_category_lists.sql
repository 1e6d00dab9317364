-- name: personal_category_lists
-- description: The keys of the audit events' category lists (audit_category_lists) that hold at least one data category: an event whose list is one of them touched personal data, and one with the empty list did not. The one statement of that rule on category keys, which audit_data_actions (access.out_of_role and its ingest-time rollup) and access_actor_drilldown read instead of each event's list (reading the lists of one actor's events took a 100M-event scan from 0.3 to 0.6 s).
-- returns: categories_key INTEGER
with personal_lists as (
    select distinct categories_key
    from audit_category_lists
    where array_length(categories) > 0
),

final as (
    select * from personal_lists
)

select * from final
