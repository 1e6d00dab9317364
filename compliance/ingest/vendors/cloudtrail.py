"""AWS CloudTrail records (docs/sources/cloudtrail.md): S3 delivery files, CloudTrail Lake or EventBridge lines."""

from __future__ import annotations

from compliance.ingest.vendors.core import Adapter, extract, may_name, objects_read

FIELDS = {
    "event_id": "$.eventID",
    "event_time": "$.eventTime",
    "event_source": "$.eventSource",
    "event_name": "$.eventName",
    "read_only": "$.readOnly",
    "error_code": "$.errorCode",
    "console_login": "$.responseElements.ConsoleLogin",
    "identity_type": "$.userIdentity.type",
    "arn": "$.userIdentity.arn",
    "issuer_arn": "$.userIdentity.sessionContext.sessionIssuer.arn",
    "user_name": "$.userIdentity.userName",
    "principal_id": "$.userIdentity.principalId",
    "account_id": "$.userIdentity.accountId",
    "invoked_by": "$.userIdentity.invokedBy",
    "recipient_account": "$.recipientAccountId",
    "source_ip": "$.sourceIPAddress",
    "user_agent": "$.userAgent",
    "region": "$.awsRegion",
    "req_user": "$.requestParameters.userName",
    "req_role": "$.requestParameters.roleName",
    "req_group": "$.requestParameters.groupName",
    "req_policy_arn": "$.requestParameters.policyArn",
    "req_policy_name": "$.requestParameters.policyName",
    "bucket": "$.requestParameters.bucketName",
    "object_key": "$.requestParameters.key",
    "first_resource_arn": "$.resources[0].ARN",
}

GRANTS = "'AttachUserPolicy', 'AttachRolePolicy', 'AttachGroupPolicy', 'PutUserPolicy', 'PutRolePolicy', 'PutGroupPolicy', 'AddUserToGroup'"
REVOKES = "'DetachUserPolicy', 'DetachRolePolicy', 'DetachGroupPolicy', 'DeleteUserPolicy', 'DeleteRolePolicy', 'DeleteGroupPolicy', 'RemoveUserFromGroup'"
# S3 object-level data events: what was read or written is an object, named by its ARN.
OBJECT_READS = "'GetObject', 'GetObjectAcl', 'GetObjectTagging', 'SelectObjectContent', 'HeadObject'"
OBJECT_WRITES = "'PutObject', 'CopyObject', 'CompleteMultipartUpload', 'UploadPart', 'RestoreObject'"
OBJECT_DELETES = "'DeleteObject', 'DeleteObjects'"

MAPPING_SQL = f"""
with unwrapped as (
    -- EventBridge wraps the record: {{"detail-type": "AWS API Call via CloudTrail", "detail": {{...}}}}
    -- (only an event whose text may name the key is parsed for it)
    select line, elem,
           case when {may_name(("detail-type",), "ev")} then
                case when json_extract_string(ev, '$."detail-type"') like '%CloudTrail%'
                     then json_extract(ev, '$.detail') else ev end
           else ev end as ev
    from _vevents
),
f as (select line, elem, ev, {extract(FIELDS)} from unwrapped),
named as (
    select *,
        case when event_source = 's3.amazonaws.com' and bucket is not null
             then 'arn:aws:s3:::' || bucket || coalesce('/' || object_key, '') end as s3_arn,
        split_part(event_source, '.', 1) as service,
        coalesce(recipient_account, account_id) as account
    from f
),
classified as (
    select *,
        case
            when event_name = 'ConsoleLogin' then
                case when console_login = 'Failure' or error_code is not null then 'login_failed' else 'login' end
            when event_name in ({GRANTS}) then 'role_grant'
            when event_name in ({REVOKES}) then 'role_revoke'
            when event_name in ({OBJECT_READS}) then 'read'
            when event_name in ({OBJECT_WRITES}) then 'create'
            when event_name in ({OBJECT_DELETES}) then 'delete'
            when event_name in ('GetSecretValue', 'BatchGetSecretValue', 'Decrypt', 'GetParameter', 'GetParameters')
                then 'read'
            when read_only = 'true' or regexp_matches(event_name, '^(Get|List|Describe|Lookup|Head|Search|Select|Scan|Query|BatchGet)')
                then 'read'
            when regexp_matches(event_name, '^(Create|Run|Allocate|Import|Register|Issue|Request)') then 'create'
            when regexp_matches(event_name, '^(Delete|Terminate|Remove|Deregister|Release|Purge)') then 'delete'
            when event_name is not null then 'config_change'
        end as action
    from named
)
select
    line, elem, ev as raw, event_id as vendor_id, event_time as occurred_at,
    list_filter([arn, issuer_arn,
                 case when user_name is not null and account is not null and identity_type = 'IAMUser'
                      then 'arn:aws:iam::' || account || ':user/' || user_name end,
                 case when identity_type = 'Root' and account is not null then 'arn:aws:iam::' || account || ':root' end,
                 user_name, invoked_by, principal_id], lambda x: nullif(x, '') is not null) as principals,
    case when identity_type in ('AWSService', 'AWSAccount') then 'service' end as actor_type_hint,
    action,
    case
        when action = 'login' or action = 'login_failed' then
            case when action = 'login' then 'success' else 'failure' end
        when nullif(error_code, '') is null then 'success'
        when error_code ilike '%AccessDenied%' or error_code ilike '%Unauthorized%' or error_code = 'Blocked' then 'denied'
        else 'failure'
    end as outcome,
    case when event_name is null then 'CloudTrail record without eventName' end as reject_reason,
    'aws' as system,
    case when s3_arn is not null and object_key is not null then 's3_object'
         when s3_arn is not null then 's3_bucket'
         else 'aws_' || coalesce(nullif(service, ''), 'unknown') end as resource_type,
    coalesce(s3_arn, first_resource_arn,
             case when action in ('role_grant', 'role_revoke') then coalesce(req_policy_arn, req_policy_name, req_group) end
    ) as resource_id,
    coalesce(s3_arn, first_resource_arn) as resource_name,
    -- Calls made by AWS on a user's behalf name a service host, not an address.
    case when regexp_matches(source_ip, '^[0-9a-fA-F.:]+$') then source_ip end as source_ip,
    null as geo_country, null as geo_country_name, null as geo_lat, null as geo_lon,
    region as processing_region,
    user_agent,
    case when action in ('role_grant', 'role_revoke') then list_filter([
        case when req_user is not null and account is not null then 'arn:aws:iam::' || account || ':user/' || req_user end,
        case when req_role is not null and account is not null then 'arn:aws:iam::' || account || ':role/' || req_role end,
        case when req_group is not null and account is not null and event_name not in ('AddUserToGroup', 'RemoveUserFromGroup')
             then 'arn:aws:iam::' || account || ':group/' || req_group end,
        req_user, req_role], lambda x: x is not null) else []::varchar[] end as target_principals,
    case when action in ('role_grant', 'role_revoke')
         then coalesce(req_policy_arn, req_policy_name, case when event_name like '%Group' then req_group end) end as role,
    null as recipient,
    null::varchar[] as given_twice
from classified
"""

ADAPTER = Adapter(
    folder="cloudtrail",
    title="AWS CloudTrail",
    envelopes=("Records",),
    mapping_sql=MAPPING_SQL,
    unique_keys=objects_read(FIELDS),
)
