"""Microsoft Entra ID sign-in and audit logs (docs/sources/entra.md).

Diagnostic-settings exports hold one record per line with `category` and the event under `properties`;
Microsoft Graph returns `{"value": [...]}` of the same objects without the wrapper. A sign-in has
`createdDateTime`, an audit event `activityDateTime`.
"""

from __future__ import annotations

from compliance.ingest.vendors.core import Adapter, extract, objects_read

FIELDS = {
    "id": "$.id",
    "created": "$.createdDateTime",
    "activity_time": "$.activityDateTime",
    "user_id": "$.userId",
    "upn": "$.userPrincipalName",
    "sp_id": "$.servicePrincipalId",
    "sp_name": "$.servicePrincipalName",
    "app_name": "$.appDisplayName",
    "app_id": "$.appId",
    "error_code": "$.status.errorCode",
    "ip": "$.ipAddress",
    "country": "$.location.countryOrRegion",
    "lat": "$.location.geoCoordinates.latitude",
    "lon": "$.location.geoCoordinates.longitude",
    "user_agent": "$.userAgent",
    "activity": "$.activityDisplayName",
    "result": "$.result",
    "by_user_id": "$.initiatedBy.user.id",
    "by_upn": "$.initiatedBy.user.userPrincipalName",
    "by_app_id": "$.initiatedBy.app.servicePrincipalId",
    "by_app_name": "$.initiatedBy.app.displayName",
    "by_ip": "$.initiatedBy.user.ipAddress",
    "targets": "$.targetResources",  # JSON text of the array
}

# Sign-in error codes (Microsoft's AADSTS reference): MFA interrupts are challenges, policy blocks denials.
MFA_INTERRUPTS = "'50074', '50076', '50079', '50072', '50158'"
MFA_FAILED = "'500121', '50088'"
DENIED = "'53003', '53000', '53001', '53002', '53004', '50053', '50057', '530032'"
ROLE_GRANTS = "'Add member to role', 'Add eligible member to role', 'Add member to role completed (PIM activation)', 'Add member to group', 'Add app role assignment to user', 'Add owner to group'"
ROLE_REVOKES = "'Remove member from role', 'Remove eligible member from role', 'Remove member from group', 'Remove app role assignment from user', 'Remove owner from group'"

MAPPING_SQL = f"""
with outer_fields as (
    -- One parse of the record for both: `properties` as JSON text (an object's starts with a brace), `category`.
    select line, elem, ev, json_extract(ev, ['$.properties', '$.category']) as pc from _vevents
),
unwrapped as (
    select line, elem, ev,
        case when starts_with(pc[1], '{{') then pc[1] else ev end as e,
        json_extract_string(pc[2], '$') as category
    from outer_fields
),
f as (select line, elem, ev, category, {extract(FIELDS, "e")} from unwrapped),
t as (
    select *,
        list_transform(json_extract(targets, '$[*]'), lambda x: json_extract_string(x, '$.type')) as target_types,
        list_transform(json_extract(targets, '$[*]'), lambda x: json_extract_string(x, '$.id')) as target_ids,
        list_transform(json_extract(targets, '$[*]'), lambda x: json_extract_string(x, '$.userPrincipalName')) as target_upns,
        list_transform(json_extract(targets, '$[*]'), lambda x: json_extract_string(x, '$.displayName')) as target_names,
        -- The role or group named in the change: Role.DisplayName / Group.DisplayName, a JSON-quoted string.
        list_filter(json_extract(targets, '$[*].modifiedProperties[*]'),
            lambda p: json_extract_string(p, '$.displayName') in ('Role.DisplayName', 'Group.DisplayName',
                                                            'AppRole.DisplayName')) as role_props
    from f
),
classified as (
    select *,
        created is not null as is_sign_in,
        coalesce(category = 'ServicePrincipalSignInLogs' or category = 'ManagedIdentitySignInLogs', false)
            or (created is not null and upn is null and sp_id is not null) as is_service_sign_in,
        list_position(target_types, 'User') as user_at,
        nullif(trim(json_extract_string(role_props[1], '$.newValue'), '"'), '') as changed_role,
        case
            when created is not null then case
                when coalesce(error_code, '0') = '0' then 'login'
                when error_code in ({MFA_INTERRUPTS}) or error_code in ({MFA_FAILED}) then 'mfa_challenge'
                when error_code in ({DENIED}) then 'login'
                else 'login_failed' end
            when activity in ({ROLE_GRANTS}) then 'role_grant'
            when activity in ({ROLE_REVOKES}) then 'role_revoke'
            when activity in ('Add user', 'Invite external user', 'Add service principal', 'Add application') then 'create'
            when activity in ('Delete user', 'Hard delete user', 'Remove service principal', 'Delete application') then 'delete'
            when activity in ('Update user', 'Reset user password', 'Change user password', 'Reset password (by admin)',
                              'Disable account', 'Enable account', 'Restore user') then 'update'
            when activity is not null then 'config_change'
        end as action
    from t
)
select
    line, elem, ev as raw, id as vendor_id, coalesce(created, activity_time) as occurred_at,
    case when is_sign_in and not is_service_sign_in then list_filter([upn, user_id], lambda x: nullif(x, '') is not null)
         when is_sign_in then list_filter([sp_id, sp_name, app_id], lambda x: nullif(x, '') is not null)
         else list_filter([by_upn, by_user_id, by_app_id, by_app_name], lambda x: nullif(x, '') is not null) end as principals,
    case when is_service_sign_in or (not is_sign_in and by_upn is null and by_user_id is null and by_app_id is not null)
         then 'service' end as actor_type_hint,
    action,
    case
        when is_sign_in then case
            when coalesce(error_code, '0') = '0' then 'success'
            when error_code in ({MFA_INTERRUPTS}) then 'success'
            when error_code in ({DENIED}) then 'denied'
            else 'failure' end
        when result = 'success' then 'success'
        when result in ('failure', 'timeout') then 'failure'
        when result is null then 'success'
        else 'failure'
    end as outcome,
    case when created is null and activity is null
         then 'Entra record is neither a sign-in (createdDateTime) nor an audit event (activityDateTime)' end
        as reject_reason,
    'entra' as system,
    case when is_sign_in then 'entra_application' else 'entra_directory' end as resource_type,
    case when is_sign_in then app_id else target_ids[1] end as resource_id,
    case when is_sign_in then 'app/' || app_name else target_names[1] end as resource_name,
    coalesce(ip, by_ip) as source_ip, country as geo_country, null as geo_country_name, lat as geo_lat, lon as geo_lon,
    null as processing_region, user_agent,
    case when action in ('role_grant', 'role_revoke') and user_at is not null
         then list_filter([target_upns[user_at], target_ids[user_at]], lambda x: x is not null)
         when action in ('role_grant', 'role_revoke') then list_filter([target_ids[1]], lambda x: x is not null)
         else []::varchar[] end as target_principals,
    case when action in ('role_grant', 'role_revoke')
         then coalesce(changed_role, target_names[list_position(target_types, 'Role')],
                       target_names[list_position(target_types, 'Group')]) end as role,
    null as recipient,
    null::varchar[] as given_twice
from classified
"""

ADAPTER = Adapter(
    folder="entra",
    title="Microsoft Entra ID",
    envelopes=("value", "records"),
    mapping_sql=MAPPING_SQL,
    # The fields are read from the record, or from its `properties` (diagnostic settings).
    unique_keys=(
        *objects_read(FIELDS, under=("$", "$.properties")),
        "$.targetResources[*]",
        "$.properties.targetResources[*]",
    ),
)
