"""Planted data-handling stories: an undeclared category, a prohibited purpose, unlawful transfers,
unapproved recipients, processing after erasure and a silent audit system.
"""

from __future__ import annotations

from datetime import datetime

from compliance.demo.clock import MINUTE_MS, dt_of, ms_of
from compliance.demo.planted_base import (
    AU_READ_DAY,
    BAD_PURPOSE,
    DR_DRILL_DAY,
    DROPBOX_DAY,
    ERASED_READ_DAYS,
    GAP_END,
    GAP_START,
    GAP_SYSTEM,
    PURPOSE_DAY,
    UNDECLARED_CATEGORY,
    VOICEPRINT_DAY,
    WETRANSFER_DAY,
    PlantBase,
)
from compliance.demo.policy_view import json_list


class DataStories(PlantBase):
    def undeclared_category(self) -> None:
        p = self.person("voiceprint")
        cats = json_list([*self.ctx.view.stores["call_recording"].categories, UNDECLARED_CATEGORY])
        times = [self.at(p, VOICEPRINT_DAY, 11.0 + 0.08 * i) for i in range(6)]
        for t in times:
            self.rows.append(
                self.data(
                    p,
                    t,
                    "update",
                    "call_recording",
                    self.contact(),
                    data_categories=cats,
                    purpose=None,
                    details='{"job":"voiceprint-backfill","model":"spk-id-v2"}',
                )
            )
        self.finding(
            "datamap.undeclared_category",
            f"category:{UNDECLARED_CATEGORY}",
            times[0],
            f"6 updates of call recordings on {VOICEPRINT_DAY} declare {UNDECLARED_CATEGORY}, which no data-map store holds.",
        )

    def undeclared_use(self) -> None:
        p = self.person("undeclared_use")
        times = [self.at(p, PURPOSE_DAY, 13.0 + 0.2 * i) for i in range(12)]
        for i, t in enumerate(times):
            action = "search" if i % 3 == 2 else "read"
            self.rows.append(
                self.data(
                    p, t, action, "contact", self.contact(), count=1 if action == "read" else 25, purpose=BAD_PURPOSE
                )
            )
        self.finding(
            "purpose.undeclared_use",
            f"actor:{self.actor('undeclared_use')}@{dt_of(times[0]).date()}",
            times[0],
            f"12 reads/searches of contacts declaring {BAD_PURPOSE}, a use the crm system does not allow "
            "(and the policy prohibits).",
        )

    def transfers(self) -> None:
        w = self.ctx.world
        eu1 = self.contact("eu-fra", "EU")
        t = ms_of(datetime.fromisoformat(f"{DR_DRILL_DAY}T02:10:00+00:00"))
        tenant = w.tenant_ids[int(w.subject_tenant[eu1])]
        for i, action in enumerate(("create", "create", "update")):
            self.rows.append(
                {
                    "occurred_at": t + i * 9 * MINUTE_MS,
                    "actor_id": "svc-call-pipeline",
                    "actor_type": "service",
                    "system": "call-service",
                    "action": action,
                    "outcome": "success",
                    "resource_type": "call_record",
                    "resource_id": f"call_{990_000_000 + i}",
                    "subject_id": w.subject_ids[eu1],
                    "tenant_id": tenant,
                    "record_count": 1,
                    "purpose": "essential.service",
                    "source_ip": "10.50.8.21",
                    "processing_region": "ap-sin",
                    "user_agent": "capantra-call-pipeline/4.12.0 (python-httpx/0.27)",
                    "details": '{"provider":"twilio","failover":"dr-drill"}',
                }
            )
        self.finding(
            "transfer.no_safeguard",
            f"subject:{w.subject_ids[eu1]}",
            t,
            f"EU contact's call records processed in ap-sin during a DR drill on {DR_DRILL_DAY} (3 events); "
            "transfers.yaml allows EU data only in eu-fra and us-east.",
        )
        p = self.person("reads_in_au")
        eu2 = self.contact("eu-fra", "EU")
        times = [self.at(p, AU_READ_DAY, h) for h in (11.0, 11.4)]
        for tt in times:
            self.rows.append(self.data(p, tt, "read", "call_record", eu2, processing_region="au-syd"))
        self.finding(
            "transfer.no_safeguard",
            f"subject:{w.subject_ids[eu2]}",
            times[0],
            f"EU contact's call record served from au-syd to a Sydney support agent on {AU_READ_DAY} (2 reads).",
        )

    def disclosures(self) -> None:
        p = self.person("unapproved_export")
        t = self.at(p, DROPBOX_DAY, 15.67)
        self.rows.append(self.data(p, t, "export", "support_ticket", count=35, recipient="dropbox.com"))
        self.finding(
            "disclosure.unapproved_recipient",
            "recipient:dropbox.com",
            t,
            "A support lead exported 35 support tickets to dropbox.com, not an approved recipient.",
        )
        p = self.person("unapproved_share")
        t = self.at(p, WETRANSFER_DAY, 10.33)
        self.rows.append(
            self.data(
                p, t, "share", "invoice", int(self.ctx.sampler.safe["user"][3]), count=12, recipient="wetransfer.com"
            )
        )
        self.finding(
            "disclosure.unapproved_recipient",
            "recipient:wetransfer.com",
            t,
            "A billing admin shared 12 invoices with wetransfer.com, not an approved recipient.",
        )

    def processing_after_erasure(self) -> None:
        req = self.ctx.register.planted["erased_then_read"]
        p = self.person("reads_erased")
        t1 = self.at(p, ERASED_READ_DAYS[0], 10.5)
        t2 = self.at(p, ERASED_READ_DAYS[1], 14.0)
        self.rows.append(self.data(p, t1, "read", "call_record", req.subject))
        self.rows.append(self.data(p, t2, "update", "call_record", req.subject))
        self.finding(
            "dsr.processing_after_erasure",
            f"dsr:{req.request_id}",
            t1,
            f"Delete request completed {req.completed.date() if req.completed else None}; a support agent read "
            f"(on {ERASED_READ_DAYS[0]}) and updated (on {ERASED_READ_DAYS[1]}) the subject's call record afterwards.",
        )

    def audit_gap(self) -> None:
        self.finding(
            "security.audit_gap",
            f"system:{GAP_SYSTEM}@{GAP_START.date()}",
            ms_of(GAP_START),
            f"No {GAP_SYSTEM} audit events from the 00:10 retention sweep on {GAP_START.date()} until "
            f"{GAP_END.isoformat()} (about 72 hours); {GAP_SYSTEM} otherwise logs every few hours, every day.",
        )
