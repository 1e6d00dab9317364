-- name: incident_clocks
-- requires: incidents
-- description: One row per incident detected by $as_of: whether it involved personal data, which clocks apply (GDPR for EU/UK: regulator notice within $incidents_gdpr_notification_hours hours; AU: assessment within $incidents_au_assessment_days days), hours to the regulator notice (or elapsed by the end of $as_of while none), days to the assessment (or elapsed), and whether each clock was missed, as incident.notification_late judges.
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: incident_id VARCHAR, detected_at TIMESTAMP, severity VARCHAR, status VARCHAR, jurisdictions VARCHAR,
--          personal_data_involved BOOLEAN, is_gdpr BOOLEAN, is_au BOOLEAN, contained_at TIMESTAMP,
--          regulator_notified_at TIMESTAMP, gdpr_hours DOUBLE, gdpr_late BOOLEAN, assessment_completed_at TIMESTAMP,
--          au_days BIGINT, au_late BOOLEAN
with incidents_in_scope as (
    select
        incident_id,
        detected_at,
        severity,
        status,
        jurisdictions,
        coalesce(personal_data_involved, false) as personal_data_involved,
        ';' || replace(upper(coalesce(jurisdictions, '')), ' ', '') || ';' as juris_list,
        -- steps stamped after as_of had not happened yet on that day
        case when cast(contained_at as date) <= $as_of then contained_at end as contained_at,
        case when cast(regulator_notified_at as date) <= $as_of then regulator_notified_at end as notified_at,
        -- s26WH's 30 days are Australian days: the AU dates come from incident_local_dates (ingest).
        case when l.au_assessed_date <= $as_of then assessment_completed_at end as assessed_at,
        case when l.au_assessed_date <= $as_of then l.au_assessed_date end as au_assessed_date,
        l.au_detected_date,
        cast(date_add($as_of, 1) as timestamp) as as_of_end
    from incidents
    left join incident_local_dates as l using (incident_id)
    where cast(detected_at as date) <= $as_of
),

jurisdiction_codes as (
    -- jurisdictions (EU, AU, ...) or countries (DE, GB, ...), as the control maps them
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

final as (
    -- The clocks run only for incidents with personal data; elsewhere hours and days are NULL.
    select
        i.incident_id,
        i.detected_at,
        i.severity,
        i.status,
        i.jurisdictions,
        i.personal_data_involved,
        r.is_gdpr,
        r.is_au,
        i.contained_at,
        i.notified_at as regulator_notified_at,
        case
            when i.personal_data_involved and r.is_gdpr
                then date_diff('second', i.detected_at, coalesce(i.notified_at, i.as_of_end)) / 3600.0
        end as gdpr_hours,
        case
            when i.personal_data_involved and r.is_gdpr
                then date_diff('second', i.detected_at, coalesce(i.notified_at, i.as_of_end)) / 3600.0
                > $incidents_gdpr_notification_hours
        end as gdpr_late,
        i.assessed_at as assessment_completed_at,
        case
            when i.personal_data_involved and r.is_au
                then date_diff('day', i.au_detected_date, coalesce(i.au_assessed_date, $as_of))
        end as au_days,
        case
            when i.personal_data_involved and r.is_au
                then date_diff('day', i.au_detected_date, coalesce(i.au_assessed_date, $as_of))
                > $incidents_au_assessment_days
        end as au_late
    from incidents_in_scope as i
    inner join regimes as r on r.incident_id = i.incident_id
)

select * from final
order by detected_at, incident_id
