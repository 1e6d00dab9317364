"""Service principals: the call pipeline around the clock (following customers' business hours), and
the scheduled jobs — retention sweeps every 8 hours on every system, nightly backups to the approved
cloud (recipient `aws`), nightly analytics loads, and DSR erasures when a delete request completes.

The sweeps also keep every system logging at least three times a day, so a silent system is news.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from compliance.demo.clock import (
    DAY_MS,
    GEN_FIRST,
    HOUR_MS,
    MINUTE_MS,
    N_DAYS,
    STREAM_SERVICES,
    date_of,
    day_start_ms,
    local_to_ms,
    offsets_matrix,
    rng_for,
)
from compliance.demo.context import REGIONS, Ctx
from compliance.demo.events import EMPTY, frame, rows_frame, take
from compliance.demo.geo import CITY_TZ_IDX, REGION_OCTET, TZ_NAMES
from compliance.demo.policy_view import json_list
from compliance.demo.tenants import World
from compliance.demo.workforce import SERVICES

AGENT = {s: ua for s, _, ua in SERVICES}
RECORDING_SHARE = 0.6
UPDATE_SHARE = 0.5
CATEGORY_SHARE = 0.3
STORES_OF_TYPE = {
    0: ("account", "session", "usage_event", "support_ticket"),
    1: ("contact", "call_record", "call_recording"),
    2: ("contact", "call_record", "call_recording"),
}


PIPELINE_ACTORS = ("svc-call-pipeline", "svc-recording-worker")
DIRECTIONS = ("inbound", "outbound")


def service_ip(service: str, region: str) -> str:
    n = [s for s, _, _ in SERVICES].index(service)
    return f"10.{REGION_OCTET[region]}.{8 + n}.{21 + 3 * n}"


def pipeline_rates(world: World, budget: float) -> np.ndarray:
    """Expected calls per weekday for each tenant, so that the pipeline's events meet the budget."""
    days = np.arange(N_DAYS)
    weekday = np.array([date_of(int(d)).weekday() < 5 for d in days])
    lo = np.maximum(world.tenant_start_day + 1, 0)
    hi = np.minimum(world.tenant_end_day - 2, N_DAYS - 1)
    wd = np.cumsum(weekday)
    we = np.cumsum(~weekday)
    span_wd = np.where(
        hi >= lo,
        wd[np.clip(hi, 0, N_DAYS - 1)] - wd[np.clip(lo, 0, N_DAYS - 1)] + weekday[np.clip(lo, 0, N_DAYS - 1)],
        0,
    )
    span_we = np.where(
        hi >= lo,
        we[np.clip(hi, 0, N_DAYS - 1)] - we[np.clip(lo, 0, N_DAYS - 1)] + (~weekday)[np.clip(lo, 0, N_DAYS - 1)],
        0,
    )
    per_call = 1 + UPDATE_SHARE + RECORDING_SHARE * world.tenant_records_calls
    unit = world.tenant_weight * (span_wd + 0.15 * span_we) * per_call
    return world.tenant_weight * budget / max(float(unit.sum()), 1.0)


_OFFSETS = offsets_matrix(TZ_NAMES)


