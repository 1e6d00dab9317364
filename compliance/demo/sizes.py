"""How big each part of the demo is for a given scale (approximate number of audit events).

Reference data keeps a realism floor (thousands of tenants, tens of thousands of subjects, a few
hundred staff) at every scale; the event budget is split between staff, customer users and service
principals, and the service share grows with scale because call volume, not headcount, grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REF_SCALE = 200_000
MIN_SCALE, MAX_SCALE = 10_000, 100_000_000


@dataclass(frozen=True)
class Sizes:
    scale: int
    n_tenants: int
    n_subjects: int
    n_humans: int
    staff_events: float  # event budget of workforce people
    customer_events: float  # of customer users
    service_events: float  # of the call pipeline (fixed jobs come on top)
    usage_events: int
    diag_lines_per_day: int
    inventory_factor: float
    n_dsr: int


def _clip(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def sizes_for(scale: int) -> Sizes:
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between {MIN_SCALE:,} and {MAX_SCALE:,} audit events (got {scale:,})")
    r = scale / REF_SCALE
    # Staff share falls from 50% at the reference scale to 8% at 100 M events.
    growth = _clip(math.log10(r) / math.log10(MAX_SCALE / REF_SCALE), 0.0, 1.0)
    staff_share = 0.5 - 0.42 * growth
    customer_share = 0.3
    n_subjects = int(_clip(20_000 * r**0.35, 12_000, 150_000))
    return Sizes(
        scale=scale,
        n_tenants=int(_clip(1_500 * r**0.3, 1_000, 5_000)),
        n_subjects=n_subjects,
        n_humans=int(_clip(300 + 40 * math.log10(max(r, 1e-9)), 280, 400)),
        staff_events=staff_share * scale,
        customer_events=customer_share * scale,
        # Fixed jobs (retention sweeps, backups, ETL, erasures) cost about 14k events a year.
        service_events=max((1 - staff_share - customer_share) * scale - 14_000, 25_000 * min(r, 1.0) + 5_000),
        usage_events=int(_clip(0.25 * scale, 20_000, 20_000_000)),
        diag_lines_per_day=int(_clip(scale / 400, 150, 40_000)),
        inventory_factor=_clip(math.sqrt(r), 0.5, 25.0),
        n_dsr=int(_clip(n_subjects / 50, 250, 3_000)),
    )
