-- name: filter_options
-- description: The values the dashboard's filters offer: data categories and systems that the data map declares or the exports show (audit events, as the ingest-time `audit_first_seen` lists them; inventory), each marked declared or not.
-- returns: kind VARCHAR, value VARCHAR, declared BOOLEAN
-- Every (kind, value) some source names: the data map declares its own, the exports only show theirs.
with named as (
    select 'category' as kind, data_category as value, true as declared from ref_data_map
    union all
    select 'system' as kind, system_id as value, true as declared from ref_data_map
    union all
    select kind, value, false as declared from audit_first_seen where kind in ('category', 'system')
    union all
    select distinct 'category' as kind, data_category as value, false as declared from inventory_records
    union all
    select distinct 'system' as kind, system as value, false as declared from inventory_records
),

final as (
    -- One row per value, declared when the data map names it.
    select kind, value, bool_or(declared) as declared
    from named
    where value is not null
    group by kind, value
)

select * from final
order by kind, value
