-- name: incident_clocks
-- requires: incidents
-- description: One row per incident detected by $as_of: whether it involved personal data, which clocks apply (GDPR for EU/UK: regulator notice within $incidents_gdpr_notification_hours hours; AU: assessment within $incidents_au_assessment_days days), hours to the regulator notice (or elapsed by the end of $as_of while none), days to the assessment (or elapsed), and whether each clock was missed: the regulator notice per regime (EU, UK) from incident_notifications when the incident has rows there, else its own timestamp, latest notice first, as incident.notification_late judges it (models incidents_as_of, incident_notices).
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: incident_id VARCHAR, detected_at TIMESTAMP, severity VARCHAR, status VARCHAR, jurisdictions VARCHAR,
--          personal_data_involved BOOLEAN, is_gdpr BOOLEAN, is_au BOOLEAN, contained_at TIMESTAMP,
--          regulator_notified_at TIMESTAMP, gdpr_hours DOUBLE, gdpr_late BOOLEAN, assessment_completed_at TIMESTAMP,
--          au_days BIGINT, au_late BOOLEAN
-- The incidents as of the day with their regimes and AU clock (incidents_as_of), and the regulator notices judged
-- as incident.notification_late judges them (incident_notices: per regime, from incident_notifications when the
-- incident has rows there): the same models the control reads.
with regulator_notices as (
    select
        incident_id,
        max(notified_at) as regulator_notified_at,
        max(hours_to_notice) as gdpr_hours,
        max(case when verdict = 'late' then 1 else 0 end) = 1 as gdpr_late
    from incident_notices
    where party = 'regulator'
    group by incident_id
),

final as (
    -- The clocks run only for incidents with personal data; elsewhere hours and days are NULL.
    select
        i.incident_id,
        i.detected_at,
        i.severity,
        i.status,
        i.jurisdictions,
        coalesce(i.personal_data_involved, false) as personal_data_involved,
        i.is_gdpr,
        i.is_au,
        i.contained_at,
        -- the notice the GDPR clock judged where one is owed, else the incident's own stamp
        case when n.incident_id is not null then n.regulator_notified_at else i.regulator_at end
            as regulator_notified_at,
        case when i.personal_data_involved and i.is_gdpr then n.gdpr_hours end as gdpr_hours,
        case when i.personal_data_involved and i.is_gdpr then n.gdpr_late end as gdpr_late,
        i.assessed_at as assessment_completed_at,
        case when i.personal_data_involved and i.is_au then i.au_days end as au_days,
        case when i.personal_data_involved and i.is_au then i.au_late end as au_late
    from incidents_as_of as i
    left join regulator_notices as n on n.incident_id = i.incident_id
)

select * from final
order by detected_at, incident_id
