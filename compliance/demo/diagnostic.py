"""Service logs (diagnostic/): the last 30 days only, as their retention requires, plus the planted
leftover file, weak-TLS relay, unencrypted archive write and personal data in messages.

Normal messages carry ids and counts, never names, addresses, phone-like digit groups or card-like
numbers, so that anything a personal-data scan finds is planted.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from compliance.demo.clock import DAY_MS, N_DAYS, STREAM_DIAG, date_of, day_of, day_start_ms, dt_of, rng_for
from compliance.demo.events import render
from compliance.demo.tenants import World
from compliance.demo.truth import Truth
from compliance.demo.writer import write_lines
from compliance.schema import DIAGNOSTIC

RETAINED_DAYS = 30
OLD_FILE_DAY = date(2025, 10, 20)  # 72 days before the as-of date: past 30 days + 7 grace
NETWORK = {
    "api-gateway": (
        "GET /v1/contacts/:id",
        "GET /v1/contacts",
        "POST /v1/contacts",
        "GET /v1/calls/:id",
        "GET /v1/calls",
        "PATCH /v1/calls/:id",
        "GET /v1/reports/summary",
        "GET /v1/recordings/:id/stream",
    ),
    "auth-service": ("POST /oauth/token", "POST /v1/sessions", "DELETE /v1/sessions/:id", "POST /v1/mfa/verify"),
    "call-ingest": ("POST /webhooks/twilio/status", "POST /webhooks/twilio/recording"),
    "crm-api": ("GET /internal/contacts/:id", "PUT /internal/contacts/:id", "GET /internal/companies/:id"),
    "analytics-collector": ("POST /collect", "POST /collect/batch"),
}
SUBJECT_ROUTES = (
    "/v1/contacts/:id",
    "/v1/calls/:id",
    "/v1/recordings/:id/stream",
    "/internal/contacts/:id",
    "/webhooks/twilio/recording",
)
JOBS = {
    "search-indexer": ("index refresh completed in {n} ms", "reindexed {n} contact documents"),
    "retention-job": ("sweep finished: store=call_recordings deleted={n}", "sweep started: store=sessions batch={n}"),
    "billing-worker": ("invoice batch generated: {n} invoices", "payment intent confirmed for invoice batch {n}"),
    "support-sync": ("ticket sync completed: {n} updated", "zendesk webhook processed in {n} ms"),
}
STORAGE = {
    "recording-store": (
        "recording object stored (sse=aws:kms, {n} KB)",
        "lifecycle transition completed for {n} objects",
    )
}
WEIGHTS = {
    "api-gateway": 30,
    "auth-service": 12,
    "call-ingest": 14,
    "crm-api": 10,
    "analytics-collector": 8,
    "recording-store": 6,
    "search-indexer": 5,
    "retention-job": 3,
    "billing-worker": 4,
    "support-sync": 4,
}
STATUS = (200, 200, 200, 200, 200, 200, 201, 204, 304, 400, 401, 404, 429, 500, 503)
REGIONS = ("us-east", "eu-fra", "au-syd")
BOOLEANS = {"storage_encrypted"}
NUMBERS = {"status_code", "latency_ms"}


def _day_frame(rng: np.random.Generator, world: World, day: int, n: int) -> pl.DataFrame:
    services = list(WEIGHTS)
    w = np.array(list(WEIGHTS.values()), dtype=float)
    svc = np.array(services)[rng.choice(len(services), n, p=w / w.sum())]
    t = day_start_ms(day) + np.sort(rng.integers(0, DAY_MS, n))
    region = np.array(REGIONS)[rng.choice(3, n, p=[0.5, 0.3, 0.2])]
    host = np.char.add(np.char.add(np.char.add(svc, "-"), region), np.char.add("-", rng.integers(1, 5, n).astype(str)))
    msg = np.empty(n, dtype=object)
    status = np.full(n, -1)
    latency = np.full(n, -1.0)
    tls = np.full(n, None, dtype=object)
    enc = np.full(n, None, dtype=object)
    level = np.full(n, "INFO", dtype=object)
    num = rng.integers(2, 900, n)
    tenant = np.full(n, -1)
    subject = np.full(n, -1)
    active = np.nonzero(world.tenant_end_day > day + 2)[0]
    for s in services:
        m = svc == s
        k = int(m.sum())
        if not k:
            continue
        if s in NETWORK:
            routes = np.array(NETWORK[s])[rng.integers(0, len(NETWORK[s]), k)]
            st = np.array(STATUS)[rng.integers(0, len(STATUS), k)]
            lat = np.round(rng.lognormal(3.0, 0.7, k), 1)
            status[m], latency[m] = st, lat
            msg[m] = [f"{r} {c} {int(x)}ms" for r, c, x in zip(routes, st, lat, strict=True)]
            tls[m] = np.where(rng.random(k) < 0.7, "TLSv1.3", "TLSv1.2")
            level[m] = np.where(
                st >= 500, "ERROR", np.where(st == 429, "WARNING", np.where(rng.random(k) < 0.05, "DEBUG", "INFO"))
            )
            tn = active[rng.integers(0, len(active), k)]
            tenant[m] = np.where(rng.random(k) < 0.8, tn, -1)
            touches = np.array([any(r.endswith(x) for x in SUBJECT_ROUTES) for r in routes])
            first = np.searchsorted(world.subject_tenant, tn)
            count = np.searchsorted(world.subject_tenant, tn, side="right") - first
            subj = first + (rng.random(k) * count).astype(np.int64)
            subject[m] = np.where(touches & (tenant[m] >= 0), subj, -1)
        else:
            table = STORAGE.get(s) or JOBS[s]
            pick = rng.integers(0, len(table), k)
            msg[m] = [table[p].format(n=v) for p, v in zip(pick, num[m], strict=True)]
            level[m] = np.where(rng.random(k) < 0.03, "WARNING", np.where(rng.random(k) < 0.01, "NOTICE", "INFO"))
            if s in STORAGE:
                enc[m] = "true"
    ids = rng.integers(10**11, 10**12, n)
    network = status >= 0
    return pl.DataFrame(
        {
            "t": t,
            "service": svc,
            "level": level.astype(str),
            "message": msg.astype(str),
            "host": host,
            "processing_region": region,
            "request_id": pl.Series(
                np.where(network, np.char.add("req_", ids.astype(str)), None).tolist(), dtype=pl.String
            ),
            "status_code": pl.Series(np.where(network, status, None).tolist(), dtype=pl.Int64),
            "latency_ms": pl.Series(np.where(network, latency, None).tolist(), dtype=pl.Float64),
            "tls_version": pl.Series(tls.tolist(), dtype=pl.String),
            "storage_encrypted": pl.Series(enc.tolist(), dtype=pl.String),
            "tenant_id": pl.Series([world.tenant_ids[i] if i >= 0 else None for i in tenant], dtype=pl.String),
            "subject_id": pl.Series([world.subject_ids[i] if i >= 0 else None for i in subject], dtype=pl.String),
        }
    )


def _planted(rng: np.random.Generator, world: World, truth: Truth) -> dict[int, pl.DataFrame]:
    rows: list[dict[str, object]] = []
    contacts = np.nonzero((world.subject_type == 1) & (world.tenant_end_day[world.subject_tenant] > N_DAYS + 5))[0]

    def row(t: int, service: str, message: str, **kw: object) -> None:
        rows.append(
            {
                "t": t,
                "service": service,
                "level": "INFO",
                "message": message,
                "host": f"{service}-us-east-1",
                "processing_region": "us-east",
            }
            | kw
        )

    relay_first = None
    for i in range(40):  # a legacy relay still negotiating TLS 1.0 while serving contact data
        d = day_of(date(2025, 12, 10)) + i % 3
        t = day_start_ms(d) + int(rng.integers(8, 20)) * 3_600_000 + int(rng.integers(0, 3_600_000))
        relay_first = t if relay_first is None else min(relay_first, t)
        s = int(contacts[rng.integers(len(contacts))])
        row(
            t,
            "legacy-webhook-relay",
            f"POST /relay/crm-webhook 200 {int(rng.integers(20, 90))}ms",
            request_id=f"req_{7 * 10**11 + i}",
            status_code=200,
            latency_ms=float(rng.integers(20, 90)),
            tls_version="TLSv1.0",
            tenant_id=world.tenant_ids[world.subject_tenant[s]],
            subject_id=world.subject_ids[s],
        )
    truth.finding(
        "security.unencrypted_transport",
        "service:legacy-webhook-relay",
        dt_of(relay_first or 0),
        "40 lines of legacy-webhook-relay served contact data over TLSv1.0 (10-12 Dec); minimum is TLSv1.2.",
    )
    s = int(contacts[rng.integers(len(contacts))])
    archive_t = day_start_ms(day_of(date(2025, 12, 16))) + 2 * 3_600_000 + 17 * 60_000
    for i, enc in enumerate(("true", "true", "false", "true")):
        sse = "sse=aws:kms" if enc == "true" else "sse=none"
        row(
            archive_t + i * 61_000,
            "media-archiver",
            f"archive object written to s3://capantra-media-archive ({sse})",
            storage_encrypted=enc,
            tenant_id=world.tenant_ids[world.subject_tenant[s]],
            subject_id=world.subject_ids[s],
        )
    truth.finding(
        "security.unencrypted_transport",
        "service:media-archiver",
        dt_of(archive_t + 2 * 61_000),
        "media-archiver wrote a call-recording archive object with storage_encrypted=false (sse=none) on 2025-12-16.",
    )
    leaks = (
        ("support-sync", "ticket 48213 reply from jane.doe@example.com could not be threaded"),
        ("support-sync", "sms notification to +61 412 345 678 failed: carrier rejected"),
        ("support-sync", "callback requested by m.schmidt@example.de for ticket 51877"),
        ("support-sync", "voicemail transcript attached, caller (415) 555-0173"),
        ("billing-worker", "charge declined for card 4111 1111 1111 1111 (exp 09/27)"),
    )
    firsts: dict[str, int] = {}
    for i, (service, message) in enumerate(leaks):
        t = day_start_ms(day_of(date(2025, 12, 4)) + 4 * i) + int(rng.integers(9, 17)) * 3_600_000
        firsts.setdefault(service, t)
        row(t, service, message, level="WARNING")
    truth.finding(
        "datamap.personal_data_in_logs",
        "service:support-sync",
        dt_of(firsts["support-sync"]),
        "4 support-sync messages contain email addresses (2) and phone numbers (2).",
    )
    truth.finding(
        "datamap.personal_data_in_logs",
        "service:billing-worker",
        dt_of(firsts["billing-worker"]),
        "A billing-worker message contains a full card number (4111 1111 1111 1111).",
    )
    df = pl.DataFrame(
        rows,
        schema={
            **{
                k: pl.String
                for k in (
                    "service",
                    "level",
                    "message",
                    "host",
                    "processing_region",
                    "request_id",
                    "tls_version",
                    "storage_encrypted",
                    "tenant_id",
                    "subject_id",
                )
            },
            "t": pl.Int64,
            "status_code": pl.Int64,
            "latency_ms": pl.Float64,
        },
    )
    day = (df["t"] - day_start_ms(0)) // DAY_MS
    return {int(d): df.filter(day == d) for d in sorted(set(day.to_list()))}


def write_diagnostic(seed: int, world: World, per_day: int, out_dir: Path, truth: Truth) -> tuple[int, int]:
    folder = out_dir / "diagnostic"
    planted = _planted(rng_for(seed, STREAM_DIAG, -1), world, truth)
    days = [day_of(OLD_FILE_DAY), *range(N_DAYS - RETAINED_DAYS, N_DAYS)]
    lines = files = 0
    for day in days:
        rng = rng_for(seed, STREAM_DIAG, day)
        n = int(rng.poisson(per_day if day >= N_DAYS - RETAINED_DAYS else per_day / 3))
        df = _day_frame(rng, world, day, n)
        if day in planted:
            df = pl.concat([df, planted[day].select(df.columns)])
        df = df.sort("t", maintain_order=True).with_columns(pl.col("t").alias("occurred_at"))
        text = render(df, DIAGNOSTIC.column_names, raw=BOOLEANS, numbers=NUMBERS)
        write_lines(folder / f"{date_of(day).isoformat()}.jsonl", text)
        lines += df.height
        files += 1
    first_old = day_start_ms(day_of(OLD_FILE_DAY))
    truth.finding(
        "retention.log_past_retention",
        "source:diagnostic",
        dt_of(first_old),
        f"diagnostic/{OLD_FILE_DAY}.jsonl still holds service log lines from {OLD_FILE_DAY}, "
        f"{(date(2025, 12, 31) - OLD_FILE_DAY).days} days before the as-of date; retention is 30 days + 7 grace.",
    )
    return lines, files
