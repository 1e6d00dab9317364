"""What the generator needs from the policy as code, derived once: stores by resource type, what
each role may touch, which data use to declare, and which retention rule governs a record.

Normal demo data is built from these answers so that it stays inside the policy; only the planted
problems step outside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

from compliance.config.bundle import Policy
from compliance.config.models import RecordRetention, Role
from compliance.config.retention import governing_rule
from compliance.config.taxonomy import covers

# Data uses a role would declare, most specific first; the first one the system allows is used.
PURPOSE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "support_agent": ("essential.service.operations.support", "essential.service"),
    "support_lead": ("essential.service.operations.support", "essential.service"),
    "sales_rep": ("essential.service",),
    "engineer": ("essential.service.operations", "functional.service.improve", "essential.service"),
    "sre": ("essential.service.operations", "essential.service.security", "essential.service"),
    "data_analyst": ("analytics.reporting",),
    "privacy_officer": ("essential.legal_obligation", "essential.service.operations.support"),
    "security_analyst": ("essential.service.security", "essential.fraud_detection"),
    "billing_admin": ("essential.service.payment_processing",),
    "it_admin": ("essential.service.security", "essential.service.authentication", "essential.service"),
    "platform_admin": ("essential.service.operations", "essential.service", "essential.service.security"),
    "svc_call_pipeline": ("essential.service",),
    "svc_analytics_etl": ("analytics.reporting",),
    "svc_retention": ("essential.legal_obligation",),
    "svc_backup": ("essential.service.operations", "essential.service"),
    "customer_user": ("essential.service", "essential.service.operations.support"),
}


@dataclass(frozen=True)
class StoreInfo:
    system: str
    store: str
    resource_type: str
    categories: tuple[str, ...]
    regions: tuple[str, ...]
    uses: tuple[str, ...]


class PolicyView:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.roles: dict[str, Role] = {r.id: r for r in policy.roles.roles}
        stores: dict[str, StoreInfo] = {}
        for s in policy.data_map.systems:
            for st in s.stores:
                for rt in st.resource_types:
                    stores[rt] = StoreInfo(
                        s.id,
                        st.id,
                        rt,
                        tuple(st.data_categories),
                        tuple(s.processing_regions),
                        tuple(u.use for u in s.uses),
                    )
        self.stores = stores
        self.systems = [s.id for s in policy.data_map.systems]
        self.system_regions = {s.id: tuple(s.processing_regions) for s in policy.data_map.systems}
        self.system_uses = {s.id: tuple(dict.fromkeys(u.use for u in s.uses)) for s in policy.data_map.systems}
        self.system_stores = {
            s.id: [stores[rt] for st in s.stores for rt in st.resource_types] for s in policy.data_map.systems
        }

    def permitted(self, role: str, categories: tuple[str, ...]) -> tuple[str, ...]:
        """The categories among `categories` that the role's grants cover."""
        granted = self.roles[role].data_categories
        return tuple(c for c in categories if any(covers(g, c) for g in granted))

    def may(self, role: str, action: str) -> bool:
        return action in self.roles[role].actions

    def purpose(self, role: str, system: str) -> str | None:
        allowed = self.system_uses[system]
        return next((p for p in PURPOSE_PREFERENCE.get(role, ()) if p in allowed), None)

    def region(self, system: str, home_region: str) -> str:
        """Where a system serves a tenant: its home region if the system runs there, else the first one."""
        regions = self.system_regions[system]
        return home_region if home_region in regions else regions[0]

    @cached_property
    def approved_recipients(self) -> frozenset[str]:
        out: set[str] = set()
        for r in self.policy.recipients.recipients:
            out.add(r.id)
            out.update(r.domains)
        return frozenset(out)

    def retention_rule(self, system: str, store: str, category: str) -> RecordRetention:
        """The governing rule, by the resolver the retention controls use (compliance.config.retention)."""
        rule = governing_rule(self.policy.retention.records, system, store, category)
        if rule is None:
            raise ValueError(f"no retention rule covers {category} in {system}/{store}")
        return rule


def json_list(values: tuple[str, ...] | list[str]) -> str:
    return json.dumps(list(values), separators=(",", ":"))