def pipeline_day(ctx: Ctx, rates: np.ndarray, day: int) -> pl.DataFrame:
    w = ctx.world
    rng = rng_for(ctx.seed, STREAM_SERVICES, day)
    weekend = date_of(day).weekday() >= 5
    active = (w.tenant_start_day + 1 <= day) & (w.tenant_end_day - 2 >= day)
    n_t = rng.poisson(rates * (0.15 if weekend else 1.0) * active)
    tenant = np.repeat(np.arange(w.n_tenants), n_t)
    subj = ctx.sampler.in_tenant(rng, tenant, day)
    keep = subj >= 0
    tenant, subj = tenant[keep], subj[keep]
    n = len(tenant)
    if not n:
        return EMPTY
    off = _OFFSETS[CITY_TZ_IDX[w.tenant_city[tenant]], day - GEN_FIRST]
    t0 = local_to_ms(day, np.clip(rng.normal(12.5, 2.8, n), 6.5, 21.0), off)
    dur = np.clip(rng.gamma(2.0, 90.0, n), 5, 3600).astype(np.int64)
    num = (day + 10) * 10_000_000 + np.arange(n)
    upd = rng.random(n) < UPDATE_SHARE
    rec = w.tenant_records_calls[tenant] & (rng.random(n) < RECORDING_SHARE)
    who = np.concatenate([np.arange(n), np.nonzero(upd)[0], np.nonzero(rec)[0]])
    kind = np.concatenate([np.zeros(n, int), np.ones(int(upd.sum()), int), np.full(int(rec.sum()), 2)])
    when = np.concatenate(
        [
            t0,
            t0[upd] + dur[upd] * 1000 + rng.integers(MINUTE_MS, 20 * MINUTE_MS, int(upd.sum())),
            t0[rec] + dur[rec] * 1000 + rng.integers(30_000, 180_000, int(rec.sum())),
        ]
    )
    view = ctx.view
    cats = [
        json_list(view.stores["call_record"].categories),
        json_list(view.stores["call_record"].categories),
        json_list(view.stores["call_recording"].categories),
    ]
    show = rng.random(len(who)) < CATEGORY_SHARE
    outbound = (rng.random(n) >= 0.6).astype(np.int64)  # 60% inbound
    df = pl.DataFrame({"k": kind, "num": num[who], "dur": dur[who], "dir": take(DIRECTIONS, outbound[who])})
    details = df.select(
        pl.when(pl.col("k") == 0)
        .then(
            pl.concat_str(
                [
                    pl.lit('{"provider":"twilio","direction":"'),
                    pl.col("dir"),
                    pl.lit('","duration_s":'),
                    pl.col("dur").cast(pl.String),
                    pl.lit("}"),
                ]
            )
        )
        .when(pl.col("k") == 1)
        .then(pl.lit('{"fields_changed":["disposition"]}'))
        .otherwise(
            pl.concat_str([pl.lit('{"format":"opus","duration_s":'), pl.col("dur").cast(pl.String), pl.lit("}")])
        )
        .alias("d")
    ).to_series()
    rid = df.select(
        pl.concat_str(
            [pl.when(pl.col("k") == 2).then(pl.lit("rec_")).otherwise(pl.lit("call_")), pl.col("num").cast(pl.String)]
        )
    ).to_series()
    treg = ctx.tenant_region[tenant][who]
    region = ctx.region_names(np.full(len(who), ctx.system_index["call-service"]), treg)
    # Strings are gathered by index from short lists: building them from numpy text arrays cost seconds a day.
    actor = (kind == 2).astype(np.int64)  # an index into PIPELINE_ACTORS
    ips = [service_ip(a, r) for a in PIPELINE_ACTORS for r in REGIONS]
    return frame(
        len(who),
        occurred_at=when,
        actor_id=take(PIPELINE_ACTORS, actor),
        actor_type="service",
        system="call-service",
        action=take(("create", "update", "create"), kind),
        outcome="success",
        resource_type=take(("call_record", "call_record", "call_recording"), kind),
        resource_id=rid,
        data_categories=take(cats, np.where(show, kind, -1)),
        subject_id=ctx.subject_ids.get(subj[who]),
        record_count=np.ones(len(who), dtype=np.int64),
        purpose=view.purpose("svc_call_pipeline", "call-service"),
        tenant_id=ctx.tenant_ids.get(tenant[who]),
        source_ip=take(ips, actor * len(REGIONS) + ctx.region_map[ctx.system_index["call-service"], treg]),
        processing_region=region,
        user_agent=take([AGENT[a] for a in PIPELINE_ACTORS], actor),
        details=details,
    )


