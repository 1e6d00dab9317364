"""Customer accounts (tenants) and the data subjects they hold (customer users, contacts, prospects)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from compliance.demo.clock import STREAM_TENANTS, day_of, day_start_ms, rng_for
from compliance.demo.geo import CITIES, EU_COUNTRIES, HOME_REGION, jurisdiction_of
from compliance.demo.sizes import Sizes

NEVER = 10**6  # a day index for "no end"
COUNTRY_WEIGHTS = {"US": 40, "AU": 20, "GB": 12, "DE": 8, "NL": 5, "FR": 5, "IE": 4, "ES": 2, "SE": 2, "IT": 2}
US_STATES = (("CA", 30), ("VA", 8), ("CO", 7), ("CT", 5), ("TX", 15), ("NY", 12), ("IL", 8), ("GA", 8), ("WA", 7))
LEGAL_FORM = {
    "AU": "Pty Ltd",
    "US": "Inc.",
    "GB": "Ltd",
    "IE": "Ltd",
    "DE": "GmbH",
    "FR": "SAS",
    "NL": "B.V.",
    "ES": "S.L.",
    "SE": "AB",
    "IT": "S.r.l.",
}
NAME_A = (
    "Harbor",
    "Summit",
    "Bright",
    "Cedar",
    "Northwind",
    "Blue",
    "Granite",
    "Silver",
    "Orchard",
    "Pioneer",
    "Coastal",
    "Redwood",
    "Atlas",
    "Beacon",
    "Evergreen",
    "Falcon",
    "Keystone",
    "Meridian",
    "Nimbus",
    "Quarry",
    "Riverside",
    "Sterling",
    "Tidal",
    "Upland",
    "Vantage",
    "Willow",
    "Zenith",
    "Copper",
    "Lumen",
    "Ironbark",
)
NAME_B = (
    "Logistics",
    "Realty",
    "Dental",
    "Solar",
    "Insurance",
    "Recruiting",
    "Plumbing",
    "Legal",
    "Motors",
    "Health",
    "Finance",
    "Travel",
    "Roofing",
    "Marketing",
    "Security",
    "Energy",
    "Furniture",
    "Clinics",
    "Telecom",
    "Education",
    "Properties",
    "Electrical",
    "Fitness",
    "Pharmacy",
    "Builders",
    "Partners",
)
SUBJECT_TYPES = ("customer_user", "contact", "prospect")


@dataclass
class World:
    """Tenants and subjects as parallel numpy arrays (index = position), plus id lookups."""

    tenant_ids: list[str]
    tenant_names: list[str]
    tenant_country: list[str]
    tenant_city: np.ndarray
    tenant_region: list[str]
    tenant_start: list[date]
    tenant_end: list[date | None]
    tenant_start_day: np.ndarray
    tenant_end_day: np.ndarray
    tenant_weight: np.ndarray
    tenant_records_calls: np.ndarray
    subject_ids: list[str]
    subject_tenant: np.ndarray
    subject_type: np.ndarray  # index into SUBJECT_TYPES
    subject_country: list[str]
    subject_jurisdiction: list[str]
    subject_created_ms: np.ndarray
    subject_created_day: np.ndarray
    # Filled by the DSR register: the day a completed delete request erased the subject (else NEVER).
    subject_erased_day: np.ndarray

    @property
    def n_tenants(self) -> int:
        return len(self.tenant_ids)

    @property
    def n_subjects(self) -> int:
        return len(self.subject_ids)

    def last_valid_day(self) -> np.ndarray:
        """Last local day on which a subject may be touched: a day's margin before contract end or erasure."""
        return np.minimum(self.tenant_end_day[self.subject_tenant], self.subject_erased_day) - 2

    def first_valid_day(self) -> np.ndarray:
        return self.subject_created_day + 2

    def tenants_frame(self) -> pl.DataFrame:
        def ts(d: date | None) -> str | None:
            return None if d is None else f"{d.isoformat()}T00:00:00Z"

        return pl.DataFrame(
            {
                "tenant_id": self.tenant_ids,
                "name": self.tenant_names,
                "country": self.tenant_country,
                "home_region": self.tenant_region,
                "contract_started_at": [ts(d) for d in self.tenant_start],
                "contract_ended_at": [ts(d) for d in self.tenant_end],
            },
            schema={
                c: pl.String
                for c in ("tenant_id", "name", "country", "home_region", "contract_started_at", "contract_ended_at")
            },
        )

    def subjects_frame(self) -> pl.DataFrame:
        created = pl.from_epoch(pl.Series(self.subject_created_ms), time_unit="ms").dt.replace_time_zone(None)
        return pl.DataFrame(
            {
                "subject_id": self.subject_ids,
                "tenant_id": [self.tenant_ids[t] for t in self.subject_tenant],
                "subject_type": [SUBJECT_TYPES[t] for t in self.subject_type],
                "country": self.subject_country,
                "jurisdiction": self.subject_jurisdiction,
                "created_at": created.dt.truncate("1s"),
            }
        )


