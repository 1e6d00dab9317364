"""Product analytics (usage/): customer users' in-app events, with their analytics consent.

GDPR users (EU, UK) are tracked only with consent; elsewhere analytics run on legitimate interests
unless the user opted out. Users who may not be tracked produce no events, except the planted ones.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from compliance.demo.clock import (
    DAY_MS,
    EPOCH0_MS,
    GEN_FIRST,
    MINUTE_MS,
    N_DAYS,
    STREAM_USAGE,
    day_of,
    dt_of,
    local_to_ms,
    offsets_matrix,
    rng_for,
)
from compliance.demo.dsr import Register
from compliance.demo.geo import CITY_TZ_IDX, TZ_NAMES
from compliance.demo.tenants import World
from compliance.demo.truth import Truth
from compliance.demo.writer import write_csv, write_parquet
from compliance.schema import USAGE

EVENTS = (
    ("page_view", "dashboard", 30),
    ("call_logged", "call_tracker", 14),
    ("report_viewed", "reports", 12),
    ("contact_opened", "crm", 12),
    ("search_performed", "crm", 8),
    ("filter_applied", "reports", 7),
    ("recording_played", "call_tracker", 5),
    ("export_clicked", "reports", 3),
    ("settings_updated", "settings", 2),
    ("integration_connected", "integrations", 1),
    ("mobile_sync", "mobile", 6),
)
GDPR = ("EU", "UK")
PER_USER_YEAR = 274.0  # events of an average tracked user at the base rates below


@dataclass
class Consent:
    value: np.ndarray  # per subject: 1 true, 0 false, -1 unknown (customer users only)
    tracked: np.ndarray  # subjects whose analytics may be collected
    planted_no_consent: list[int]
    planted_erased: int


def assign_consent(seed: int, world: World, register: Register) -> Consent:
    rng = rng_for(seed, STREAM_USAGE, -1)
    n = world.n_subjects
    gdpr = np.isin(np.array(world.subject_jurisdiction), GDPR)
    roll = rng.random(n)
    value = np.where(
        gdpr,
        np.where(roll < 0.75, 1, np.where(roll < 0.9, 0, -1)),
        np.where(roll < 0.35, 1, np.where(roll < 0.95, -1, 0)),
    )
    users = world.subject_type == 0
    value = np.where(users, value, -1)
    tracked = users & ((value == 1) | (~gdpr & (value == -1)))
    erased = register.planted["erased_then_tracked"].subject
    value[erased], tracked[erased] = -1, True
    stable = (world.tenant_end_day[world.subject_tenant] > N_DAYS + 5) & (world.subject_created_day < -30)
    taken = {r.subject for r in register.requests}
    planted: list[int] = []
    for j in GDPR:
        pool = [
            int(i)
            for i in np.nonzero(users & stable & (np.array(world.subject_jurisdiction) == j) & (value == 0))[0]
            if int(i) not in taken
        ]
        if pool:
            planted.append(pool[int(rng.integers(len(pool)))])
    return Consent(value, tracked, planted, erased)


def write_usage(
    seed: int, world: World, consent: Consent, register: Register, target: int, out_dir: Path, truth: Truth
) -> int:
    rng = rng_for(seed, STREAM_USAGE, 0)
    tracked = np.nonzero(consent.tracked)[0]
    n_users = int(min(len(tracked), max(target / PER_USER_YEAR, 50)))
    users = np.sort(rng.choice(tracked, n_users, replace=False))
    users = np.union1d(users, np.array([*consent.planted_no_consent, consent.planted_erased]))
    u = len(users)
    boost = max(target / (u * PER_USER_YEAR), 1.0)
    p_day = rng.uniform(0.05, 0.3, u)
    lam = rng.gamma(4.0, 1.0, u) * boost
    start = rng.uniform(8.0, 16.0, u)
    first = np.maximum(world.first_valid_day()[users], 0)
    last = np.minimum(world.last_valid_day()[users], N_DAYS - 1)
    erased_pos = int(np.searchsorted(users, consent.planted_erased))
    last[erased_pos] = min(int(world.tenant_end_day[world.subject_tenant[consent.planted_erased]]) - 2, N_DAYS - 1)
    tenant = world.subject_tenant[users]
    tz = CITY_TZ_IDX[world.tenant_city[tenant]]
    offsets = offsets_matrix(TZ_NAMES)
    devices = rng.integers(10**9, 10**10, (u, 2))
    has_mobile = rng.random(u) < 0.3
    names = [e for e, _, _ in EVENTS]
    features = [f for _, f, _ in EVENTS]
    weights = np.array([w for _, _, w in EVENTS], dtype=float)
    weights /= weights.sum()
    subject_ids = np.array(world.subject_ids, dtype=object)
    tenant_ids = np.array(world.tenant_ids, dtype=object)
    countries = np.array(world.subject_country, dtype=object)
    consent_text = np.array(["false", "true", None], dtype=object)[
        np.where(consent.value[users] < 0, 2, consent.value[users])
    ]
    total = 0
    counted = {s: 0 for s in consent.planted_no_consent}
    after_erasure, erased_at = 0, register.erasures.get(consent.planted_erased, 0)
    for month in range(1, 13):
        d0 = day_of(date(2025, month, 1))
        nd = calendar.monthrange(2025, month)[1]
        days = np.arange(d0, d0 + nd)
        weekend = np.array([(int(d) + 2) % 7 >= 5 for d in days])  # 2025-01-01 was a Wednesday
        p = p_day[:, None] * np.where(weekend, 0.4, 1.0)[None, :]
        on = (rng.random((u, nd)) < p) & (days[None, :] >= first[:, None]) & (days[None, :] <= last[:, None])
        ui, di = np.nonzero(on)
        k = rng.poisson(lam[ui]) + 1
        ev_u, ev_d = np.repeat(ui, k), np.repeat(days[di], k)
        m = len(ev_u)
        hour = np.clip(start[ev_u] + rng.normal(0, 1.2, len(ui)).repeat(k), 7.0, 21.5)
        t = (
            local_to_ms(0, hour, offsets[tz[ev_u], ev_d - GEN_FIRST])
            + ev_d * DAY_MS
            + (rng.random(m) * 40 * MINUTE_MS).astype(np.int64)
        )
        kind = rng.choice(len(EVENTS), m, p=weights)
        mobile = has_mobile[ev_u] & ((np.array(features)[kind] == "mobile") | (rng.random(m) < 0.2))
        session = (ev_u.astype(np.int64) * 1000 + (ev_d - d0)) * 10 + mobile
        df = pl.DataFrame(
            {
                "t": t,
                "tenant_id": tenant_ids[tenant[ev_u]].astype(str),
                "user_id": subject_ids[users[ev_u]].astype(str),
                "event_name": np.array(names)[kind],
                "feature": np.array(features)[kind],
                "session": session,
                "country": countries[users[ev_u]].astype(str),
                "device": np.where(mobile, devices[ev_u, 1], devices[ev_u, 0]),
                "consent_analytics": pl.Series(consent_text[ev_u].tolist(), dtype=pl.String),
            }
        ).filter((pl.col("t") >= EPOCH0_MS) & (pl.col("t") < EPOCH0_MS + N_DAYS * DAY_MS))
        df = df.sort(["t", "user_id"], maintain_order=True)
        stamp = f"2025{month:02d}"
        df = df.with_columns(
            pl.concat_str([pl.lit(f"ue_{stamp}_"), pl.int_range(1, df.height + 1).cast(pl.String).str.zfill(7)]).alias(
                "event_id"
            ),
            pl.concat_str([pl.lit("ses_"), pl.col("session").cast(pl.String)]).alias("session_id"),
            pl.concat_str([pl.lit("dev_"), pl.col("device").cast(pl.String)]).alias("device_id"),
            pl.from_epoch(pl.col("t"), time_unit="ms").dt.truncate("1s").alias("occurred_at"),
        )
        for s in counted:
            counted[s] += int((df["user_id"] == world.subject_ids[s]).sum())
        after_erasure += int(
            ((df["user_id"] == world.subject_ids[consent.planted_erased]) & (df["t"] > erased_at)).sum()
        )
        out = df.select(USAGE.column_names)
        if month == 12:
            write_parquet(
                out_dir / "usage" / f"{stamp[:4]}-{month:02d}.parquet",
                out.with_columns(
                    pl.col("consent_analytics").replace_strict(
                        {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
                    )
                ),
            )
        else:
            write_csv(
                out_dir / "usage" / f"{stamp[:4]}-{month:02d}.csv",
                out.with_columns(pl.col("occurred_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ")),
            )
        total += df.height
    for s, n in counted.items():
        truth.finding(
            "consent.analytics_without_consent",
            f"subject:{world.subject_ids[s]}",
            None,
            f"{world.subject_jurisdiction[s]} customer user with consent_analytics=false has {n} usage events in 2025.",
        )
    req = register.planted["erased_then_tracked"]
    truth.finding(
        "dsr.processing_after_erasure",
        f"dsr:{req.request_id}",
        dt_of(erased_at) if erased_at else None,
        f"Delete request completed {req.completed.date() if req.completed else None}, yet analytics kept "
        f"collecting {after_erasure} usage events for the subject afterwards.",
    )
    return total
