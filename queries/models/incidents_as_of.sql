-- name: incidents_as_of
-- requires: incidents
-- description: One row per incident detected by $as_of, as it stood at the end of that day: each step stamped after $as_of had not happened yet (containment, regulator and subject notices, the assessment); the regimes it falls under (incident_regimes); and the Privacy Act s26WH assessment clock, counted in Australian days from the AU local dates computed at ingest (incident_local_dates): days from detection to the assessment (or to $as_of while none) and whether that exceeds $incidents_au_assessment_days. Stated once for incident.notification_late and incident_clocks.
-- params: as_of DATE, incidents_au_assessment_days INTEGER
-- returns: incident_id VARCHAR, detected_at TIMESTAMP, severity VARCHAR, status VARCHAR, jurisdictions VARCHAR,
--          personal_data_involved BOOLEAN, contained_at TIMESTAMP, regulator_at TIMESTAMP, subjects_at TIMESTAMP,
--          assessed_at TIMESTAMP, au_assessed_date DATE, au_detected_date DATE, as_of_end TIMESTAMP,
--          is_gdpr BOOLEAN, is_au BOOLEAN, au_days BIGINT, au_late BOOLEAN
with stamped as (
    select
        i.incident_id,
        i.detected_at,
        i.severity,
        i.status,
        i.jurisdictions,
        i.personal_data_involved,
        -- Steps stamped after as_of had not happened yet on that day.
        case when cast(i.contained_at as date) <= $as_of then i.contained_at end as contained_at,
        case when cast(i.regulator_notified_at as date) <= $as_of then i.regulator_notified_at end as regulator_at,
        case when cast(i.subjects_notified_at as date) <= $as_of then i.subjects_notified_at end as subjects_at,
        -- s26WH's 30 days are Australian days: the AU dates come from incident_local_dates (ingest).
        case when l.au_assessed_date <= $as_of then i.assessment_completed_at end as assessed_at,
        case when l.au_assessed_date <= $as_of then l.au_assessed_date end as au_assessed_date,
        l.au_detected_date,
        -- "As of" a date means at the end of that day.
        cast(date_add($as_of, 1) as timestamp) as as_of_end
    from incidents as i
    left join incident_local_dates as l on l.incident_id = i.incident_id
    where cast(i.detected_at as date) <= $as_of
),

regime_flags as (
    select
        incident_id,
        max(case when jurisdiction in ('EU', 'UK') then 1 else 0 end) = 1 as is_gdpr,
        max(case when jurisdiction = 'AU' then 1 else 0 end) = 1 as is_au
    from incident_regimes
    group by incident_id
),

clocked as (
    select
        s.*,
        coalesce(r.is_gdpr, false) as is_gdpr,
        coalesce(r.is_au, false) as is_au,
        date_diff('day', s.au_detected_date, coalesce(s.au_assessed_date, $as_of)) as au_days
    from stamped as s
    left join regime_flags as r on r.incident_id = s.incident_id
),

final as (
    select
        incident_id,
        detected_at,
        severity,
        status,
        jurisdictions,
        personal_data_involved,
        contained_at,
        regulator_at,
        subjects_at,
        assessed_at,
        au_assessed_date,
        au_detected_date,
        as_of_end,
        is_gdpr,
        is_au,
        case when is_au then au_days end as au_days,
        is_au and au_days > $incidents_au_assessment_days as au_late
    from clocked
)

select * from final
