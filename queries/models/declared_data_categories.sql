-- name: declared_data_categories
-- description: Which systems the data map declares each data category key for, one row per (key, system): a key is declared for a system when one of the system's data-map categories equals it or descends from it, so an exporter's coarser label (user.contact when the map holds user.contact.email) is declared, and a key finer than anything declared is not: the map must name it before the policy can claim to disclose it (the policy loader applies the same rule to roles and recipients: is_declared in compliance/config/bundle.py). The keys are the taxonomy's data categories (closed under parents) and the data map's own, which the policy loader checks against the taxonomy, so every ancestor of a declared category is listed. The one statement of "declared" that datamap.undeclared_category, datamap_observed_vs_declared and datamap_matrix read.
-- returns: data_category VARCHAR, system_id VARCHAR
with category_keys as (
    select fides_key as data_category from ref_taxonomy where kind = 'data_category'
    union
    select data_category from ref_data_map
),

final as (
    select distinct
        k.data_category,
        m.system_id
    from category_keys as k
    inner join ref_data_map as m
        on m.data_category = k.data_category
        or starts_with(m.data_category, k.data_category || '.')
)

select * from final
