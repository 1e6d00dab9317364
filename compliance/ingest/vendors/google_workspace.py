"""Google Workspace Reports API activities (docs/sources/google_workspace.md): API pages or JSON Lines.

An activity holds several `events[]`: each becomes one audit event. The one-event-per-record shape some
log pipelines write (`name`, `type` and a `parameters` object at the top level) is read as well.
"""

from __future__ import annotations

import json

from compliance.ingest.readers import sql_string
from compliance.ingest.vendors.core import Adapter, objects_read, repeated_sql

ACTIVITY = {
    "time": "$.id.time",
    "app": "$.id.applicationName",
    "qualifier": "$.id.uniqueQualifier",
    "email": "$.actor.email",
    "profile_id": "$.actor.profileId",
    "caller_type": "$.actor.callerType",
    "ip": "$.ipAddress",
    "region_code": "$.networkInfo.regionCode",
}
PARAMS = (
    "doc_id", "doc_title", "target_user", "target_domain", "visibility", "login_challenge_status",
    "USER_EMAIL", "ROLE_NAME", "GROUP_EMAIL", "app_name", "client_id",
)  # fmt: skip

LOGIN_APPS = "'login', 'saml', 'logout'"
DRIVE_READS = "'view', 'preview', 'download', 'print', 'sync_item_content'"
DRIVE_CREATES = "'create', 'upload', 'copy'"
DRIVE_DELETES = "'delete', 'trash'"
DRIVE_SHARES = "'change_user_access', 'change_document_access_scope', 'change_document_visibility', 'change_acl_editors', 'shared_drive_membership_change'"
ADMIN_GRANTS = "'ASSIGN_ROLE', 'GRANT_ADMIN_PRIVILEGE', 'ADD_GROUP_MEMBER'"
ADMIN_REVOKES = "'UNASSIGN_ROLE', 'REVOKE_ADMIN_PRIVILEGE', 'REMOVE_GROUP_MEMBER'"


def _struct_of(fields: dict[str, str]) -> dict[str, object]:
    """The `json_transform` structure reading the text fields at `fields`' paths (`$.a.b`): {"a": {"b": "VARCHAR"}}.
    It gives the text json_extract_string would: a string's value, any other value's JSON text, NULL for null."""
    struct: dict[str, object] = {}
    for path in fields.values():
        *objects, key = path.removeprefix("$.").split(".")
        node = struct
        for name in objects:
            node = node.setdefault(name, {})  # type: ignore[assignment]
        node[key] = "VARCHAR"
    return struct


# The activity's fields, its events[] as a list of JSON values, and the flat shape's event name.
ACTIVITY_STRUCT = {**_struct_of(ACTIVITY), "events": ["JSON"], "name": "VARCHAR"}
_ACTIVITY_FIELDS = ", ".join(
    f'act{"".join(f"[{sql_string(k)}]" for k in path.removeprefix("$.").split("."))} as "{name}"'
    for name, path in ACTIVITY.items()
)
# An event's name and parameters[] entries, {name, value | boolValue | intValue | multiValue}; the flat shape
# has an object of parameters (the list is NULL for it, as for any value that is not an array).
EVENT_STRUCT = json.dumps(
    {
        "name": "VARCHAR",
        "parameters": [
            {
                "name": "VARCHAR",
                "value": "VARCHAR",
                "boolValue": "VARCHAR",
                "intValue": "VARCHAR",
                "multiValue": ["VARCHAR"],
            }
        ],
    }
)
_PARAM_ENTRIES = """case
    when ev_parsed.parameters is not null then list_transform(
        ev_parsed.parameters, lambda p: {'k': p.name, 'v': coalesce(p.value, p.boolValue, p.intValue, p.multiValue[1])})
    when json_type(event, '$.parameters') = 'OBJECT' then list_transform(
        json_keys(event, '$.parameters'),
        lambda k: {'k': k, 'v': json_extract_string(event, '$.parameters."' || k || '"')})
    else []::struct(k varchar, v varchar)[]
end"""
# A parameter named twice is a reject (core's `_dup`, from `given_twice`), and such an event gets no
# parameters (which value is meant would be a guess); the others are found by name in the entries.
_PARAMS = ", ".join(
    f"case when len(repeated_names) = 0 then entries[list_position(entry_names, {sql_string(k)})].v end as p_{k.lower()}"
    for k in PARAMS
)

