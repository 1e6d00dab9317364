-- name: incident_notices
-- requires: incidents
-- description: Every notice owed for an incident detected by $as_of that involved personal data, or whose involvement is unknown (judged as if involved), one row per incident, regime and party, with its verdict as of the end of $as_of: GDPR Art. 33 (EU lead authority and UK ICO, each): regulator notice within $incidents_gdpr_notification_hours hours unless a determination that the breach is unlikely to result in a risk is recorded (not_required_reason); GDPR Art. 34: notice to data subjects of a high or critical incident once that window has passed; Privacy Act 1988 s26WK statement to the OAIC and s26WL notice to individuals once the assessment is done. The notice comes from the optional incident_notifications source (one row per jurisdiction and party) or else the incident's own timestamps. Verdicts: not_required, notified, late, missing, pending. Stated once for incident.notification_late and incident_clocks.
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: incident_id VARCHAR, jurisdiction VARCHAR, party VARCHAR, law VARCHAR, position INTEGER,
--          notified_at TIMESTAMP, not_required_reason VARCHAR, detected_at TIMESTAMP, as_of_end TIMESTAMP,
--          au_assessed_date DATE, gdpr_limit_text VARCHAR, hours_elapsed DOUBLE, hours_to_notice DOUBLE,
--          verdict VARCHAR
with incidents_in_scope as (
    select
        *,
        lower(coalesce(severity, '')) in ('high', 'critical') as is_high_risk,
        -- 72.0 reads as "72".
        case
            when $incidents_gdpr_notification_hours = floor($incidents_gdpr_notification_hours)
                then cast(cast($incidents_gdpr_notification_hours as bigint) as varchar)
            else cast($incidents_gdpr_notification_hours as varchar)
        end as gdpr_limit_text
    from incidents_as_of
    where personal_data_involved or personal_data_involved is null
),

parties as (
    -- Who is owed a notice, per regime: (jurisdiction, party, the law, display order).
    select * from (
        values
            ('EU', 'regulator', 'GDPR Art. 33: EU lead supervisory authority', 1),
            ('UK', 'regulator', 'UK GDPR Art. 33: ICO', 2),
            ('EU', 'subjects', 'GDPR Art. 34: EU data subjects', 3),
            ('UK', 'subjects', 'UK GDPR Art. 34: UK data subjects', 4),
            ('AU', 'oaic_statement', 'Privacy Act s26WK: statement to the OAIC', 5),
            ('AU', 'subjects', 'Privacy Act s26WL: notice to individuals', 6)
    ) as p (jurisdiction, party, law, position)
),

notice_rows as (
    -- The optional per-party source; an incident without any row there falls back to its own timestamps.
    select
        incident_id,
        upper(jurisdiction) as jurisdiction,
        party,
        case when cast(notified_at as date) <= $as_of then notified_at end as notified_at,
        nullif(trim(not_required_reason), '') as not_required_reason
    from incident_notifications
),

incidents_with_rows as (
    select distinct incident_id from notice_rows
),

owed as (
    select
        i.incident_id,
        r.jurisdiction,
        p.party,
        p.law,
        p.position,
        case
            when w.incident_id is not null then n.notified_at
            when p.party = 'subjects' then i.subjects_at
            else i.regulator_at
        end as notified_at,
        n.not_required_reason,
        i.detected_at,
        i.as_of_end,
        i.au_assessed_date,
        i.gdpr_limit_text,
        date_diff('second', i.detected_at, i.as_of_end) / 3600.0 as hours_elapsed
    from incidents_in_scope as i
    inner join incident_regimes as r on r.incident_id = i.incident_id
    inner join parties as p on p.jurisdiction = r.jurisdiction
    left join incidents_with_rows as w on w.incident_id = i.incident_id
    left join notice_rows as n
        on n.incident_id = i.incident_id
        and n.jurisdiction = r.jurisdiction
        and n.party = p.party
    -- Art. 34 is owed only where the breach is likely to result in a high risk (here: a high or critical incident).
    where p.party <> 'subjects' or r.jurisdiction = 'AU' or i.is_high_risk
),

final as (
    select
        *,
        date_diff('second', detected_at, coalesce(notified_at, as_of_end)) / 3600.0 as hours_to_notice,
        case
            when not_required_reason is not null then 'not_required'
            when party = 'regulator' and notified_at is not null
                and date_diff('second', detected_at, notified_at) / 3600.0 > $incidents_gdpr_notification_hours
                then 'late'
            when notified_at is not null then 'notified'
            when party = 'regulator' and hours_elapsed > $incidents_gdpr_notification_hours then 'late'
            -- Art. 34 "without undue delay": missing once the regulator's window has passed.
            when party = 'subjects' and jurisdiction <> 'AU' and hours_elapsed > $incidents_gdpr_notification_hours
                then 'missing'
            -- s26WK/s26WL "as soon as practicable" after the assessment: missing once it is done.
            when jurisdiction = 'AU' and au_assessed_date is not null then 'missing'
            else 'pending'
        end as verdict
    from owed
)

select * from final
