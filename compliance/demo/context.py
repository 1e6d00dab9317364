"""Shared state of one generation run: the reference data and the lookups every event stream uses."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from compliance.demo.activity import CONFIG_SYSTEMS, Activity, Template
from compliance.demo.clock import day_of
from compliance.demo.dsr import Register
from compliance.demo.events import Lookup, SubjectSampler, take
from compliance.demo.geo import CITIES, HOME_REGION
from compliance.demo.policy_view import PolicyView
from compliance.demo.sizes import Sizes
from compliance.demo.tenants import NEVER, World
from compliance.demo.truth import Truth
from compliance.demo.workforce import Workforce

REGIONS = ("au-syd", "us-east", "eu-fra", "ap-sin")


@dataclass
class Ctx:
    seed: int
    sizes: Sizes
    view: PolicyView
    world: World
    workforce: Workforce
    register: Register
    activity: Activity
    sampler: SubjectSampler
    truth: Truth
    usage_users: np.ndarray  # subjects whose analytics may be collected (consent or non-GDPR basis)
    templates: list[Template] = field(default_factory=list)
    offsets: dict[str, int] = field(default_factory=dict)
    region_map: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (system, home region) -> region index
    system_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for role, ts in self.activity.templates.items():
            self.offsets[role] = len(self.templates)
            self.templates.extend(ts)
        systems = self.view.systems
        self.system_index = {s: i for i, s in enumerate(systems)}
        self.region_map = np.array(
            [[REGIONS.index(self.view.region(s, r)) for r in REGIONS] for s in systems], dtype=np.int64
        )
        w = self.world
        self.subject_ids = Lookup(w.subject_ids)
        self.tenant_ids = Lookup(w.tenant_ids)
        self.system_names = Lookup(self.view.systems)
        self._tcols: dict[str, Lookup] = {}
        self.tenant_region = np.array([REGIONS.index(r) for r in w.tenant_region])
        reqs = self.register.requests
        self.dsr_subject = np.array([r.subject for r in reqs], dtype=np.int64)
        self.dsr_ids = [r.request_id for r in reqs]
        self.dsr_start = np.array([day_of(r.received.date()) for r in reqs])
        end = np.array([NEVER if r.completed is None else day_of(r.completed.date()) - 2 for r in reqs])
        self.dsr_end = np.minimum(end, w.last_valid_day()[self.dsr_subject])

    # --- template columns -------------------------------------------------------------------
    def tcol(self, attr: str, gidx: np.ndarray) -> pl.Series:
        if attr not in self._tcols:
            if attr.startswith("details"):
                part = int(attr[-1])
                self._tcols[attr] = Lookup([t.details[part] for t in self.templates])
            else:
                self._tcols[attr] = Lookup([getattr(t, attr) for t in self.templates])
        return self._tcols[attr].get(gidx)

    def tarr(self, attr: str) -> np.ndarray:
        return np.array([getattr(t, attr) for t in self.templates], dtype=object)

    def systems_of(self, gidx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """System index per event; config changes pick one of the configurable systems."""
        sys = np.array([self.system_index[t.system] for t in self.templates])[gidx]
        cfg = np.array([t.action == "config_change" for t in self.templates])[gidx]
        if cfg.any():
            pick = rng.integers(0, len(CONFIG_SYSTEMS), int(cfg.sum()))
            sys[cfg] = np.array([self.system_index[s] for s in CONFIG_SYSTEMS])[pick]
        return sys

    def region_names(self, system_idx: np.ndarray, home_region_idx: np.ndarray) -> pl.Series:
        return take(list(REGIONS), self.region_map[system_idx, home_region_idx])

    def office_region(self, city: np.ndarray) -> np.ndarray:
        return np.array([REGIONS.index(HOME_REGION[CITIES[c].country]) for c in city], dtype=np.int64)

    def dsr_active(self, day: int) -> np.ndarray:
        return np.nonzero((self.dsr_start <= day) & (self.dsr_end >= day))[0]
