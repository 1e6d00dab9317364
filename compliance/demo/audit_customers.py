"""Customer users: a sample of the customer-user subjects, each working in their own workspace on
some weekdays (rarely weekends) in their tenant's time zone, regularly enough never to go dormant.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from compliance.demo.audit_staff import _nullify_negative, data_events, session_work
from compliance.demo.clock import (
    GEN_FIRST,
    MINUTE_MS,
    N_DAYS,
    STREAM_CUSTOMERS,
    date_of,
    local_to_ms,
    offsets_matrix,
    rng_for,
)
from compliance.demo.context import Ctx
from compliance.demo.events import EMPTY, Lookup, frame
from compliance.demo.geo import CITIES, CITY_TZ_IDX, CUSTOMER_AGENTS, TZ_NAMES, jitter_geo, make_ips
from compliance.demo.tenants import World

OVERHEAD = 1.73  # login, most sessions signed out, rare typos


@dataclass
class Customers:
    subject: np.ndarray
    tenant: np.ndarray
    tz: np.ndarray  # index into TZ_NAMES
    first_day: np.ndarray
    last_day: np.ndarray
    p_weekday: np.ndarray
    p_weekend: np.ndarray
    start: np.ndarray
    lam: np.ndarray
    ip: pl.Series  # each customer's address
    lat: np.ndarray
    lon: np.ndarray
    agent: np.ndarray  # index into CUSTOMER_AGENTS

    @property
    def n(self) -> int:
        return len(self.subject)


def build_customers(seed: int, world: World, budget: float, exclude: set[int]) -> Customers:
    rng = rng_for(seed, STREAM_CUSTOMERS, -500)
    first = np.maximum(world.first_valid_day(), 0)
    last = np.minimum(world.last_valid_day(), N_DAYS - 1)
    ok = (world.subject_type == 0) & (last - first > 90)
    ok[list(exclude)] = False
    cand = np.nonzero(ok)[0]
    per_user = 125 * (OVERHEAD + 3.0)
    n = int(np.clip(budget / per_user, 30, len(cand)))
    subj = np.sort(rng.choice(cand, n, replace=False))
    p_wd = rng.uniform(0.3, 0.6, n)
    p_we = rng.uniform(0.02, 0.12, n)
    span = (last[subj] - first[subj] + 1) / N_DAYS
    days = (261 * p_wd + 104 * p_we) * span
    level = rng.lognormal(0.0, 0.4, n)
    level /= level.mean()
    factor = (budget / max(days.sum(), 1.0) - OVERHEAD) / float((days * level).sum() / max(days.sum(), 1.0))
    tenant = world.subject_tenant[subj]
    city = world.tenant_city[tenant]
    lat, lon = jitter_geo(rng, city, 0.05)
    return Customers(
        subject=subj,
        tenant=tenant,
        tz=CITY_TZ_IDX[city],
        first_day=first[subj],
        last_day=last[subj],
        p_weekday=p_wd,
        p_weekend=p_we,
        start=rng.uniform(7.5, 11.0, n),
        lam=np.maximum(factor, 2.5) * level,
        ip=pl.Series(make_ips(rng, city), dtype=pl.String),
        lat=lat,
        lon=lon,
        agent=rng.integers(0, len(CUSTOMER_AGENTS), n),
    )


_OFFSETS = offsets_matrix(TZ_NAMES)
# Text columns are gathered by index from these (and per-customer Series): building them from numpy text
# arrays, row by row, cost more than generating the events.
COUNTRY = Lookup([c.country for c in CITIES])
AGENTS = Lookup(CUSTOMER_AGENTS)
LOGIN_ACTIONS = Lookup(["login", "logout", "login_failed"])
LOGIN_OUTCOMES = Lookup(["success", "success", "failure"])
LOGIN_PURPOSES = Lookup(["essential.service.authentication", None, "essential.service.authentication"])
LOGIN_DETAILS = Lookup(
    ['{"method":"password","mfa":true}', '{"reason":"user_signed_out"}', '{"reason":"invalid_password"}']
)


def customer_day(ctx: Ctx, cu: Customers, day: int) -> pl.DataFrame:
    rng = rng_for(ctx.seed, STREAM_CUSTOMERS, day)
    weekend = date_of(day).weekday() >= 5
    p = cu.p_weekend if weekend else cu.p_weekday
    on = (rng.random(cu.n) < p) & (cu.first_day <= day) & (cu.last_day >= day)
    idx = np.nonzero(on)[0]
    if not len(idx):
        return EMPTY
    n = len(idx)
    start = np.clip(cu.start[idx] + rng.normal(0, 0.8, n), 7.0, 18.0)
    end = np.minimum(start + rng.uniform(0.5, 5.0, n), 20.5)
    off = _OFFSETS[cu.tz[idx], day - GEN_FIRST]
    t0, t1 = local_to_ms(day, start, off), local_to_ms(day, end, off)
    actor = ctx.subject_ids.get(cu.subject[idx])
    tenant = cu.tenant[idx]
    city = ctx.world.tenant_city[tenant]
    treg = ctx.tenant_region[tenant]
    auth = ctx.region_names(np.full(n, ctx.system_index["auth"]), treg)

    signout = rng.random(n) < 0.7  # the rest let the session time out
    fail = (rng.random(n) < 0.02).astype(np.int64)
    who = np.concatenate([np.arange(n), np.nonzero(signout)[0], np.repeat(np.arange(n), fail)])
    when = np.concatenate([t0, t1[signout], np.repeat(t0, fail) - rng.integers(15_000, 60_000, int(fail.sum()))])
    kind = np.concatenate([np.zeros(n, int), np.ones(int(signout.sum()), int), np.full(int(fail.sum()), 2)])
    frames = [
        frame(
            len(who),
            occurred_at=when,
            actor_id=actor.gather(who),
            actor_type="customer_user",
            system="auth",
            action=LOGIN_ACTIONS.get(kind),
            outcome=LOGIN_OUTCOMES.get(kind),
            purpose=LOGIN_PURPOSES.get(kind),
            tenant_id=ctx.tenant_ids.get(tenant[who]),
            source_ip=cu.ip.gather(idx[who]),
            geo_country=COUNTRY.get(city[who]),
            geo_lat=cu.lat[idx][who],
            geo_lon=cu.lon[idx][who],
            processing_region=auth.gather(who),
            user_agent=AGENTS.get(cu.agent[idx][who]),
            details=LOGIN_DETAILS.get(kind),
        )
    ]
    who, when = session_work(rng, cu.lam[idx], 20.0, t0, t1, MINUTE_MS)
    total = len(who)
    if total:
        w = ctx.activity.weights["customer_user"]
        gidx = ctx.offsets["customer_user"] + rng.choice(len(w), total, p=w)
        cols, valid = data_events(
            ctx,
            rng,
            day,
            gidx,
            total,
            actor_tenant=tenant[who],
            self_subject=cu.subject[idx][who],
            home_region=treg[who],
        )
        df = frame(
            total,
            occurred_at=when,
            actor_id=actor.gather(who),
            actor_type="customer_user",
            source_ip=cu.ip.gather(idx[who]),
            geo_country=COUNTRY.get(city[who]),
            geo_lat=cu.lat[idx][who],
            geo_lon=cu.lon[idx][who],
            user_agent=AGENTS.get(cu.agent[idx][who]),
            **cols,
        )
        frames.append(_nullify_negative(df).filter(pl.Series(valid)))
    return pl.concat(frames)
