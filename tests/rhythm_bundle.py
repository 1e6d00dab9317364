"""A second, hand-made export bundle whose rhythms differ from the demo's (issue 10).

Thirteen weeks, Mon 2025-03-03 to Sun 2025-06-01, audited as of 2025-06-02. Only `audit/`, `directory/` and an
empty `dsr/` (header only) exist: every other optional source is missing. The people and systems:

- emp_day (support agent, Europe/Berlin): Mon-Fri 09:00-16:59 local, one support-ticket read an hour; once, on
  Sun 18 May 03:00 Berlin, she reads 200 tickets at once (the planted off-hours read).
- emp_night (support agent, Australia/Sydney): a night shift, Mon-Fri 22:00-04:59 local.
- emp_weekend (support agent, America/New_York): weekends only, Sat-Sun 10:00-17:59 local.
- emp_billing (billing admin, Asia/Singapore): Mon-Fri 09:00-16:59 local in `billing`, a weekday-only system;
  on leave on Tue 15 Apr, so billing is silent that whole day (the planted weekday gap).
- svc-monitor: a heartbeat in `auth` every hour, 24/7; auth is down from Mon 21 Apr 06:00 to Sat 26 Apr 06:00 UTC
  (the planted 5-day outage: nothing reaches auth, no heartbeat and no sign-in).
- svc-batch: a nightly job in `call-service`, 02:00-02:40 UTC every day (a night-only system).
Every person signs in to `auth` at the start of each working block. No one else exists.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

FIRST_DAY = date(2025, 3, 3)
LAST_DAY = date(2025, 6, 1)
AS_OF = date(2025, 6, 2)
OFF_HOURS_READ = datetime(2025, 5, 18, 3, 0, tzinfo=ZoneInfo("Europe/Berlin"))
LEAVE_DAY = date(2025, 4, 15)
AUTH_OUTAGE = (datetime(2025, 4, 21, 6, tzinfo=UTC), datetime(2025, 4, 26, 6, tzinfo=UTC))

DIRECTORY_HEADER = "actor_id,actor_type,role,department,status,start_date,end_date,mfa_enabled,home_country,timezone"
DSR_HEADER = (
    "request_id,subject_id,jurisdiction,request_type,channel,received_at,acknowledged_at,verified_at,"
    "extension_notified_at,extension_reason,completed_at,status,status_reason"
)


@dataclass(frozen=True)
class Worker:
    actor_id: str
    role: str
    department: str
    country: str
    timezone: str
    system: str
    resource_type: str
    purpose: str
    weekdays: tuple[int, ...]  # ISO weekdays on which a working block starts
    start_hour: int  # local hour the block starts
    hours: int  # length of the block


WORKERS = (
    Worker("emp_day", "support_agent", "Customer Support", "DE", "Europe/Berlin", "support-desk", "support_ticket",
           "essential.service.operations.support", (1, 2, 3, 4, 5), 9, 8),
    Worker("emp_night", "support_agent", "Customer Support", "AU", "Australia/Sydney", "support-desk",
           "support_ticket", "essential.service.operations.support", (1, 2, 3, 4, 5), 22, 7),
    Worker("emp_weekend", "support_agent", "Customer Support", "US", "America/New_York", "support-desk",
           "support_ticket", "essential.service.operations.support", (6, 7), 10, 8),
    Worker("emp_billing", "billing_admin", "Finance", "SG", "Asia/Singapore", "billing", "invoice",
           "essential.service.payment_processing", (1, 2, 3, 4, 5), 9, 8),
)  # fmt: skip


def _days() -> Iterator[date]:
    day = FIRST_DAY - timedelta(days=1)  # a night shift that starts on Sunday local is Monday's work
    while day <= LAST_DAY:
        yield day
        day += timedelta(days=1)


def _in_range(at: datetime) -> bool:
    return FIRST_DAY <= at.astimezone(UTC).date() <= LAST_DAY


def _auth_down(at: datetime) -> bool:
    return AUTH_OUTAGE[0] <= at < AUTH_OUTAGE[1]


def _event(n: int, at: datetime, actor: str, actor_type: str, system: str, action: str, **extra: object) -> dict:
    stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"event_id": f"rb_{n:06d}", "occurred_at": stamp, "actor_id": actor, "actor_type": actor_type,
            "system": system, "action": action, "outcome": "success", **extra}  # fmt: skip


def _work_times(w: Worker) -> Iterator[tuple[datetime, bool]]:
    """(time, first of its block) for each hour the worker reads, in UTC order per block."""
    zone = ZoneInfo(w.timezone)
    for day in _days():
        if day.isoweekday() not in w.weekdays or (w.actor_id == "emp_billing" and day == LEAVE_DAY):
            continue
        for h in range(w.hours):
            at = datetime(day.year, day.month, day.day, w.start_hour, 17, tzinfo=zone) + timedelta(hours=h)
            if _in_range(at):
                yield at, h == 0


def audit_events() -> list[dict]:
    raw: list[tuple[datetime, str, str, str, str, dict]] = []
    for w in WORKERS:
        for i, (at, first) in enumerate(_work_times(w)):
            if first and not _auth_down(at):
                raw.append((at - timedelta(minutes=5), w.actor_id, "employee", "auth", "login", {}))
            read = {"resource_type": w.resource_type, "resource_id": f"{w.resource_type}-{i % 40}",
                    "subject_id": f"sub-{w.actor_id}-{i % 40}", "record_count": 1, "purpose": w.purpose}  # fmt: skip
            raw.append((at, w.actor_id, "employee", w.system, "read", read))
    bulk = {"resource_type": "support_ticket", "resource_id": "support_ticket-bulk", "record_count": 200,
            "purpose": "essential.service.operations.support"}  # fmt: skip
    raw.append((OFF_HOURS_READ, "emp_day", "employee", "support-desk", "search", bulk))
    start = datetime(FIRST_DAY.year, FIRST_DAY.month, FIRST_DAY.day, tzinfo=UTC)
    for h in range(((LAST_DAY - FIRST_DAY).days + 1) * 24):
        at = start + timedelta(hours=h, minutes=30)
        if not _auth_down(at):
            raw.append((at, "svc-monitor", "service", "auth", "config_change", {}))
        if at.hour == 2:
            for minute in (0, 20, 40):
                raw.append((at.replace(minute=minute), "svc-batch", "service", "call-service", "config_change", {}))
    raw.sort(key=lambda r: (r[0], r[1]))
    return [_event(n, at, actor, kind, system, action, **extra) for n, (at, actor, kind, system, action, extra)
            in enumerate(raw, 1)]  # fmt: skip


def directory_rows() -> list[list[str]]:
    people = [[w.actor_id, "employee", w.role, w.department, "active", "2024-01-08", "", "true", w.country,
               w.timezone] for w in WORKERS]  # fmt: skip
    services = [[s, "service", role, "Platform", "active", "2023-06-01", "", "false", "AU", "UTC"]
                for s, role in (("svc-monitor", "svc_backup"), ("svc-batch", "svc_call_pipeline"))]  # fmt: skip
    return people + services


def write_rhythm_bundle(out: Path) -> Path:
    """Write the bundle under `out` (audit split into one JSON Lines file per week) and return `out`."""
    for folder in ("audit", "directory", "dsr"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    weeks: dict[str, list[dict]] = {}
    for event in audit_events():
        week = date.fromisoformat(event["occurred_at"][:10]).isocalendar()
        weeks.setdefault(f"{week.year}-W{week.week:02d}", []).append(event)
    for name, events in weeks.items():
        (out / "audit" / f"{name}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    with (out / "directory" / "accounts.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(DIRECTORY_HEADER.split(","))
        writer.writerows(directory_rows())
    (out / "dsr" / "requests.csv").write_text(DSR_HEADER + "\n")
    return out
