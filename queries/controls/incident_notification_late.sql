-- name: incident_notification_late
-- control: incident.notification_late
-- section: 5
-- severity: critical
-- requires: incidents
-- description: One row per incident detected by $as_of that involved personal data, or whose involvement is unknown (listed for review, never dropped): each party's notice judged on its own clock, from the optional incident_notifications source (one row per jurisdiction and party) or else the incident's own timestamps. GDPR Art. 33 (EU lead authority and UK ICO, each): regulator notice within $incidents_gdpr_notification_hours hours unless a determination that the breach is unlikely to result in a risk is recorded (not_required_reason); GDPR Art. 34: notice to data subjects of a high or critical incident once that window has passed; Privacy Act 1988 s26WH: assessment within $incidents_au_assessment_days Australian days; s26WK statement to the OAIC and s26WL notice to individuals once the assessment is done, as soon as practicable. Alarm when a clock is missed or a required notice is missing.
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
-- The incidents as of the day, their regimes and AU clock (incidents_as_of), and every notice owed with its
-- verdict (incident_notices): the models incident_clocks reads too.
with incidents_in_scope as (
    select
        *,
        personal_data_involved is null as involvement_unknown
    from incidents_as_of
    where personal_data_involved or personal_data_involved is null
),

judged as (
    select * from incident_notices
),

party_texts as (
    select
        incident_id,
        max(case when verdict = 'late' and party = 'regulator' then 1 else 0 end) = 1 as regulator_late,
        max(case when verdict = 'missing' then 1 else 0 end) = 1 as notice_missing,
        string_agg(
            law || ': '
            || case verdict
                when 'not_required' then 'not required (' || not_required_reason || ')'
                when 'notified' then 'notified ' || cast(notified_at as varchar) || ', '
                    || cast(round(hours_to_notice, 1) as varchar) || ' h after detection'
                when 'late' then
                    case
                        when notified_at is not null then
                            'notified ' || cast(notified_at as varchar) || ', '
                            || cast(round(hours_to_notice, 1) as varchar) || ' h after detection'
                        else 'not notified, ' || cast(round(hours_to_notice, 1) as varchar)
                            || ' h after detection by the end of ' || cast($as_of as varchar)
                    end
                when 'missing' then 'no notice recorded as of ' || cast($as_of as varchar)
                else 'not yet due as of ' || cast($as_of as varchar)
            end
            || case when party = 'regulator' and verdict <> 'not_required' then ' (limit ' || gdpr_limit_text || ' h)' else '' end,
            '; ' order by position
        ) as parties_text
    from judged
    group by incident_id
),

assessed as (
    select
        i.*,
        coalesce(t.regulator_late, false) as gdpr_late,
        coalesce(t.notice_missing, false) as notice_missing,
        t.parties_text
    from incidents_in_scope as i
    left join party_texts as t on t.incident_id = i.incident_id
),

described as (
    select
        *,
        case
            when not is_au then ''
            when au_assessed_date is not null then
                'Privacy Act s26WH: assessment completed ' || cast(au_assessed_date as varchar) || ', '
                || cast(au_days as varchar) || ' days after detection (limit '
                || cast($incidents_au_assessment_days as varchar) || ' days)'
            else
                'Privacy Act s26WH: assessment not completed, ' || cast(au_days as varchar)
                || ' days after detection as of ' || cast($as_of as varchar) || ' (limit '
                || cast($incidents_au_assessment_days as varchar) || ' days)'
        end as au_text
    from assessed
),

final as (
    select
        'incident:' || incident_id as resource,
        case
            when gdpr_late or au_late or notice_missing then 'alarm'
            when involvement_unknown then 'info'
            else 'ok'
        end as status,
        case
            when gdpr_late then 'critical'
            when au_late or notice_missing then 'high'
            when involvement_unknown then 'medium'
            else 'info'
        end as severity,
        'Incident ' || incident_id
        || case
            when involvement_unknown then ' (personal data involvement unknown: listed for review, judged as if involved)'
            else ' with personal data'
        end
        || ' (' || coalesce(jurisdictions, 'no jurisdictions') || '), detected ' || cast(detected_at as varchar)
        || case
            when parties_text is null and au_text = '' then ': no GDPR or AU notification clock applies.'
            else
                ': ' || concat_ws('; ', nullif(au_text, ''), parties_text)
                || case
                    when gdpr_late then '; critical: GDPR Art. 33 notification late.'
                    when au_late then '; high: the AU eligible-data-breach assessment is late.'
                    when notice_missing then '; high: a required notice is missing.'
                    else '; within the limits.'
                end
        end as reason,
        detected_at as observed_at,
        [incident_id] as evidence
    from described
)

select * from final
order by resource
