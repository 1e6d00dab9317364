"""Throughput of each vendor adapter against the contract's own audit ingest, on the same number of events.

Each bundle holds a directory of 1,000 accounts, identities naming them, and N events of one source,
written by DuckDB from the vendors' documented shapes (logins, failures, reads, grants) in files of 250k
events; `cloudtrail_s3` is CloudTrail as S3 delivers it (gzipped `{"Records": [...]}` files of 500 events);
the contract's `audit/` bundle holds N events of the same mix. Each load runs in its own subprocess without findings.
Each adapter is compared with the audit ingest of the same events (its twin, `write_twin`: what the adapter
loaded, written as `audit/` JSON Lines with the vendor's event in `details`), loaded right after it.
Target: every adapter at least half the events per second of the audit ingest, in wall and CPU seconds.

    python bench/benchmark.py --only vendors --scales 1M
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

ACTORS = 1000
WHEN = "timestamp '2025-01-01' + to_seconds(i * 7)"  # one event every 7 s

# One SELECT per source over `range(N) t(i)`: DuckDB writes the struct columns as nested JSON.
GENERATORS = {
    "audit": f"""
        select 'ev-' || i as event_id, strftime({WHEN}, '%Y-%m-%dT%H:%M:%SZ') as occurred_at,
               'emp-' || (i % {ACTORS}) as actor_id, 'employee' as actor_type, 'crm' as system,
               ['login', 'login_failed', 'read', 'read'][i % 4 + 1] as action,
               case when i % 4 = 1 then 'failure' else 'success' end as outcome,
               'contact' as resource_type, 'c-' || (i % 5000) as resource_id,
               '203.0.113.' || (i % 250) as source_ip, 'AU' as geo_country, 'Mozilla/5.0' as user_agent
        from range($n) t(i)""",
    "cloudtrail": f"""
        select '1.08' as eventVersion, 'e-' || i as eventID, strftime({WHEN}, '%Y-%m-%dT%H:%M:%SZ') as eventTime,
               ['signin.amazonaws.com', 's3.amazonaws.com', 's3.amazonaws.com', 'iam.amazonaws.com'][i % 4 + 1] as eventSource,
               ['ConsoleLogin', 'GetObject', 'GetObject', 'ListUsers'][i % 4 + 1] as eventName,
               'us-east-1' as awsRegion, '203.0.113.' || (i % 250) as sourceIPAddress, 'aws-cli/2.15' as userAgent,
               {{'type': 'IAMUser', 'arn': 'arn:aws:iam::111122223333:user/u' || (i % {ACTORS}),
                'accountId': '111122223333', 'userName': 'u' || (i % {ACTORS})}} as userIdentity,
               {{'bucketName': 'capantra-call-recordings', 'key': 'r/' || (i % 5000) || '.wav'}} as requestParameters,
               {{'ConsoleLogin': case when i % 8 = 4 then 'Failure' else 'Success' end}} as responseElements,
               '111122223333' as recipientAccountId
        from range($n) t(i)""",
    "okta": f"""
        select 'u-' || i as uuid, strftime({WHEN}, '%Y-%m-%dT%H:%M:%S.000Z') as published,
               ['user.session.start', 'user.session.start', 'user.authentication.sso', 'application.user_membership.show_password'][i % 4 + 1] as eventType,
               {{'id': '00u' || (i % {ACTORS}), 'type': 'User', 'alternateId': 'u' || (i % {ACTORS}) || '@capantra.com'}} as actor,
               {{'ipAddress': '203.0.113.' || (i % 250), 'userAgent': {{'rawUserAgent': 'Mozilla/5.0'}},
                'geographicalContext': {{'country': 'Australia', 'geolocation': {{'lat': -33.8, 'lon': 151.2}}}}}} as client,
               {{'result': case when i % 4 = 1 then 'FAILURE' else 'SUCCESS' end}} as outcome,
               [{{'id': '0oa1', 'type': 'AppInstance', 'alternateId': 'crm', 'displayName': 'CRM'}}] as target
        from range($n) t(i)""",
    "google_workspace": f"""
        select 'admin#reports#activity' as kind,
               {{'time': strftime({WHEN}, '%Y-%m-%dT%H:%M:%S.000Z'), 'uniqueQualifier': 'q' || i,
                'applicationName': case when i % 2 = 0 then 'login' else 'drive' end, 'customerId': 'C1'}} as id,
               {{'email': 'u' || (i % {ACTORS}) || '@capantra.com', 'profileId': 'p' || (i % {ACTORS})}} as actor,
               '203.0.113.' || (i % 250) as ipAddress,
               [{{'type': 'x', 'name': ['login_success', 'view', 'login_failure', 'download'][i % 4 + 1],
                 'parameters': [{{'name': 'doc_id', 'value': 'd' || (i % 5000)}}, {{'name': 'doc_title', 'value': 'CRM export ' || (i % 50)}}]}}] as events
        from range($n) t(i)""",
    "entra": f"""
        select strftime({WHEN}, '%Y-%m-%dT%H:%M:%SZ') as time, 'SignInLogs' as category,
               {{'id': 's-' || i, 'createdDateTime': strftime({WHEN}, '%Y-%m-%dT%H:%M:%SZ'),
                'userPrincipalName': 'u' || (i % {ACTORS}) || '@capantra.com', 'userId': 'oid-' || (i % {ACTORS}),
                'appDisplayName': 'Office 365', 'appId': 'a1', 'ipAddress': '203.0.113.' || (i % 250),
                'status': {{'errorCode': case when i % 4 = 1 then 50126 else 0 end}},
                'location': {{'countryOrRegion': 'AU', 'geoCoordinates': {{'latitude': -33.8, 'longitude': 151.2}}}},
                'userAgent': 'Mozilla/5.0'}} as properties
        from range($n) t(i)""",
    "ocsf": f"""
        select case when i % 2 = 0 then 3002 else 6005 end as class_uid, 1 as activity_id,
               case when i % 4 = 2 then 2 else 1 end as status_id,
               epoch_ms({WHEN}) as time, {{'uid': 'o-' || i}} as metadata,
               {{'email_addr': 'u' || (i % {ACTORS}) || '@capantra.com'}} as "user",
               {{'user': {{'email_addr': 'u' || (i % {ACTORS}) || '@capantra.com'}}}} as actor,
               {{'ip': '203.0.113.' || (i % 250), 'location': {{'country': 'AU'}}}} as src_endpoint,
               {{'name': 'capantra-call-recordings'}} as databucket
        from range($n) t(i)""",
}


# CloudTrail as S3 delivers it: many small gzipped `{"Records": [...]}` files (one line each), the shape
# where per-file statements cost most; its folder is `cloudtrail`.
S3_RECORDS_PER_FILE = 500
FOLDER = {"cloudtrail_s3": "cloudtrail"}
GENERATORS_ALL = {**GENERATORS, "cloudtrail_s3": GENERATORS["cloudtrail"]}


def write_bundle(root: Path, source: str, n: int) -> Path:
    """A bundle of `n` events of one source, plus the directory and identities that name their actors."""
    out = root / f"vendor-{source}-{n}"
    folder = FOLDER.get(source, source)
    if (out / folder).exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    (out / folder).mkdir(parents=True)
    (out / "directory").mkdir()
    (out / "identities").mkdir()
    con = duckdb.connect()
    con.execute(
        f"""copy (select 'emp-' || i as actor_id, 'employee' as actor_type, 'support_agent' as role,
                  'Support' as department, 'active' as status, date '2023-01-01' as start_date, null as end_date,
                  true as mfa_enabled, 'AU' as home_country, 'Australia/Sydney' as timezone from range({ACTORS}) t(i))
            to '{out / "directory" / "accounts.csv"}' (header)"""
    ).fetchall()
    con.execute(
        f"""copy (select unnest([
                    'u' || i || '@capantra.com', 'arn:aws:iam::111122223333:user/u' || i]) as identity,
                  'emp-' || i as actor_id from range({ACTORS}) t(i))
            to '{out / "identities" / "people.csv"}' (header)"""
    ).fetchall()
    # Files of 250k events, as vendors deliver them in pieces (bound parameters cannot name a COPY target).
    per_file = S3_RECORDS_PER_FILE if source == "cloudtrail_s3" else 250_000
    for k, start in enumerate(range(0, n, per_file)):
        sql = GENERATORS_ALL[source].replace("range($n) t(i)", f"range({start}, {min(n, start + per_file)}) t(i)")
        if source == "cloudtrail_s3":
            target = out / folder / f"{k:05d}.json.gz"
            con.execute(
                f"copy (select list(r) as Records from ({sql}) r) to '{target}' (format json, compression gzip)"
            )
        else:
            con.execute(f"copy ({sql}) to '{out / folder / f'part-{k:04d}.jsonl'}' (format json)").fetchall()
    con.close()
    return out


# The contract's columns of an audit event (compliance.schema.AUDIT), as an `audit/` export gives them.
TWIN_COLUMNS = (
    "event_id", "strftime(occurred_at, '%Y-%m-%dT%H:%M:%S.%fZ') as occurred_at", "actor_id", "actor_type", "system",
    "action", "outcome", "resource_type", "resource_id", "data_categories", "subject_id", "purpose", "tenant_id",
    "source_ip", "geo_country", "geo_lat", "geo_lon", "processing_region", "recipient", "target_actor_id", "role",
    "user_agent", "details",
)  # fmt: skip


def write_twin(root: Path, source: str, n: int, loaded_db: Path) -> Path:
    """The audit bundle of the same events: what the adapter loaded from `source` (`loaded_db`), written as the
    contract's `audit/` JSON Lines (the vendor's event in `details`, as the adapter keeps it), in files of 250k
    events beside the same directory and identities. Loading it gives the same audit rows, so the ratio compares
    the two ways of loading one set of events, not two different sets (the generic `audit` bundle has no
    `details`: the adapter stores every vendor event there, the contract's ingest then stores nothing)."""
    out = root / f"vendor-{source}-{n}-twin"
    if (out / "audit").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    (out / "audit").mkdir(parents=True)
    vendor = root / f"vendor-{source}-{n}"
    for folder in ("directory", "identities"):
        shutil.copytree(vendor / folder, out / folder)
    con = duckdb.connect(str(loaded_db), read_only=True)
    events = f"select {', '.join(TWIN_COLUMNS)} from audit_events order by source_file_id, source_line"
    for k, start in enumerate(range(0, n, 250_000)):
        target = out / "audit" / f"part-{k:04d}.jsonl"
        con.execute(f"copy ({events} limit 250000 offset {start}) to '{target}' (format json)").fetchall()
    con.close()
    return out


def _load(bundle: Path, db: Path, folder: str, run_measured) -> dict:
    """One load of `bundle` into `db` in its own process, findings off: wall seconds (the ingest's own), CPU
    seconds (every thread of the process: wall time on a shared machine follows the neighbours' load, CPU time
    much less), rows loaded and rejected from `folder`."""
    db.unlink(missing_ok=True)
    result, _wall, _peak = run_measured(f"""
        import json, time
        from pathlib import Path
        from compliance.ingest.load import ingest
        cpu = time.process_time()
        s = ingest([Path('{bundle}')], Path('{db}'), findings=False)
        cpu = time.process_time() - cpu
        r = next(r for r in s.by_source() if r['source'] == '{folder}')
        print(json.dumps({{"seconds": s.seconds, "cpu": cpu, "loaded": r['rows_loaded'],
                          "rejected": r['rows_rejected']}}))
    """)
    return result


def bench_vendors(scales: list[int], work: Path, run_measured) -> None:
    """Each adapter beside the audit ingest of the same events (its twin bundle, `write_twin`), loaded right
    after it in the same run: the ratios (wall and CPU) are the twin's seconds over the adapter's. The generic
    `audit` bundle (other events, no `details`) is measured first, as before, for reference."""
    for n in scales:
        print(f"\n## vendor adapters, {n:,} events per source (one bundle each, findings off)")
        print(
            f"{'source':17} {'wall s':>7} {'CPU s':>6} {'loaded':>10} {'rejected':>8} {'twin wall':>9} {'twin CPU':>8}"
            f" {'wall ratio':>10} {'CPU ratio':>9} {'CPU vs audit':>12}"
        )
        reference = None
        for source in GENERATORS_ALL:
            folder = FOLDER.get(source, source)
            bundle = write_bundle(work, source, n)
            db = work / f"vendor-{source}-{n}.duckdb"
            ours = _load(bundle, db, folder, run_measured)
            if source == "audit":
                reference = ours
                print(
                    f"{source:17} {ours['seconds']:7.1f} {ours['cpu']:6.1f} {ours['loaded']:10,} {ours['rejected']:8,}"
                )
                db.unlink(missing_ok=True)
                continue
            twin_bundle = write_twin(work, source, n, db)
            db.unlink(missing_ok=True)
            twin = _load(twin_bundle, db, "audit", run_measured)
            db.unlink(missing_ok=True)
            if twin["loaded"] != ours["loaded"]:
                print(f"  (twin loaded {twin['loaded']:,} events, the adapter {ours['loaded']:,}: not the same events)")
            print(
                f"{source:17} {ours['seconds']:7.1f} {ours['cpu']:6.1f} {ours['loaded']:10,} {ours['rejected']:8,}"
                f" {twin['seconds']:9.1f} {twin['cpu']:8.1f} {twin['seconds'] / ours['seconds']:9.2f}x"
                f" {twin['cpu'] / ours['cpu']:8.2f}x {reference['cpu'] / ours['cpu']:11.2f}x"
            )
        print("target: every adapter >= 0.50x the audit ingest of the same events (wall and CPU ratios)")
