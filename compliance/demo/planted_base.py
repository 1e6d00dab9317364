"""Shared machinery of the planted stories: the cast, wall-clock times, and event rows built like
the normal streams build theirs (same IPs, agents, regions, purposes and category subsets).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from compliance.demo.activity import details_for
from compliance.demo.clock import STREAM_PLANTS, dt_of, local_dt, ms_of, rng_for
from compliance.demo.context import Ctx
from compliance.demo.geo import CITIES, HOME_REGION
from compliance.demo.policy_view import json_list

OFF_HOURS_DAY = date(2025, 9, 17)
SPIKE_DAY = date(2025, 10, 8)
SPIKE_FACTOR = 40
OUT_OF_ROLE_DAY = date(2025, 5, 14)
BULK_DAY = date(2025, 11, 6)
BULK_RECORDS = 48_210
BURST_DAY = date(2025, 4, 12)  # a Saturday
TERMINATED_DAYS = (date(2025, 7, 8), date(2025, 7, 15))
TRAVEL_DAY = date(2025, 6, 6)  # a Friday: no Sydney sign-in soon after the Frankfurt one
GRANT_DAY = date(2025, 10, 2)
VOICEPRINT_DAY = date(2025, 3, 19)
UNDECLARED_CATEGORY = "user.biometric.voice"
PURPOSE_DAY = date(2025, 7, 23)
BAD_PURPOSE = "marketing.advertising.third_party"
DR_DRILL_DAY = date(2025, 9, 10)
AU_READ_DAY = date(2025, 4, 3)
DROPBOX_DAY, WETRANSFER_DAY = date(2025, 2, 26), date(2025, 8, 7)
ERASED_READ_DAYS = (date(2025, 7, 2), date(2025, 7, 9))
REVIEW_GRANTS = (
    (date(2025, 2, 3), "support_agent"),
    (date(2025, 5, 12), "sales_rep"),
    (date(2025, 9, 1), "data_analyst"),
)
GAP_SYSTEM = "crm"
GAP_START = datetime.fromisoformat("2025-08-12T00:30:00+00:00")
GAP_END = datetime.fromisoformat("2025-08-15T00:30:00+00:00")
ATTACKER_IP, ATTACKER_CITY = "185.220.101.34", "Amsterdam"
TRAVEL_IP, TRAVEL_CITY = "87.123.45.67", "Frankfurt"


@dataclass
class PlantBase:
    ctx: Ctx
    rows: list[dict[str, object]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = rng_for(self.ctx.seed, STREAM_PLANTS)

    # --- helpers ------------------------------------------------------------------------------
    def person(self, key: str) -> int:
        return self.ctx.workforce.staff.cast[key]

    def at(self, p: int, d: date, hour: float) -> int:
        return ms_of(local_dt(d, hour, self.ctx.workforce.staff.tz[p]))

    def human(self, p: int, t: int, action: str, *, home: bool = False, **fields: object) -> dict[str, object]:
        st = self.ctx.workforce.staff
        geo = st.home_geo if home else st.office_geo
        row: dict[str, object] = {
            "occurred_at": t,
            "actor_id": st.actor_id[p],
            "actor_type": st.actor_type[p],
            "action": action,
            "outcome": "success",
            "source_ip": st.home_ip[p] if home else st.office_ip[p],
            "geo_country": CITIES[int(st.city[p])].country,
            "geo_lat": float(geo[0][p]),
            "geo_lon": float(geo[1][p]),
            "user_agent": st.agent[p],
        }
        if action in ("login", "logout", "login_failed", "mfa_challenge", "role_grant"):
            row |= {
                "system": "auth",
                "processing_region": self.ctx.view.region("auth", HOME_REGION[str(row["geo_country"])]),
            }
            if action == "login":
                row |= {"purpose": "essential.service.authentication", "details": '{"method":"sso","idp":"okta"}'}
        row.update(fields)
        return row

    def data(
        self, p: int, t: int, action: str, rt: str, subject: int = -1, count: int = 1, **fields: object
    ) -> dict[str, object]:
        ctx, st = self.ctx, self.ctx.workforce.staff
        store = ctx.view.stores[rt]
        role = st.role[p]
        row = self.human(p, t, action, **fields.pop("person_fields", {}))  # type: ignore[arg-type]
        pre, suf = details_for(action, rt)
        row |= {
            "system": store.system,
            "resource_type": rt,
            "record_count": count,
            "purpose": ctx.view.purpose(role, store.system),
            "details": pre if suf is None else f"{pre}{count}{suf}",
            "resource_id": f"{rt[:4]}_{int(self.rng.integers(100_000, 99_999_999))}",
        }
        subset = ctx.view.permitted(role, store.categories) if role in ctx.view.roles else store.categories
        if subset != store.categories:
            row["data_categories"] = json_list(subset)
        home_region = HOME_REGION[CITIES[int(st.city[p])].country]
        if subject >= 0:
            w = ctx.world
            tenant = int(w.subject_tenant[subject])
            home_region = w.tenant_region[tenant]
            row |= {"subject_id": w.subject_ids[subject], "tenant_id": w.tenant_ids[tenant]}
            if rt == "contact":
                row["resource_id"] = "ct_" + w.subject_ids[subject][4:]
        row["processing_region"] = ctx.view.region(store.system, home_region)
        row.update(fields)
        return row

    def contact(self, tenant_region: str | None = None, jurisdiction: str | None = None) -> int:
        """A contact that stays touchable all year, optionally of a tenant region / jurisdiction."""
        w, s = self.ctx.world, self.ctx.sampler
        pool = s.safe["contact"]
        if tenant_region:
            pool = pool[np.array([w.tenant_region[t] for t in w.subject_tenant[pool]]) == tenant_region]
        if jurisdiction:
            pool = pool[np.array([w.subject_jurisdiction[i] for i in pool]) == jurisdiction]
        pool = pool[~np.isin(pool, self.ctx.dsr_subject)]
        return int(pool[self.rng.integers(len(pool))])

    def actor(self, key: str) -> str:
        return self.ctx.workforce.staff.actor_id[self.person(key)]

    def finding(self, control: str, resource: str, t: int | None, note: str) -> None:
        self.ctx.truth.finding(control, resource, None if t is None else dt_of(t), note)
