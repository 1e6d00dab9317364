-- name: filter_options
-- description: The values the dashboard's filters offer: data categories and systems that the data map declares or the exports show (audit events, as the ingest-time `audit_first_seen` lists them; inventory), each marked declared or not.
-- returns: kind VARCHAR, value VARCHAR, declared BOOLEAN
with categories as (
    select data_category as value, true as declared from ref_data_map
    union all
    select value, false as declared from audit_first_seen where kind = 'category'
    union all
    select distinct data_category as value, false as declared from inventory_records
),

systems as (
    select system_id as value, true as declared from ref_data_map
    union all
    select value, false as declared from audit_first_seen where kind = 'system'
    union all
    select distinct system as value, false as declared from inventory_records
),

final as (
    select 'category' as kind, value, bool_or(declared) as declared
    from categories
    where value is not null
    group by value
    union all
    select 'system' as kind, value, bool_or(declared) as declared
    from systems
    where value is not null
    group by value
)

select * from final
order by kind, value
