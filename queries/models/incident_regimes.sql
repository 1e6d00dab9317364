-- name: incident_regimes
-- requires: incidents
-- description: The breach-notification regimes each incident falls under, one row per incident and regime: EU and UK (GDPR Art. 33/34) and AU (Privacy Act 1988 Part IIIC). An incident names jurisdictions (EU, AU, US-CA...) or countries (DE, GB...) in a ';'-separated list, each mapped through ref_country_jurisdictions and matched as a whole item, so 'EU' never matches inside another code. Stated once for incident.notification_late and incident_clocks.
-- returns: incident_id VARCHAR, jurisdiction VARCHAR
with listed as (
    select
        incident_id,
        ';' || replace(upper(coalesce(jurisdictions, '')), ' ', '') || ';' as juris_list
    from incidents
),

jurisdiction_codes as (
    select country as code, jurisdiction from ref_country_jurisdictions
    union
    select jurisdiction as code, jurisdiction from ref_country_jurisdictions
),

final as (
    select distinct
        i.incident_id,
        c.jurisdiction
    from listed as i
    inner join jurisdiction_codes as c on i.juris_list like '%;' || c.code || ';%'
    where c.jurisdiction in ('EU', 'UK', 'AU')
)

select * from final
