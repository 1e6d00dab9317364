"""Planted access stories: off-hours reads, a volume spike, out-of-role reads, a bulk export, a failed
sign-in burst, a terminated account, impossible travel and an unexpected privileged grant.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from compliance.demo.clock import MINUTE_MS, STREAM_PLANTS, day_of, dt_of, ms_of, rng_for
from compliance.demo.events import rows_frame
from compliance.demo.geo import CITIES, CITY_INDEX
from compliance.demo.planted_base import (
    ATTACKER_CITY,
    ATTACKER_IP,
    BULK_DAY,
    BULK_RECORDS,
    BURST_DAY,
    GRANT_DAY,
    OFF_HOURS_DAY,
    OUT_OF_ROLE_DAY,
    REVIEW_GRANTS,
    SPIKE_DAY,
    SPIKE_FACTOR,
    TERMINATED_DAYS,
    TRAVEL_CITY,
    TRAVEL_DAY,
    TRAVEL_IP,
    PlantBase,
)
from compliance.demo.policy_view import json_list


class AccessStories(PlantBase):
    def off_hours(self) -> None:
        p = self.person("off_hours")
        t0 = self.at(p, OFF_HOURS_DAY, 3.03)
        self.rows.append(self.human(p, t0, "login", home=True))
        counts = (85, 88, 82, 90)
        for i, n in enumerate(counts):
            self.rows.append(
                self.data(
                    p, t0 + (4 + 6 * i) * MINUTE_MS, "read", "support_ticket", count=n, person_fields={"home": True}
                )
            )
        self.rows.append(
            self.human(p, t0 + 30 * MINUTE_MS, "logout", home=True, details='{"reason":"user_signed_out"}')
        )
        self.finding(
            "access.off_hours",
            f"actor:{self.actor('off_hours')}@{dt_of(t0).date()}",
            t0 + 4 * MINUTE_MS,
            f"Day-shift support lead ({self.ctx.workforce.staff.tz[p]}) read {sum(counts)} support tickets in "
            f"4 reads of 82-90 records at about 03:05 local time on Wednesday {OFF_HOURS_DAY}.",
        )

    def volume_spike(self, baseline: list[int]) -> pl.DataFrame:
        """Called on the spike day with the person's earlier daily record totals."""
        p = self.person("volume_spike")
        median = float(np.median(baseline)) if baseline else 30.0
        target = int(min(max(SPIKE_FACTOR * median, 1_500), 30_000))
        rng = rng_for(self.ctx.seed, STREAM_PLANTS, 77)
        counts: list[int] = []
        while sum(counts) < target:
            counts.append(int(rng.integers(20, 46)))
        t0, t1 = self.at(p, SPIKE_DAY, 9.2), self.at(p, SPIKE_DAY, 17.3)
        times = np.sort(rng.integers(t0, t1, len(counts)))
        kinds = ("support_ticket", "contact", "call_record")
        rows = []
        for i, (t, n) in enumerate(zip(times, counts, strict=True)):
            rt = kinds[i % 3]
            subj = self.ctx.sampler.sample(rng, "user" if rt == "support_ticket" else "contact", day_of(SPIKE_DAY), 1)[
                0
            ]
            rows.append(self.data(p, int(t), "read", rt, int(subj), count=n))
        self.finding(
            "access.volume_spike",
            f"actor:{self.actor('volume_spike')}@{dt_of(int(times[0])).date()}",
            int(times[0]),
            f"Support agent read {sum(counts):,} records in {len(counts)} ordinary reads (20-45 each) on {SPIKE_DAY}, "
            f"{sum(counts) / max(median, 1):.0f}x their median of {median:.0f} records a day over the "
            f"{len(baseline)} earlier active days.",
        )
        return rows_frame(rows)

    def out_of_role(self) -> None:
        p = self.person("out_of_role")
        times = [self.at(p, OUT_OF_ROLE_DAY, h) for h in (10.25, 10.37, 10.67)]
        for t in times:
            subj = self.contact()
            self.rows.append(
                self.data(
                    p,
                    t,
                    "read",
                    "call_recording",
                    subj,
                    data_categories=json_list(self.ctx.view.stores["call_recording"].categories),
                )
            )
        self.finding(
            "access.out_of_role",
            f"actor:{self.actor('out_of_role')}@{dt_of(times[0]).date()}",
            times[0],
            "Sales rep played 3 call recordings (user.content.private.call_recording), a category the "
            "sales_rep role does not grant.",
        )

    def bulk_export(self) -> None:
        p = self.person("bulk_export")
        t = self.at(p, BULK_DAY, 14.2)
        self.rows.append(
            self.data(
                p,
                t,
                "export",
                "contact",
                count=BULK_RECORDS,
                recipient="aws",
                details=f'{{"format":"csv","rows":{BULK_RECORDS},"filter":"all_contacts"}}',
            )
        )
        self.finding(
            "access.bulk_export",
            f"actor:{self.actor('bulk_export')}@{dt_of(t).date()}",
            t,
            f"One export of {BULK_RECORDS:,} contacts (all tenants) by a support lead; threshold 5,000 in 60 minutes.",
        )
        # Unavoidable echo: the volume control counts exported records too, and this day is far above baseline.
        self.finding(
            "access.volume_spike",
            f"actor:{self.actor('bulk_export')}@{dt_of(t).date()}",
            t,
            f"Side effect of the planted bulk export: {BULK_RECORDS:,} records in one day, far above the "
            "support lead's baseline (the volume control counts exports).",
        )

    def failed_burst(self) -> None:
        p = self.person("failed_burst")
        t0 = ms_of(datetime.fromisoformat(f"{BURST_DAY}T14:00:05+00:00"))
        city = CITY_INDEX[ATTACKER_CITY]
        attacker = {
            "source_ip": ATTACKER_IP,
            "geo_country": CITIES[city].country,
            "geo_lat": 52.3702,
            "geo_lon": 4.8952,
            "user_agent": "python-requests/2.32.3",
            "processing_region": "eu-fra",
        }
        for i in range(40):
            self.rows.append(
                self.human(
                    p,
                    t0 + i * 9_000,
                    "login_failed",
                    outcome="failure",
                    details='{"reason":"invalid_password"}',
                    **attacker,
                )
            )
        ok = t0 + 40 * 9_000 + 25_000
        self.rows.append(self.human(p, ok, "login", **attacker))
        self.finding(
            "access.failed_login_burst",
            f"actor:{self.actor('failed_burst')}@{BURST_DAY}",
            ok,
            f"40 failed sign-ins in 6 minutes from {ATTACKER_IP} (Amsterdam) on Saturday {BURST_DAY}, then a "
            "successful sign-in from the same address.",
        )
        # The same burst also trips the per-address threshold (20 failures in 10 minutes).
        self.finding(
            "access.failed_login_burst",
            f"ip:{ATTACKER_IP}@{BURST_DAY}",
            ok,
            f"40 failed sign-ins in 6 minutes from {ATTACKER_IP} against one account, then a success.",
        )

    def terminated(self) -> None:
        p = self.person("terminated")
        sign_ins = [self.at(p, d, 10.1) for d in TERMINATED_DAYS]
        for t, reads in zip(sign_ins, (4, 2), strict=True):
            self.rows.append(self.human(p, t, "login", home=True))
            for i in range(reads):
                rt = ("support_ticket", "contact")[i % 2]
                subj = self.contact() if rt == "contact" else int(self.ctx.sampler.safe["user"][i])
                self.rows.append(
                    self.data(
                        p, t + (3 + 7 * i) * MINUTE_MS, "read", rt, subj, count=1 + 3 * i, person_fields={"home": True}
                    )
                )
        self.finding(
            "access.terminated_account",
            f"actor:{self.actor('terminated')}",
            sign_ins[0] + 3 * MINUTE_MS,  # the first read
            f"Terminated with end date 2025-06-30, yet signed in and read personal data on "
            f"{TERMINATED_DAYS[0]} and {TERMINATED_DAYS[1]}.",
        )

    def impossible_travel(self) -> None:
        p = self.person("impossible_travel")
        t1 = ms_of(datetime.fromisoformat(f"{TRAVEL_DAY}T03:00:00+00:00"))
        t2 = t1 + 40 * MINUTE_MS
        city = CITY_INDEX[TRAVEL_CITY]
        self.rows.append(self.human(p, t1, "login"))
        self.rows.append(
            self.human(
                p,
                t2,
                "login",
                source_ip=TRAVEL_IP,
                geo_country=CITIES[city].country,
                geo_lat=50.1155,
                geo_lon=8.6842,
                processing_region="eu-fra",
            )
        )
        self.finding(
            "access.impossible_travel",
            f"actor:{self.actor('impossible_travel')}@{TRAVEL_DAY}",
            t2,
            "Sign-ins 40 minutes apart from Sydney and Frankfurt (about 16,500 km).",
        )

    def privilege_grant(self) -> None:
        p, target = self.person("grants_admin"), self.person("granted_admin")
        st = self.ctx.workforce.staff
        t = self.at(p, GRANT_DAY, 15.33)
        self.rows.append(
            self.human(
                p,
                t,
                "role_grant",
                target_actor_id=st.actor_id[target],
                role="platform_admin",
                purpose="essential.service.security",
                details='{"ticket":null,"reason":"debugging"}',
            )
        )
        self.finding(
            "access.privilege_grant",
            f"actor:{st.actor_id[target]}@{dt_of(t).date()}",
            t,
            f"{st.actor_id[p]} (sre, not in may_grant_roles) granted platform_admin to {st.actor_id[target]}.",
        )
        it = self.person("it_admin")
        for d, role in REVIEW_GRANTS:
            who = next((i for i in range(st.n) if st.role[i] == role and i not in st.cast.roles.values()), None)
            if who is not None:  # a normal access review: IT re-grants a person's own, unprivileged role
                self.rows.append(
                    self.human(
                        it,
                        self.at(it, d, 11.0),
                        "role_grant",
                        target_actor_id=st.actor_id[who],
                        role=role,
                        purpose="essential.service.security",
                        details='{"reason":"access_review"}',
                    )
                )
