-- name: policy_sections
-- description: The privacy policy text the database was loaded with: one row per section (PS, then 1..9) in the policy's order, with its title, text and version.
-- returns: section_id VARCHAR, section_order INTEGER, title VARCHAR, text VARCHAR, policy_version VARCHAR
with sections as (
    -- Section ids are 'PS' (the procurement summary, first in the document) or the section's number.
    select
        section_id,
        case when section_id = 'PS' then 0 else cast(section_id as integer) end as section_order,
        title,
        text,
        policy_version
    from ref_policy_sections
),

final as (
    select * from sections
)

select * from final
order by section_order, section_id
