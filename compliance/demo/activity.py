"""What each role does on the platform: weighted (action, resource type) mixes, checked against the
role matrix and turned into ready-to-use event templates (system, categories, purpose, recipient,
details). A role never gets a template its grants do not cover; where a store holds categories the
role may not see, the event names the subset it touched (as the app only shows those fields).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compliance.demo.policy_view import PolicyView, json_list

ROLE_MIX: dict[str, list[tuple[str, str, float]]] = {
    "support_agent": [
        ("read", "support_ticket", 30),
        ("search", "support_ticket", 10),
        ("update", "support_ticket", 12),
        ("create", "support_ticket", 3),
        ("read", "call_record", 12),
        ("read", "call_recording", 4),
        ("read", "contact", 10),
        ("search", "contact", 6),
        ("read", "account", 6),
    ],
    "support_lead": [
        ("read", "support_ticket", 30),
        ("search", "support_ticket", 12),
        ("update", "support_ticket", 10),
        ("read", "call_record", 10),
        ("read", "call_recording", 4),
        ("read", "contact", 8),
        ("read", "account", 8),
        ("export", "support_ticket", 2),
    ],
    "sales_rep": [
        ("read", "contact", 45),
        ("search", "contact", 25),
        ("update", "contact", 20),
        ("create", "contact", 10),
    ],
    "engineer": [
        ("read", "service_log", 50),
        ("search", "service_log", 30),
        ("read", "usage_event", 10),
        ("read", "session", 10),
    ],
    "sre": [
        ("read", "service_log", 40),
        ("search", "service_log", 25),
        ("read", "call_record", 15),
        ("read", "session", 10),
        ("update", "call_record", 4),
        ("read", "audit_event", 5),
        ("config_change", "", 1),
    ],
    "data_analyst": [("read", "usage_event", 50), ("search", "usage_event", 40), ("export", "usage_event", 6)],
    "privacy_officer": [
        ("read", "dsr_case", 25),
        ("update", "dsr_case", 20),
        ("search", "contact", 10),
        ("read", "contact", 10),
        ("read", "account", 8),
        ("read", "support_ticket", 8),
        ("read", "call_record", 5),
        ("read", "invoice", 4),
        ("export", "account", 3),
    ],
    "security_analyst": [
        ("read", "audit_event", 40),
        ("search", "audit_event", 30),
        ("read", "session", 20),
        ("read", "account", 10),
    ],
    "billing_admin": [
        ("read", "invoice", 40),
        ("search", "invoice", 20),
        ("update", "invoice", 15),
        ("create", "invoice", 15),
        ("share", "invoice", 5),
        ("export", "invoice", 3),
    ],
    "it_admin": [
        ("read", "account", 40),
        ("search", "account", 30),
        ("update", "account", 20),
        ("read", "session", 10),
        ("config_change", "", 1),
    ],
    "platform_admin": [
        ("read", "service_log", 30),
        ("read", "account", 20),
        ("read", "call_record", 20),
        ("update", "account", 10),
        ("read", "audit_event", 20),
        ("config_change", "", 3),
    ],
    "customer_user": [
        ("read", "contact", 25),
        ("search", "contact", 12),
        ("update", "contact", 10),
        ("create", "contact", 6),
        ("read", "call_record", 20),
        ("update", "call_record", 8),
        ("read", "call_recording", 6),
        ("read", "support_ticket", 5),
        ("create", "support_ticket", 2),
        ("read", "account", 3),
    ],
}
RECIPIENT = {
    ("support_lead", "support_ticket"): "zendesk",
    ("data_analyst", "usage_event"): "aws",
    ("billing_admin", "invoice"): "stripe",
    ("privacy_officer", "account"): "aws",
}
POOL = {
    "contact": "contact",
    "call_record": "contact",
    "call_recording": "contact",
    "account": "user",
    "session": "user",
    "support_ticket": "user",
    "invoice": "user",
    "usage_event": "usage",
    "dsr_case": "dsr",
    "service_log": "none",
    "audit_event": "none",
}
UPDATED_FIELD = {
    "contact": "phone",
    "support_ticket": "status",
    "call_record": "disposition",
    "account": "role",
    "invoice": "status",
    "dsr_case": "status",
}
CONFIG_SYSTEMS = ("crm", "call-service", "auth", "analytics", "support-desk")
OPTIONAL_CATEGORY_SHARE = 0.3  # exporters name the categories on a minority of events


@dataclass(frozen=True)
class Template:
    action: str
    resource_type: str | None
    system: str
    categories: str | None  # JSON list
    always_categories: bool
    purpose: str | None
    recipient: str | None
    pool: str
    details: tuple[str, str | None]  # prefix, suffix: details = prefix + record_count + suffix


def details_for(action: str, rt: str | None) -> tuple[str, str | None]:
    if action == "read":
        return f'{{"view":"{rt}","rows":', "}"
    if action == "search":
        return '{"results":', ',"page_size":50}'
    if action == "export":
        return '{"format":"csv","rows":', "}"
    if action == "share":
        return '{"method":"api","rows":', "}"
    if action == "update":
        return f'{{"fields_changed":["{UPDATED_FIELD.get(rt or "", "notes")}"]}}', None
    if action == "create":
        return '{"source":"web_app"}', None
    if action == "delete":
        return '{"rows":', ',"mode":"hard_delete"}'
    return "{}", None


class Activity:
    def __init__(self, view: PolicyView) -> None:
        self.view = view
        self.templates: dict[str, list[Template]] = {}
        self.weights: dict[str, np.ndarray] = {}
        for role, mix in ROLE_MIX.items():
            ts, ws = [], []
            for action, rt, w in mix:
                ts.append(self.template(role, action, rt or None))
                ws.append(w)
            self.templates[role] = ts
            self.weights[role] = np.array(ws) / sum(ws)

    def template(self, role: str, action: str, rt: str | None, system: str | None = None) -> Template:
        v = self.view
        if action == "config_change":
            return Template(
                action,
                None,
                system or CONFIG_SYSTEMS[0],
                None,
                False,
                None,
                None,
                "none",
                ('{"setting":"session_timeout_minutes","old":"30","new":"60"}', None),
            )
        assert rt is not None
        store = v.stores[rt]
        if not v.may(role, action):
            raise ValueError(f"role {role} may not {action}")
        subset = v.permitted(role, store.categories)
        if not subset:
            raise ValueError(f"role {role} may not touch {rt}")
        return Template(
            action=action,
            resource_type=rt,
            system=store.system,
            categories=json_list(subset),
            always_categories=subset != store.categories,
            purpose=v.purpose(role, store.system),
            recipient=RECIPIENT.get((role, rt)) if action in ("export", "share") else None,
            pool=POOL[rt],
            details=details_for(action, rt),
        )


def record_counts(rng: np.random.Generator, actions: np.ndarray) -> np.ndarray:
    """Records touched per event: single-record views and edits, result pages up to 45 rows.

    Normal people stay under 50 records per event, the off-hours threshold, so a single event never
    looks like the planted night-time read.
    """
    n = len(actions)
    many = rng.integers(2, 46, n)
    out = np.ones(n, dtype=np.int64)
    read = actions == "read"
    out[read] = np.where(rng.random(int(read.sum())) < 0.65, 1, many[read])
    search = actions == "search"
    out[search] = rng.integers(1, 46, int(search.sum()))
    bulkish = (actions == "export") | (actions == "share")
    out[bulkish] = rng.integers(5, 46, int(bulkish.sum()))
    return out
