"""Okta System Log LogEvent objects (docs/sources/okta.md): API output as JSON arrays or JSON Lines."""

from __future__ import annotations

from compliance.ingest.vendors.core import Adapter, extract, objects_read

FIELDS = {
    "uuid": "$.uuid",
    "published": "$.published",
    "event_type": "$.eventType",
    "result": "$.outcome.result",
    "actor_id": "$.actor.id",
    "actor_login": "$.actor.alternateId",
    "actor_kind": "$.actor.type",
    "ip": "$.client.ipAddress",
    "user_agent": "$.client.userAgent.rawUserAgent",
    "country": "$.client.geographicalContext.country",
    "lat": "$.client.geographicalContext.geolocation.lat",
    "lon": "$.client.geographicalContext.geolocation.lon",
    "privilege": "$.debugContext.debugData.privilegeGranted",
    "targets": "$.target",  # JSON text of the target[] array
}

# Event types by what they do (Okta's event-type catalogue); unlisted types fall back on their family below.
LOGINS = "'user.session.start', 'user.authentication.sso', 'user.authentication.auth_via_IDP', 'user.authentication.auth_via_social', 'user.authentication.authenticate'"
MFA = "'user.authentication.auth_via_mfa', 'user.mfa.okta_verify.deny_push', 'user.authentication.verify', 'system.push.send_factor_verify_push', 'user.mfa.attempt_bypass'"
LOGOUTS = "'user.session.end', 'logout', 'user.session.clear'"
GRANTS = "'user.account.privilege.grant', 'group.user_membership.add', 'application.user_membership.add', 'group.privilege.grant'"
REVOKES = "'user.account.privilege.revoke', 'group.user_membership.remove', 'application.user_membership.remove', 'group.privilege.revoke'"

MAPPING_SQL = f"""
with f as (select line, elem, ev, {extract(FIELDS)} from _vevents),
parsed as (
    -- target[] parsed once into structs (four json_extract passes over it cost more than the rest of the mapping)
    select f.*, json_transform(targets, '[{{"type": "VARCHAR", "id": "VARCHAR", "alternateId": "VARCHAR",
                                           "displayName": "VARCHAR"}}]') as target_list
    from f
),
targets as (
    -- The first user target is the grantee; the first group or app names the role granted.
    select parsed.*,
        list_transform(target_list, lambda x: x.type) as target_types,
        list_transform(target_list, lambda x: x.id) as target_ids,
        list_transform(target_list, lambda x: x.alternateId) as target_logins,
        list_transform(target_list, lambda x: x.displayName) as target_names
    from parsed
),
picked as (
    select *,
        list_position(target_types, 'User') as user_at,
        coalesce(list_position(target_types, 'UserGroup'), list_position(target_types, 'AppInstance')) as group_at,
        list_position(target_types, 'AppInstance') as app_at
    from targets
),
classified as (
    select *,
        case
            when event_type = 'user.session.start' and result = 'CHALLENGE' then 'mfa_challenge'
            when event_type in ({LOGINS}) then case when result in ('FAILURE', 'DENY') then 'login_failed' else 'login' end
            when event_type in ({MFA}) then 'mfa_challenge'
            when event_type in ({LOGOUTS}) then 'logout'
            when event_type in ({GRANTS}) then 'role_grant'
            when event_type in ({REVOKES}) then 'role_revoke'
            when event_type = 'application.user_membership.show_password' then 'read'
            when event_type in ('user.lifecycle.create', 'user.account.create') then 'create'
            when event_type = 'user.lifecycle.delete.initiated' or event_type = 'user.lifecycle.delete.completed' then 'delete'
            when starts_with(event_type, 'user.lifecycle.') or starts_with(event_type, 'user.account.')
                 or starts_with(event_type, 'user.mfa.factor.') then 'update'
            when split_part(event_type, '.', 1) in ('system', 'policy', 'application', 'group', 'zone', 'org', 'security',
                                                     'app', 'iam', 'network_zone', 'device', 'oauth2', 'event_hook',
                                                     'inline_hook', 'directory')
                 or starts_with(event_type, 'user.session.impersonation.') then 'config_change'
        end as action
    from picked
)
select
    line, elem, ev as raw, uuid as vendor_id, published as occurred_at,
    list_filter([actor_login, actor_id], lambda x: nullif(x, '') is not null) as principals,
    case when actor_kind in ('SystemPrincipal', 'PublicClientApp', 'AppInstance', 'Client') then 'service' end
        as actor_type_hint,
    action,
    case when result in ('FAILURE', 'ERROR') then 'failure' when result = 'DENY' then 'denied' else 'success' end
        as outcome,
    case when event_type is null then 'Okta LogEvent without eventType'
         when action is null then 'Okta eventType ''' || event_type || ''' is not mapped to an audit action' end
        as reject_reason,
    'okta' as system,
    case when action = 'read' then 'okta_app_credential'
         when action in ('create', 'update', 'delete') then 'okta_user' else 'okta_' || split_part(event_type, '.', 1) end
        as resource_type,
    coalesce(target_ids[app_at], target_ids[user_at], target_ids[1]) as resource_id,
    case when app_at is not null then 'app/' || target_names[app_at] end as resource_name,
    ip as source_ip, null as geo_country, country as geo_country_name, lat as geo_lat, lon as geo_lon,
    null as processing_region, user_agent,
    case when user_at is not null then list_filter([target_logins[user_at], target_ids[user_at]], lambda x: x is not null)
         else []::varchar[] end as target_principals,
    case when action not in ('role_grant', 'role_revoke') then null
         when event_type in ('user.account.privilege.grant', 'user.account.privilege.revoke') then privilege
         when group_at is not null then target_names[group_at] end as role,
    null as recipient,
    null::varchar[] as given_twice
from classified
"""

ADAPTER = Adapter(
    folder="okta",
    title="Okta System Log",
    envelopes=(),
    mapping_sql=MAPPING_SQL,
    unique_keys=(*objects_read(FIELDS), "$.target[*]"),
)
