"""The workforce directory (staff, contractors, service principals) and each person's habits.

Habits are what the access analytics learn from: a usual start hour and shift length in the
person's own time zone, weekdays off on weekends and public holidays, leave blocks, and a personal
daily volume level (lognormal across people, Poisson day to day). Only part of the staff use the
audited platform; the rest are in the directory and never appear in the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import holidays
import numpy as np
import polars as pl

from compliance.demo.clock import GEN_FIRST, N_GEN, STREAM_WORKFORCE, date_of, day_of, offsets_matrix, rng_for
from compliance.demo.geo import CITIES, CITY_INDEX, DESKTOP_AGENTS, jitter_geo, make_ips
from compliance.demo.sizes import Sizes

ROLE_COUNTS = {
    "support_agent": 80,
    "support_lead": 10,
    "sales_rep": 50,
    "engineer": 90,
    "sre": 16,
    "data_analyst": 14,
    "privacy_officer": 6,
    "security_analyst": 8,
    "billing_admin": 8,
    "it_admin": 6,
    "platform_admin": 3,
}
DEPARTMENT = {
    "support_agent": "Customer Support",
    "support_lead": "Customer Support",
    "sales_rep": "Sales",
    "engineer": "Engineering",
    "sre": "Site Reliability",
    "data_analyst": "Data & Analytics",
    "privacy_officer": "Legal & Privacy",
    "security_analyst": "Security",
    "billing_admin": "Finance",
    "it_admin": "IT",
    "platform_admin": "Platform Engineering",
}
# Typical data events per workday relative to a support agent (scaled by the event budget).
ROLE_LEVEL = {
    "support_agent": 1.0,
    "support_lead": 0.8,
    "sales_rep": 0.9,
    "engineer": 0.4,
    "sre": 0.6,
    "data_analyst": 0.6,
    "privacy_officer": 0.7,
    "security_analyst": 0.6,
    "billing_admin": 0.6,
    "it_admin": 0.4,
    "platform_admin": 0.3,
}
MIN_ACTIVE = {
    "support_agent": 8,
    "support_lead": 4,
    "sales_rep": 5,
    "sre": 2,
    "engineer": 2,
    "platform_admin": 2,
    "billing_admin": 3,
    "it_admin": 2,
    "privacy_officer": 2,
    "data_analyst": 2,
    "security_analyst": 2,
}
OFFICES = {
    "Sydney": 14,
    "Melbourne": 8,
    "Brisbane": 5,
    "San Francisco": 12,
    "New York": 12,
    "Chicago": 8,
    "Denver": 5,
    "Austin": 6,
    "Dublin": 12,
    "London": 10,
    "Berlin": 8,
}
SERVICES = (
    ("svc-call-pipeline", "svc_call_pipeline", "capantra-call-pipeline/4.12.0 (python-httpx/0.27)"),
    ("svc-recording-worker", "svc_call_pipeline", "capantra-recording-worker/2.3.1"),
    ("svc-analytics-etl", "svc_analytics_etl", "capantra-analytics-etl/1.9.4 (spark/3.5)"),
    ("svc-retention", "svc_retention", "capantra-retention-job/3.1.0"),
    ("svc-backup", "svc_backup", "capantra-backup/2.0.7 (aws-sdk-go-v2)"),
)
FIXED_OVERHEAD = 2.35  # login + logout + some MFA prompts and typos per workday
PLANT_START = date(2024, 6, 1)  # planted people have worked here at least since then


@dataclass
class Person:
    actor_id: str
    actor_type: str
    role: str
    city: int
    start: date
    end: date | None = None
    status: str = "active"
    mfa: bool = True
    platform: bool = True
    activity_end: date | None = None  # suspended people stop without an end date


@dataclass
class Cast:
    """Who plays which planted problem (indices into Staff)."""

    roles: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, key: str) -> int:
        return self.roles[key]


@dataclass
class Staff:
    """The people active on the audited platform, as arrays for per-day vectorised generation."""

    actor_id: list[str]
    actor_type: list[str]
    role: list[str]
    city: np.ndarray
    tz: list[str]
    offsets: np.ndarray  # (P, N_GEN) seconds
    start_hour: np.ndarray
    shift: np.ndarray
    lam: np.ndarray  # expected data events per workday
    works: np.ndarray  # (P, N_GEN) bool
    office_ip: list[str]
    office_geo: tuple[np.ndarray, np.ndarray]
    home_ip: list[str]
    home_geo: tuple[np.ndarray, np.ndarray]
    agent: list[str]
    cast: Cast
    joiners: list[tuple[int, date]]  # (person, start date) of 2025 joiners: their access is granted that day
    leavers: list[tuple[int, date]]

    @property
    def n(self) -> int:
        return len(self.actor_id)

    def index(self, actor_id: str) -> int:
        return self.actor_id.index(actor_id)


@dataclass
class Workforce:
    people: list[Person]
    staff: Staff

    def directory_frame(self) -> pl.DataFrame:
        rows = []
        for p in self.people:
            c = CITIES[p.city]
            rows.append(
                {
                    "actor_id": p.actor_id,
                    "actor_type": p.actor_type,
                    "role": p.role,
                    "department": DEPARTMENT[p.role],
                    "status": p.status,
                    "start_date": p.start.isoformat(),
                    "end_date": p.end.isoformat() if p.end else None,
                    "mfa_enabled": p.mfa,
                    "home_country": c.country,
                    "timezone": c.tz,
                }
            )
        for actor_id, role, _ in SERVICES:
            rows.append(
                {
                    "actor_id": actor_id,
                    "actor_type": "service",
                    "role": role,
                    "department": "Platform Engineering",
                    "status": "active",
                    "start_date": "2019-03-01",
                    "end_date": None,
                    "mfa_enabled": None,
                    "home_country": "US",
                    "timezone": "UTC",
                }
            )
        schema = {
            k: pl.String for k in ("actor_id", "actor_type", "role", "department", "status", "start_date", "end_date")
        }
        schema |= {"mfa_enabled": pl.Boolean, "home_country": pl.String, "timezone": pl.String}
        return pl.DataFrame(rows, schema=schema).sort("actor_id")


def _people(rng: np.random.Generator, n_humans: int) -> list[Person]:
    total = sum(ROLE_COUNTS.values())
    counts = {r: max(MIN_ACTIVE.get(r, 1) + 1, round(c * n_humans / total)) for r, c in ROLE_COUNTS.items()}
    offices = list(OFFICES)
    p_off = np.array(list(OFFICES.values()), dtype=float)
    people: list[Person] = []
    n_emp = n_ctr = 0
    for role, k in counts.items():
        for j in range(k):
            # The first few of each role are long-serving employees: the cast of the planted problems.
            veteran = j <= MIN_ACTIVE.get(role, 0)
            contractor = not veteran and role in ("support_agent", "engineer", "sales_rep") and rng.random() < 0.15
            if contractor:
                n_ctr += 1
                actor_id, atype = f"ctr_{n_ctr:04d}", "contractor"
            else:
                n_emp += 1
                actor_id, atype = f"emp_{n_emp:04d}", "employee"
            city = CITY_INDEX[offices[rng.choice(len(offices), p=p_off / p_off.sum())]]
            year = int(rng.choice(np.arange(2015, 2026), p=np.array([2, 3, 4, 6, 8, 10, 12, 14, 15, 16, 10]) / 100))
            year = min(year, 2023) if veteran else year
            start = date(year, 1, 1) + timedelta(days=int(rng.integers(0, 365 if year < 2025 else 300)))
            start = start + timedelta(days=(7 - start.weekday()) % 7)  # people start on a Monday
            p = Person(actor_id, atype, role, city, start)
            if contractor and rng.random() < 0.5:
                p.end = date(2026, 1, 1) + timedelta(days=int(rng.integers(30, 400)))  # contract term
            roll = 1.0 if veteran else rng.random()
            if roll < 0.06 and start < date(2025, 1, 1):
                p.status = "terminated"
                p.end = max(start + timedelta(days=120), date(2024, 1, 15) + timedelta(days=int(rng.integers(0, 660))))
                p.end = min(p.end, date(2025, 11, 28))
                p.end -= timedelta(days=max(p.end.weekday() - 4, 0))  # last day is a weekday
            elif roll < 0.075 and start < date(2025, 1, 1):
                p.status = "suspended"
                p.activity_end = date(2025, 2, 1) + timedelta(days=int(rng.integers(0, 280)))
            p.platform = veteran or role != "engineer" or rng.random() < 0.35
            people.append(p)
    return people


def _full_year(p: Person) -> bool:
    return p.status == "active" and p.actor_type == "employee" and p.start < PLANT_START and p.end is None


def _choose_active(rng: np.random.Generator, people: list[Person], n_active: int) -> list[int]:
    chosen: list[int] = []
    for role, k in MIN_ACTIVE.items():
        pool = [i for i, p in enumerate(people) if p.role == role and p.platform and _full_year(p)]
        if len(pool) < k:
            raise RuntimeError(f"not enough full-year {role}s to cast the planted problems")
        chosen.extend(int(i) for i in rng.permutation(pool)[:k])
    rest = [i for i, p in enumerate(people) if p.platform and i not in set(chosen)]
    rest = [r for r in rest if people[r].status != "terminated" or (people[r].end or date.min) >= date(2025, 1, 1)]
    chosen.extend(int(i) for i in rng.permutation(rest)[: max(n_active - len(chosen), 0)])
    return sorted(chosen)


def _cast(rng: np.random.Generator, people: list[Person], active: list[int]) -> dict[str, int]:
    """Pick the planted actors among full-year employees; relocate two of them where the plot needs."""
    taken: set[int] = set()

    def pick(role: str | None, key: str, city: str | None = None) -> int:
        pool = [
            i for i in active if (role is None or people[i].role == role) and _full_year(people[i]) and i not in taken
        ]
        if role is None:
            pool = [
                i
                for i in pool
                if people[i].role
                in ("support_agent", "sales_rep", "sre", "security_analyst", "data_analyst", "privacy_officer")
            ]
        in_city = [i for i in pool if city and CITIES[people[i].city].name == city]
        i = in_city[0] if in_city else pool[int(rng.integers(len(pool)))]
        if city:
            people[i].city = CITY_INDEX[city]
        taken.add(i)
        return i

    us_day_shift = "Chicago"
    return {
        "off_hours": pick("support_lead", "off_hours", us_day_shift),
        "bulk_export": pick("support_lead", "bulk_export"),
        "unapproved_export": pick("support_lead", "unapproved_export"),
        "volume_spike": pick("support_agent", "volume_spike", "London"),  # a shift inside one UTC day
        "terminated": pick("support_agent", "terminated"),
        "mfa_missing": pick("support_agent", "mfa_missing"),
        "reads_erased": pick("support_agent", "reads_erased"),
        "reads_in_au": pick("support_agent", "reads_in_au", "Sydney"),
        "out_of_role": pick("sales_rep", "out_of_role"),
        "undeclared_use": pick("sales_rep", "undeclared_use"),
        "dormant": pick("sales_rep", "dormant"),
        "grants_admin": pick("sre", "grants_admin"),
        "granted_admin": pick("engineer", "granted_admin"),
        "mfa_missing_billing": pick("billing_admin", "mfa_missing_billing"),
        "unapproved_share": pick("billing_admin", "unapproved_share"),
        "voiceprint": pick("platform_admin", "voiceprint"),
        "failed_burst": pick(None, "failed_burst", "New York"),
        "impossible_travel": pick(None, "impossible_travel", "Sydney"),
        "it_admin": pick("it_admin", "it_admin"),
    }


TERMINATED_END = date(2025, 6, 30)
DORMANT_LAST, DORMANT_BACK = date(2025, 3, 21), date(2025, 8, 20)


def _holiday_days(city: int, cache: dict[int, set[int]]) -> set[int]:
    if city not in cache:
        c = CITIES[city]
        subdiv = c.subdiv if c.country in ("AU", "US", "GB", "DE") else None
        table = holidays.country_holidays(c.country, subdiv=subdiv, years=[2024, 2025, 2026])
        cache[city] = {day_of(d) for d in table}
    return cache[city]


def _works(rng: np.random.Generator, people: list[Person], active: list[int]) -> np.ndarray:
    days = np.arange(GEN_FIRST, GEN_FIRST + N_GEN)
    weekday = np.array([date_of(int(d)).weekday() for d in days])
    cache: dict[int, set[int]] = {}
    works = np.zeros((len(active), N_GEN), dtype=bool)
    for k, i in enumerate(active):
        p = people[i]
        last = p.end or p.activity_end or date(2026, 12, 31)
        row = (days >= day_of(p.start)) & (days <= day_of(last)) & (weekday < 5)
        hol = _holiday_days(p.city, cache)
        row &= ~np.isin(days, list(hol))
        for _ in range(2):  # two blocks of annual leave, one to two weeks each
            s = int(rng.integers(10, 340))
            row[s : s + int(rng.integers(5, 15))] = False
        row &= rng.random(N_GEN) > 0.02  # sick days
        if p.role in ("support_agent", "support_lead"):
            row |= (weekday == 5) & (rng.random(N_GEN) < 0.03) & (days >= day_of(p.start)) & (days <= day_of(last))
        works[k] = row
    return works


def build_workforce(seed: int, sizes: Sizes) -> Workforce:
    rng = rng_for(seed, STREAM_WORKFORCE)
    people = _people(rng, sizes.n_humans)
    per_day = FIXED_OVERHEAD + 3.0 * 0.75
    n_active = int(np.clip(sizes.staff_events / (225 * per_day), sum(MIN_ACTIVE.values()), len(people)))
    active = _choose_active(rng, people, n_active)
    cast_people = _cast(rng, people, active)
    term = people[cast_people["terminated"]]
    term.status, term.end = "terminated", TERMINATED_END
    people[cast_people["mfa_missing"]].mfa = False
    people[cast_people["mfa_missing_billing"]].mfa = False

    works = _works(rng, people, active)
    pos = {i: k for k, i in enumerate(active)}
    dormant = pos[cast_people["dormant"]]
    gap = np.arange(day_of(DORMANT_LAST) + 1, day_of(DORMANT_BACK)) - GEN_FIRST
    works[dormant, gap] = False
    # The planted days themselves must be ordinary workdays for the people involved.
    works[dormant, day_of(DORMANT_LAST) - GEN_FIRST] = True
    works[dormant, day_of(DORMANT_BACK) - GEN_FIRST] = True

    n = len(active)
    act = [people[i] for i in active]
    city = np.array([p.city for p in act])
    tz = [CITIES[c].tz for c in city]
    start_hour = np.clip(rng.normal(8.6, 0.7, n), 7.3, 10.3)
    shift = np.clip(rng.normal(8.3, 0.6, n), 6.5, 18.4 - start_hour)
    level = rng.lognormal(0.0, 0.45, n)
    level /= level.mean()
    base = np.array([ROLE_LEVEL[p.role] for p in act]) * level
    workdays = works[:, 1:-1].sum(axis=1)
    # Solve the per-person rate so that the expected total meets the staff event budget.
    factor = (sizes.staff_events - FIXED_OVERHEAD * workdays.sum()) / max(float((workdays * base).sum()), 1.0)
    lam = np.maximum(factor, 2.0) * base
    office_city = city
    office_ip_by_city = {
        c: ip for c, ip in zip(sorted(set(city)), make_ips(rng, np.array(sorted(set(city)))), strict=True)
    }
    office_ip = [office_ip_by_city[c] for c in city]
    office_geo = jitter_geo(rng, office_city, 0.01)
    home_ip = make_ips(rng, city)
    home_geo = jitter_geo(rng, city, 0.06)
    agent = [DESKTOP_AGENTS[int(i)] for i in rng.integers(0, len(DESKTOP_AGENTS), n)]
    joiners = [(pos[i], people[i].start) for i in active if people[i].start >= date(2025, 1, 1)]
    leavers = [
        (pos[i], people[i].end)
        for i in active
        if people[i].status == "terminated"
        and people[i].end
        and people[i].end >= date(2025, 1, 1)
        and i != cast_people["terminated"]
    ]
    staff = Staff(
        actor_id=[p.actor_id for p in act],
        actor_type=[p.actor_type for p in act],
        role=[p.role for p in act],
        city=city,
        tz=tz,
        offsets=offsets_matrix(tz),
        start_hour=start_hour,
        shift=shift,
        lam=lam,
        works=works,
        office_ip=office_ip,
        office_geo=office_geo,
        home_ip=home_ip,
        home_geo=home_geo,
        agent=agent,
        cast=Cast({k: pos[v] for k, v in cast_people.items()}),
        joiners=joiners,
        leavers=leavers,  # type: ignore[arg-type]
    )
    return Workforce(people, staff)
