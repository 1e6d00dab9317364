"""OCSF 1.x events (docs/sources/ocsf.md), JSON Lines: Authentication (3002), Account Change (3001),
API Activity (6003) and Datastore Activity (6005)."""

from __future__ import annotations

from compliance.ingest.vendors.core import Adapter, extract, objects_read

FIELDS = {
    "class_uid": "$.class_uid",
    "activity_id": "$.activity_id",
    "status_id": "$.status_id",
    "disposition_id": "$.disposition_id",
    "time": "$.time",
    "time_dt": "$.time_dt",
    "uid": "$.metadata.uid",
    "product": "$.metadata.product.name",
    "actor_uid": "$.actor.user.uid",
    "actor_name": "$.actor.user.name",
    "actor_email": "$.actor.user.email_addr",
    "actor_type_id": "$.actor.user.type_id",
    "user_uid": "$.user.uid",
    "user_name": "$.user.name",
    "user_email": "$.user.email_addr",
    "ip": "$.src_endpoint.ip",
    "country": "$.src_endpoint.location.country",
    "lat": "$.src_endpoint.location.lat",
    "lon": "$.src_endpoint.location.long",
    "ua": "$.http_request.user_agent",
    "region": "$.cloud.region",
    "policy_name": "$.policy.name",
    "policy_uid": "$.policy.uid",
    "operation": "$.api.operation",
    "resource_uid": "$.resources[0].uid",
    "resource_name": "$.resources[0].name",
    "resource_kind": "$.resources[0].type",
    "database_name": "$.database.name",
    "table_name": "$.table.name",
    "bucket_name": "$.databucket.name",
}

MAPPING_SQL = f"""
with f as (select line, elem, ev, {extract(FIELDS)} from _vevents),
classified as (
    select *,
        try_cast(class_uid as integer) as cls,
        try_cast(activity_id as integer) as act,
        case
            when class_uid = '3002' then case activity_id
                when '1' then case when status_id = '2' then 'login_failed' else 'login' end
                when '2' then 'logout' end
            when class_uid = '3001' then case activity_id
                when '1' then 'create' when '6' then 'delete'
                when '7' then 'role_grant' when '8' then 'role_revoke'
                when '2' then 'update' when '3' then 'update' when '4' then 'update' when '5' then 'update'
                when '9' then 'update' when '10' then 'update' when '11' then 'update' when '12' then 'update' end
            when class_uid = '6003' then case activity_id
                when '1' then 'create' when '2' then 'read' when '3' then 'update' when '4' then 'delete' end
            when class_uid = '6005' then case activity_id
                when '1' then 'read' when '2' then 'update' when '4' then 'search' when '5' then 'update'
                when '6' then 'create' when '7' then 'delete' when '8' then 'search' when '10' then 'read' end
        end as action,
        coalesce(bucket_name, nullif(concat_ws('/', database_name, table_name), ''), resource_uid, resource_name)
            as store_name
    from f
)
select
    line, elem, ev as raw, uid as vendor_id,
    -- `time` is epoch milliseconds; `time_dt` (an OCSF profile) is RFC 3339.
    coalesce(time_dt, cast(make_timestamp(try_cast(time as bigint) * 1000) as varchar)) as occurred_at,
    list_filter([actor_email, actor_name, actor_uid,
                 case when cls = 3002 then user_email end, case when cls = 3002 then user_name end,
                 case when cls = 3002 then user_uid end], lambda x: nullif(x, '') is not null) as principals,
    case when actor_type_id = '3' then 'service' end as actor_type_hint,
    action,
    case when disposition_id in ('2', '6') or status_id = '3' then 'denied'
         when status_id = '2' then 'failure' else 'success' end as outcome,
    case when class_uid is null then 'OCSF event without class_uid'
         when cls not in (3001, 3002, 6003, 6005) then 'OCSF class ' || class_uid || ' is not read (3001, 3002, 6003, 6005 are)'
         when action is null then 'OCSF class ' || class_uid || ' activity_id ' || coalesce(activity_id, 'missing')
              || ' is not mapped to an audit action' end as reject_reason,
    coalesce(product, 'ocsf') as system,
    case cls when 3002 then 'ocsf_session' when 3001 then 'ocsf_account'
             when 6003 then coalesce(resource_kind, 'ocsf_api') else 'ocsf_datastore' end as resource_type,
    coalesce(resource_uid, store_name, case when cls = 3001 then user_uid end) as resource_id,
    store_name as resource_name,
    ip as source_ip, country as geo_country, null as geo_country_name, lat as geo_lat, lon as geo_lon,
    region as processing_region, ua as user_agent,
    case when cls = 3001 then list_filter([user_email, user_name, user_uid], lambda x: nullif(x, '') is not null)
         else []::varchar[] end as target_principals,
    case when action in ('role_grant', 'role_revoke') then coalesce(policy_name, policy_uid) end as role,
    null as recipient,
    null::varchar[] as given_twice
from classified
"""

ADAPTER = Adapter(folder="ocsf", title="OCSF", envelopes=(), mapping_sql=MAPPING_SQL, unique_keys=objects_read(FIELDS))