def _pick(rng: np.random.Generator, options: dict[str, int] | tuple[tuple[str, int], ...], n: int) -> list[str]:
    items = list(options.items()) if isinstance(options, dict) else list(options)
    keys = [k for k, _ in items]
    p = np.array([w for _, w in items], dtype=float)
    return [keys[i] for i in rng.choice(len(keys), n, p=p / p.sum())]


def build_world(seed: int, sizes: Sizes) -> World:
    rng = rng_for(seed, STREAM_TENANTS)
    n = sizes.n_tenants
    countries = _pick(rng, COUNTRY_WEIGHTS, n)
    city = np.array([rng.choice([i for i, c in enumerate(CITIES) if c.country == k]) for k in countries])
    years = rng.choice(np.arange(2019, 2026), n, p=np.array([5, 8, 12, 17, 20, 22, 16]) / 100)
    span = np.where(years == 2025, 333, 365)
    starts = [date(int(y), 1, 1) + timedelta(days=int(d)) for y, d in zip(years, rng.integers(0, span), strict=True)]
    ended = (rng.random(n) < 0.07) & np.array([s < date(2024, 6, 1) for s in starts])
    ends: list[date | None] = []
    for i in range(n):
        if not ended[i]:
            ends.append(None)
            continue
        lo = max(date(2024, 3, 1), starts[i] + timedelta(days=180))
        ends.append(lo + timedelta(days=int(rng.integers(0, max((date(2025, 12, 15) - lo).days, 1)))))
    names, seen = [], set()
    for i in range(n):
        base = f"{NAME_A[rng.integers(len(NAME_A))]} {NAME_B[rng.integers(len(NAME_B))]}"
        while base in seen:  # a second company of the same name gets a place name, like real registries
            base = f"{base} {CITIES[int(rng.integers(len(CITIES)))].name}"
        seen.add(base)
        names.append(f"{base} {LEGAL_FORM[countries[i]]}")
    weight = rng.lognormal(0.0, 1.0, n)

    # Subjects: every tenant has at least one user and four contacts; the rest follow tenant size.
    extra = rng.multinomial(max(sizes.n_subjects - 5 * n, 0), weight**0.7 / (weight**0.7).sum())
    per_tenant = 5 + extra
    sub_tenant = np.repeat(np.arange(n), per_tenant)
    m = len(sub_tenant)
    first = np.concatenate([[0], np.cumsum(per_tenant)[:-1]])
    pos = np.arange(m) - first[sub_tenant]
    stype = rng.choice(3, m, p=[0.22, 0.60, 0.18])
    stype[pos == 0] = 0
    stype[(pos >= 1) & (pos <= 4)] = 1
    start_day = np.array([day_of(s) for s in starts])
    end_day = np.array([NEVER if e is None else day_of(e) for e in ends])
    last = np.minimum(end_day, day_of(date(2025, 12, 31)))[sub_tenant]
    lo = start_day[sub_tenant]
    frac = rng.random(m)
    frac = np.where(stype == 0, frac * 0.6, frac)  # users join early in a tenant's life
    created_day = (lo + frac * np.maximum(last - lo - 1, 1)).astype(np.int64)
    created_ms = np.array([day_start_ms(int(d)) for d in created_day]) + rng.integers(8 * 3600_000, 18 * 3600_000, m)

    foreign_any = ("US", "GB", "DE", "FR", "IE", "NL", "AU", "ES")
    foreign_pick = rng.integers(0, len(foreign_any), m)
    foreign_us = rng.random(m) < 0.15
    states = _pick(rng, US_STATES, m)
    sub_country, sub_juris = [], []
    for i in range(m):
        t = sub_tenant[i]
        tc = countries[t]
        c = tc
        if stype[i] != 0 and foreign_us[i]:
            # AU tenants run in au-syd, where EU/UK data has no lawful transfer: their foreign contacts are US.
            c = "US" if tc == "AU" else foreign_any[foreign_pick[i]]
        state = CITIES[city[t]].subdiv if (c == "US" and tc == "US" and stype[i] == 0) else states[i]
        sub_country.append(c)
        sub_juris.append(jurisdiction_of(c, state if c == "US" else None))
    assert all(c in EU_COUNTRIES | {"GB", "US", "AU"} for c in sub_country)
    return World(
        tenant_ids=[f"ten_{i + 1:05d}" for i in range(n)],
        tenant_names=names,
        tenant_country=countries,
        tenant_city=city,
        tenant_region=[HOME_REGION[c] for c in countries],
        tenant_start=starts,
        tenant_end=ends,
        tenant_start_day=start_day,
        tenant_end_day=end_day,
        tenant_weight=weight,
        tenant_records_calls=rng.random(n) < 0.45,
        subject_ids=[f"sub_{i + 1:07d}" for i in range(m)],
        subject_tenant=sub_tenant,
        subject_type=stype,
        subject_country=sub_country,
        subject_jurisdiction=sub_juris,
        subject_created_ms=created_ms.astype(np.int64),
        subject_created_day=created_day,
        subject_erased_day=np.full(m, NEVER, dtype=np.int64),
    )