MAPPING_SQL = f"""
with parsed as (
    -- The activity is parsed once, into the fields read and its events[] (NULL where it is not an array).
    select line, elem, ev, json_transform(ev, {sql_string(json.dumps(ACTIVITY_STRUCT))}) as act from _vevents
),
activities as (
    select line, elem, ev, {_ACTIVITY_FIELDS}, act.events is not null as is_api,
        -- duckdb: is_api, an alias of this select list, is read by the columns after it.
        case when is_api and len(act.events) = 1 then json_keys(ev) end as one_event_keys,
        -- A JSON null event is the JSON text `null`, as in the activity.
        case when is_api and len(act.events) > 0
             then list_transform(act.events, lambda e: coalesce(e, 'null'::json))
             when act.name is not null then [ev]
             else [null::json] end as events
    from parsed
),
fanned as (
    select * exclude (events), unnest(events) as event,
           unnest(generate_series(1, cast(len(events) as bigint))) as event_no
    from activities
),
-- Each event parsed once: its name and parameters[] (NULL where they are not an array).
event_parsed as (select *, json_transform(event, {sql_string(EVENT_STRUCT)}) as ev_parsed from fanned),
entries as (select *, {_PARAM_ENTRIES} as entries from event_parsed),
f as (
    select * exclude (elem, ev_parsed), elem * 10000 + event_no as elem, ev_parsed.name as name,
        list_transform(entries, lambda e: e.k) as entry_names
    from entries
),
named as (select *, list_filter(entry_names, lambda k: k is not null) as param_names from f),
repeats as (select *, {repeated_sql("param_names")} as repeated_names from named),
p as (select *, {_PARAMS} from repeats),
classified as (
    select *,
        case
            when app in ({LOGIN_APPS}) then case
                when name = 'login_success' then 'login'
                when name = 'login_failure' then 'login_failed'
                when name in ('login_challenge', 'login_verification') then 'mfa_challenge'
                when name = 'logout' then 'logout'
                else 'config_change' end
            when app = 'admin' then case
                when name in ({ADMIN_GRANTS}) then 'role_grant'
                when name in ({ADMIN_REVOKES}) then 'role_revoke'
                when name = 'CREATE_USER' then 'create'
                when name = 'DELETE_USER' then 'delete'
                else 'config_change' end
            when app = 'drive' then case
                when name in ({DRIVE_READS}) then 'read'
                when name in ({DRIVE_CREATES}) then 'create'
                when name in ({DRIVE_DELETES}) then 'delete'
                when name in ({DRIVE_SHARES}) then 'share'
                else 'update' end
            when app = 'token' then case when name = 'authorize' then 'share' else 'config_change' end
            when app in ('user_accounts', 'calendar') then 'update'
            when app in ('mobile', 'groups_enterprise') then 'config_change'
        end as action
    from p
)
select
    line, elem,
    -- The activity with only this event: the Reports API shape, one audit event each. The merge puts the
    -- patched events[] last: an activity of one event whose events[] is its last key (given once) is
    -- already that, and only re-written (a fifth of the merge's cost).
    case when one_event_keys[-1] = 'events' and list_position(one_event_keys, 'events') = len(one_event_keys)
         then json(ev)
         when is_api then json_merge_patch(ev, json_object('events', json_array(event)))
         else ev end as raw,
    case when qualifier is not null then qualifier || '.' || event_no end as vendor_id,
    time as occurred_at,
    list_filter([email, profile_id], lambda x: nullif(x, '') is not null) as principals,
    case when caller_type = 'KEY' then 'service' end as actor_type_hint,
    action,
    case when name = 'login_failure' or p_login_challenge_status = 'Challenge Failed' then 'failure' else 'success' end
        as outcome,
    case when event is null then 'Google Workspace activity without events'
         when name is null then 'Google Workspace event without a name'
         when action is null then 'Google Workspace application ''' || coalesce(app, '?') || ''' (event ''' || name
              || ''') is not mapped to an audit action' end as reject_reason,
    'google_workspace' as system,
    case when app = 'drive' then 'drive_file' when app = 'token' then 'oauth_grant'
         else 'workspace_' || coalesce(app, 'unknown') end as resource_type,
    coalesce(p_doc_id, p_client_id) as resource_id,
    case when app = 'drive' then 'drive/' || coalesce(p_doc_title, p_doc_id)
         when app = 'token' then 'app/' || coalesce(p_app_name, p_client_id) end as resource_name,
    ip as source_ip, region_code as geo_country, null as geo_country_name, null as geo_lat, null as geo_lon,
    null as processing_region, null as user_agent,
    case when action in ('role_grant', 'role_revoke') then list_filter([p_user_email], lambda x: x is not null)
         else []::varchar[] end as target_principals,
    case when action in ('role_grant', 'role_revoke') then
        coalesce(p_role_name, p_group_email, case when name like '%ADMIN_PRIVILEGE' then 'super_admin' end) end as role,
    case when action = 'share' then coalesce(
        nullif(split_part(p_target_user, '@', 2), ''), p_target_domain, p_app_name, p_client_id,
        case when p_visibility is not null then 'visibility:' || p_visibility end) end as recipient,
    list_transform(repeated_names, lambda x: 'parameters ' || x) as given_twice
from classified
"""

ADAPTER = Adapter(
    folder="google_workspace",
    title="Google Workspace Reports API",
    envelopes=("items",),
    mapping_sql=MAPPING_SQL,
    # The activity, its one event (raw holds one) and each parameter; the flat shape's parameters object.
    unique_keys=(*objects_read(ACTIVITY), "$.events[0]", "$.events[0].parameters[*]", "$.parameters"),
)
