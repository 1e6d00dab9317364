-- name: incident_notification_late
-- control: incident.notification_late
-- section: 5
-- severity: critical
-- requires: incidents
-- description: One row per incident involving personal data detected by $as_of: alarm when GDPR (EU/UK) regulator notification took, or has taken, more than $incidents_gdpr_notification_hours hours from detection, or the AU assessment (Privacy Act 1988 s26WH) more than $incidents_au_assessment_days days, counted in Australian local dates (incident_local_dates).
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with incidents_in_scope as (
    select
        incident_id,
        detected_at,
        jurisdictions,
        -- ';'-separated list, matched as whole items so that e.g. 'EU' never matches inside another code.
        ';' || replace(upper(coalesce(jurisdictions, '')), ' ', '') || ';' as juris_list,
        -- Steps stamped after as_of had not happened yet on that day.
        case when cast(regulator_notified_at as date) <= $as_of then regulator_notified_at end as notified_at,
        -- s26WH's 30 days are Australian days: the AU dates come from incident_local_dates (ingest).
        case when l.au_assessed_date <= $as_of then assessment_completed_at end as assessed_at,
        case when l.au_assessed_date <= $as_of then l.au_assessed_date end as au_assessed_date,
        l.au_detected_date,
        -- "As of" a date means at the end of that day.
        cast(date_add($as_of, 1) as timestamp) as as_of_end,
        -- 72.0 reads as "72".
        case
            when $incidents_gdpr_notification_hours = floor($incidents_gdpr_notification_hours)
                then cast(cast($incidents_gdpr_notification_hours as bigint) as varchar)
            else cast($incidents_gdpr_notification_hours as varchar)
        end as gdpr_limit_text
    from incidents
    left join incident_local_dates as l using (incident_id)
    where personal_data_involved
      and cast(detected_at as date) <= $as_of
),

jurisdiction_codes as (
    -- An incident may name jurisdictions (EU, UK, AU, US-CA...) or countries (DE, GB...): both map here.
    select country as code, jurisdiction from ref_country_jurisdictions
    union
    select jurisdiction as code, jurisdiction from ref_country_jurisdictions
),

regimes as (
    select
        i.incident_id,
        max(case when c.jurisdiction in ('EU', 'UK') then 1 else 0 end) = 1 as is_gdpr,
        max(case when c.jurisdiction = 'AU' then 1 else 0 end) = 1 as is_au
    from incidents_in_scope as i
    left join jurisdiction_codes as c on i.juris_list like '%;' || c.code || ';%'
    group by i.incident_id
),

assessed as (
    select
        i.*,
        r.is_gdpr,
        r.is_au,
        date_diff('second', i.detected_at, coalesce(i.notified_at, i.as_of_end)) / 3600.0 as gdpr_hours,
        date_diff('day', i.au_detected_date, coalesce(i.au_assessed_date, $as_of)) as au_days
    from incidents_in_scope as i
    inner join regimes as r on r.incident_id = i.incident_id
),

judged as (
    select
        *,
        is_gdpr and gdpr_hours > $incidents_gdpr_notification_hours as gdpr_late,
        is_au and au_days > $incidents_au_assessment_days as au_late,
        case
            when not is_gdpr then ''
            when notified_at is not null then
                'GDPR: regulator notified ' || cast(notified_at as varchar) || ', '
                || cast(round(gdpr_hours, 1) as varchar) || ' h after detection (limit '
                || gdpr_limit_text || ' h)'
            else
                'GDPR: regulator not notified, ' || cast(round(gdpr_hours, 1) as varchar)
                || ' h after detection by the end of ' || cast($as_of as varchar) || ' (limit '
                || gdpr_limit_text || ' h)'
        end as gdpr_text,
        case
            when not is_au then ''
            when assessed_at is not null then
                'AU: assessment completed ' || cast(au_assessed_date as varchar) || ', '
                || cast(au_days as varchar) || ' days after detection (limit '
                || cast($incidents_au_assessment_days as varchar) || ' days)'
            else
                'AU: assessment not completed, ' || cast(au_days as varchar) || ' days after detection as of '
                || cast($as_of as varchar) || ' (limit ' || cast($incidents_au_assessment_days as varchar) || ' days)'
        end as au_text
    from assessed
),

final as (
    select
        'incident.notification_late' as control_id,
        '5' as policy_section,
        'incident:' || incident_id as resource,
        case when gdpr_late or au_late then 'alarm' else 'ok' end as status,
        case
            when gdpr_late then 'critical'
            when au_late then 'high'
            else 'info'
        end as severity,
        'Incident ' || incident_id || ' with personal data (' || coalesce(jurisdictions, 'no jurisdictions')
        || '), detected ' || cast(detected_at as varchar)
        || case
            when not is_gdpr and not is_au then ': no GDPR or AU notification clock applies.'
            else
                ': ' || gdpr_text || case when is_gdpr and is_au then '; ' else '' end || au_text
                || case
                    when gdpr_late then '; critical: GDPR Art. 33 notification late.'
                    when au_late then '; high: the AU eligible-data-breach assessment is late.'
                    else '; within the limits.'
                end
        end as reason,
        detected_at as observed_at,
        [incident_id] as evidence
    from judged
)

select * from final
order by resource
