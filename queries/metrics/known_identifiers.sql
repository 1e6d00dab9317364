-- name: known_identifiers
-- description: Every actor id (directory accounts and audit event actors, including role-grant targets, from the ingest-time `audit_first_seen`) and subject id (subjects, the DSR register, audit events as `audit_first_seen` keeps them, usage events) the database knows, so the dashboard can pseudonymise them wherever they appear in text; an id that is both is listed as an actor.
-- returns: kind VARCHAR, id VARCHAR
with actors as (
    select actor_id as id from directory_accounts
    union
    select value as id from audit_first_seen where kind = 'actor'
),

subjects as (
    select subject_id as id from subjects
    union
    select subject_id as id from dsr_requests where subject_id is not null
    union
    select value as id from audit_first_seen where kind = 'subject'
    union
    select user_id as id from usage_events where user_id is not null
),

final as (
    select 'actor' as kind, id from actors
    union all
    select 'subject' as kind, s.id
    from subjects as s
    left join actors as a on a.id = s.id
    where a.id is null
)

select * from final
order by kind, id