def jobs_day(ctx: Ctx, day: int) -> pl.DataFrame:
    """Retention sweeps, backups and analytics loads of one UTC day."""
    rng = rng_for(ctx.seed, STREAM_SERVICES, 10_000 + day)
    view = ctx.view
    f = ctx.sizes.inventory_factor
    stamp = date_of(day).strftime("%Y%m%d")
    rows: list[dict[str, object]] = []
    stores = [st for s in view.systems for st in view.system_stores[s]]
    base = day_start_ms(day)
    for run, hour in enumerate((0, 8, 16)):
        t = base + hour * HOUR_MS + 10 * MINUTE_MS + int(rng.integers(0, 15 * MINUTE_MS))
        for i, st in enumerate(stores):
            rule = view.retention_rule(st.system, st.store, st.categories[0])
            regions = view.system_regions[st.system]
            rows.append(
                {
                    "occurred_at": t + i * 7_000 + int(rng.integers(0, 5_000)),
                    "actor_id": "svc-retention",
                    "system": st.system,
                    "action": rule.action,
                    "resource_type": st.resource_type,
                    "record_count": int(rng.poisson(4 * f)),
                    "purpose": view.purpose("svc_retention", st.system),
                    "processing_region": regions[(day + run) % len(regions)],
                    "details": f'{{"job":"retention-sweep","run":"ret-{stamp}-{hour:02d}"}}',
                }
            )
    t = base + 90 * MINUTE_MS + int(rng.integers(0, 20 * MINUTE_MS))
    for i, st in enumerate(stores):
        regions = view.system_regions[st.system]
        rows.append(
            {
                "occurred_at": t + i * 2 * MINUTE_MS + int(rng.integers(0, 30_000)),
                "actor_id": "svc-backup",
                "system": st.system,
                "action": "export",
                "resource_type": st.resource_type,
                "record_count": int(rng.poisson(300 * f)),
                "purpose": view.purpose("svc_backup", st.system),
                "processing_region": regions[day % len(regions)],
                "recipient": "aws",
                "data_categories": json_list(st.categories) if rng.random() < CATEGORY_SHARE else None,
                "details": f'{{"job":"nightly-backup","target":"s3://capantra-backups/{st.system}/{st.store}/{stamp}/"}}',
            }
        )
    for i, region in enumerate(view.system_regions["analytics"]):
        t = base + 135 * MINUTE_MS + i * 5 * MINUTE_MS + int(rng.integers(0, 60_000))
        loaded = int(rng.poisson(max(ctx.sizes.usage_events / N_DAYS / 2, 1)))
        for action, count, at in (("create", loaded, t), ("deidentify", int(rng.poisson(25 * f)), t + 25 * MINUTE_MS)):
            rows.append(
                {
                    "occurred_at": at,
                    "actor_id": "svc-analytics-etl",
                    "system": "analytics",
                    "action": action,
                    "resource_type": "usage_event",
                    "record_count": count,
                    "purpose": view.purpose("svc_analytics_etl", "analytics"),
                    "processing_region": region,
                    "details": f'{{"job":"usage-load","partition":"{stamp}"}}',
                }
            )
    rows.extend(_erasures(ctx, rng, day))
    return _frame(rows)


def _erasures(ctx: Ctx, rng: np.random.Generator, day: int) -> list[dict[str, object]]:
    """The erasure job runs minutes before a delete request is marked complete, store by store."""
    rows: list[dict[str, object]] = []
    lo, hi = day_start_ms(day), day_start_ms(day) + DAY_MS
    for r in ctx.register.requests:
        if r.request_type != "delete" or r.status != "completed" or r.completed is None:
            continue
        done = int(r.completed.timestamp() * 1000)
        t = done - int(rng.integers(5, 90)) * MINUTE_MS
        if not lo <= t < hi:
            continue
        w = ctx.world
        tenant = int(w.subject_tenant[r.subject])
        for i, rt in enumerate(STORES_OF_TYPE[int(w.subject_type[r.subject])]):
            st = ctx.view.stores[rt]
            rows.append(
                {
                    "occurred_at": t + i * 20_000,
                    "actor_id": "svc-retention",
                    "system": st.system,
                    "action": "delete",
                    "resource_type": rt,
                    "record_count": int(rng.integers(1, 12)),
                    "subject_id": w.subject_ids[r.subject],
                    "tenant_id": w.tenant_ids[tenant],
                    "purpose": ctx.view.purpose("svc_retention", st.system),
                    "processing_region": ctx.view.region(st.system, w.tenant_region[tenant]),
                    "details": f'{{"job":"dsr-erasure","request":"{r.request_id}"}}',
                }
            )
    return rows


def _frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    for r in rows:
        actor, region = str(r["actor_id"]), str(r["processing_region"])
        r |= {
            "actor_type": "service",
            "outcome": "success",
            "source_ip": service_ip(actor, region),
            "user_agent": AGENT[actor],
        }
    return rows_frame(rows)
