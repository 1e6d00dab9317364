-- name: incident_notification_late
-- control: incident.notification_late
-- section: 5
-- severity: critical
-- requires: incidents
-- description: One row per incident detected by $as_of that involved personal data, or whose involvement is unknown (listed for review, never dropped): each party's notice judged on its own clock, from the optional incident_notifications source (one row per jurisdiction and party) or else the incident's own timestamps. GDPR Art. 33 (EU lead authority and UK ICO, each): regulator notice within $incidents_gdpr_notification_hours hours unless a determination that the breach is unlikely to result in a risk is recorded (not_required_reason); GDPR Art. 34: notice to data subjects of a high or critical incident once that window has passed; Privacy Act 1988 s26WH: assessment within $incidents_au_assessment_days Australian days; s26WK statement to the OAIC and s26WL notice to individuals once the assessment is done, as soon as practicable. Alarm when a clock is missed or a required notice is missing.
-- params: as_of DATE, incidents_gdpr_notification_hours DOUBLE, incidents_au_assessment_days INTEGER
-- returns: control_id VARCHAR, policy_section VARCHAR, resource VARCHAR, status VARCHAR, severity VARCHAR,
--          reason VARCHAR, observed_at TIMESTAMP, evidence VARCHAR[]
with incidents_in_scope as (
    select
        incident_id,
        detected_at,
        jurisdictions,
        personal_data_involved is null as involvement_unknown,
        lower(coalesce(severity, '')) in ('high', 'critical') as is_high_risk,
        -- ';'-separated list, matched as whole items so that e.g. 'EU' never matches inside another code.
        ';' || replace(upper(coalesce(jurisdictions, '')), ' ', '') || ';' as juris_list,
        -- Steps stamped after as_of had not happened yet on that day.
        case when cast(regulator_notified_at as date) <= $as_of then regulator_notified_at end as regulator_at,
        case when cast(subjects_notified_at as date) <= $as_of then subjects_notified_at end as subjects_at,
        -- s26WH's 30 days are Australian days: the AU dates come from incident_local_dates (ingest).
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
    where (personal_data_involved or personal_data_involved is null)
      and cast(detected_at as date) <= $as_of
),

jurisdiction_codes as (
    -- An incident may name jurisdictions (EU, UK, AU, US-CA...) or countries (DE, GB...): both map here.
    select country as code, jurisdiction from ref_country_jurisdictions
    union
    select jurisdiction as code, jurisdiction from ref_country_jurisdictions
),

regimes as (
    select distinct
        i.incident_id,
        c.jurisdiction
    from incidents_in_scope as i
    inner join jurisdiction_codes as c on i.juris_list like '%;' || c.code || ';%'
    where c.jurisdiction in ('EU', 'UK', 'AU')
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
    inner join regimes as r on r.incident_id = i.incident_id
    inner join parties as p on p.jurisdiction = r.jurisdiction
    left join incidents_with_rows as w on w.incident_id = i.incident_id
    left join notice_rows as n
        on n.incident_id = i.incident_id
        and n.jurisdiction = r.jurisdiction
        and n.party = p.party
    -- Art. 34 is owed only where the breach is likely to result in a high risk (here: a high or critical incident).
    where p.party <> 'subjects' or r.jurisdiction = 'AU' or i.is_high_risk
),

judged as (
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
        t.parties_text,
        au.incident_id is not null as is_au,
        date_diff('day', i.au_detected_date, coalesce(i.au_assessed_date, $as_of)) as au_days
    from incidents_in_scope as i
    left join party_texts as t on t.incident_id = i.incident_id
    left join regimes as au on au.incident_id = i.incident_id and au.jurisdiction = 'AU'
),

described as (
    select
        *,
        is_au and au_days > $incidents_au_assessment_days as au_late,
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
