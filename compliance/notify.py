"""`compliance notify`: new alarms, DSRs coming due and overdue DSRs, sent once each per channel.

What is sent (settings.yaml `notifications`):
- new alarms at or above `min_severity` (suppressed ones are not alarms; findings triaged
  `false_positive` or `risk_accepted` are not sent; overdue DSRs have their own list);
- open DSRs whose deadline is at most `dsr_due_within_days` away (dsr.due_soon's query with that
  horizon) and overdue DSRs (dsr.overdue's alarms).

Where: a JSON webhook (Slack-compatible: `text` and `blocks`, plus the items as data) and e-mail
over SMTP. Secrets come from environment variables named in settings. Each delivered item is
written to `notifications_sent` in the triage store per channel, so a second run sends nothing
again, and a channel that failed gets the same items on the next run.

Exit codes for schedulers: 0 delivered (or nothing new), 1 a channel failed, 2 misconfigured.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import duckdb
import polars as pl

from compliance.audit_database import connect_current
from compliance.config.bundle import Policy
from compliance.config.models import EmailSettings, NotificationSettings, WebhookSettings
from compliance.controls import SEVERITIES, default_as_of
from compliance.identities import Identities
from compliance.queries import run_query
from compliance.triage import current_states
from compliance.triage_store import connect, utc_now

__all__ = ["EXIT_FAILED", "EXIT_MISCONFIGURED", "EXIT_OK", "Item", "NotifyError", "NotifyResult", "notify"]

EXIT_OK, EXIT_FAILED, EXIT_MISCONFIGURED = 0, 1, 2
KINDS = {"alarm": "new alarms", "dsr_due_soon": "DSRs coming due", "dsr_overdue": "overdue DSRs"}
_PERSON_KEYS = ("actor", "subject", "ip")  # resource keys that name a person, pseudonymised as on the dashboard


class NotifyError(ValueError):
    """Notification settings cannot be used (no channel, an unset secret variable)."""


@dataclass(frozen=True)
class Item:
    kind: str  # alarm, dsr_due_soon, dsr_overdue
    control_id: str
    resource: str  # as stored (the dedupe key); `shown_resource` is what messages show
    severity: str
    reason: str
    observed_at: str | None
    shown_resource: str

    @property
    def key(self) -> str:
        return f"{self.control_id}|{self.resource}"

    def as_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "control_id": self.control_id,
            "resource": self.shown_resource,
            "severity": self.severity,
            "reason": self.reason,
            "observed_at": self.observed_at,
        }


@dataclass
class NotifyResult:
    as_of: date | None
    items: list[Item]  # everything due now, before per-channel dedupe
    sent: dict[str, int] = field(default_factory=dict)  # channel -> items delivered this run
    failed: dict[str, str] = field(default_factory=dict)  # channel -> error
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        return EXIT_FAILED if self.failed else EXIT_OK


# --- what is due -------------------------------------------------------------------------------


def _redactor(con: duckdb.DuckDBPyConnection, on: bool) -> tuple[Callable[[str], str], Callable[[str], str]]:
    if not on:
        return (lambda t: t), (lambda r: r)
    ids = Identities.from_database(con)  # the dashboard's pseudonyms, for the same people

    def text(t: str) -> str:
        return ids.text(t) or ""

    def resource(r: str) -> str:
        kind, _, rest = r.partition(":")
        return (ids.resource(r) or "") if kind in _PERSON_KEYS and rest else text(r)

    return text, resource


def _items(frame: pl.DataFrame, kind: str, text: Callable[[str], str], resource: Callable[[str], str]) -> list[Item]:
    frame = frame.with_columns(pl.col("observed_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return [
        Item(kind, r["control_id"], r["resource"], r["severity"], text(r["reason"] or ""), r["observed_at"],
             resource(r["resource"]))
        for r in frame.unique(["control_id", "resource"], keep="first", maintain_order=True).iter_rows(named=True)
    ]  # fmt: skip


def due_items(db: Path, policy: Policy, settings: NotificationSettings, as_of: date | None) -> tuple[date, list[Item]]:
    """Everything notify would send as of `as_of` (default: the data's newest date), before dedupe."""
    from compliance.stored_findings import findings_as_of

    with connect_current(db) as con:
        as_of = as_of or default_as_of(con)
        findings = findings_as_of(con, policy, as_of)
        horizon = {"as_of": as_of, "dsr_due_soon_days": settings.dsr_due_within_days}
        try:
            due_soon = run_query(con, "dsr_due_soon", horizon, policy).filter(pl.col("status") == "info")
        except duckdb.Error:  # no DSR register loaded: nothing coming due
            due_soon = findings.clear()
        text, resource = _redactor(con, settings.pseudonymise)
    closed = current_states(db, ["false_positive", "risk_accepted"]).select("control_id", "resource")
    gate = SEVERITIES[SEVERITIES.index(settings.min_severity) :]
    alarms = findings.filter(
        (pl.col("status") == "alarm") & pl.col("severity").is_in(gate) & (pl.col("control_id") != "dsr.overdue")
    ).join(closed, on=["control_id", "resource"], how="anti")
    overdue = findings.filter((pl.col("status") == "alarm") & (pl.col("control_id") == "dsr.overdue"))
    items = _items(alarms, "alarm", text, resource)
    items += _items(due_soon, "dsr_due_soon", text, resource)
    items += _items(overdue, "dsr_overdue", text, resource)
    return as_of, items


# --- channels ----------------------------------------------------------------------------------


def _env(name: str, what: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise NotifyError(f"{what}: environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class Channel:
    name: str
    send: Callable[[list[Item], date], None]


def _summary_line(items: list[Item], as_of: date) -> str:
    counts = ", ".join(f"{sum(i.kind == k for i in items)} {label}" for k, label in KINDS.items())
    return f"Capantra compliance as of {as_of}: {counts}."


def _lines(items: list[Item]) -> list[str]:
    out = []
    for kind, label in KINDS.items():
        part = [i for i in items if i.kind == kind]
        if part:
            out.append(f"{label[0].upper()}{label[1:]} ({len(part)}):")
            out += [f"- [{i.severity}] {i.control_id} {i.shown_resource}: {i.reason}" for i in part]
    return out


def webhook_payload(items: list[Item], as_of: date) -> dict:
    """Slack reads `text` (and `blocks`); other receivers get every item as data in `items`."""
    text = "\n".join([_summary_line(items, as_of), *_lines(items)])
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "plain_text", "text": text[:2900]}}],
        "as_of": as_of.isoformat(),
        "items": [i.as_json() for i in items],
    }


def _webhook(settings: WebhookSettings) -> Channel:
    url = _env(settings.url_env, "webhook")
    if not url.startswith(("https://", "http://")):
        raise NotifyError(f"webhook: {settings.url_env} does not hold an http(s) URL")

    def send(items: list[Item], as_of: date) -> None:
        body = json.dumps(webhook_payload(items, as_of)).encode("utf-8")
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(
            request, timeout=settings.timeout_seconds
        ) as response:  # http(s) only: checked above
            response.read()

    return Channel("webhook", send)


def _email(settings: EmailSettings) -> Channel:
    user = _env(settings.username_env, "email") if settings.username_env else None
    password = _env(settings.password_env, "email") if settings.password_env else None

    def send(items: list[Item], as_of: date) -> None:
        message = EmailMessage()
        message["Subject"] = _summary_line(items, as_of)
        message["From"] = settings.sender
        message["To"] = ", ".join(settings.recipients)
        message.set_content("\n".join([_summary_line(items, as_of), "", *_lines(items)]) + "\n")
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
            if settings.starttls:
                smtp.starttls()
            if user is not None:
                smtp.login(user, password or "")
            smtp.send_message(message)

    return Channel("email", send)


def channels(settings: NotificationSettings) -> list[Channel]:
    """The configured channels, with their secrets read; NotifyError when none or a secret is unset."""
    out = []
    if settings.webhook is not None:
        out.append(_webhook(settings.webhook))
    if settings.email is not None:
        out.append(_email(settings.email))
    if not out:
        raise NotifyError("no channel configured: add notifications.webhook or notifications.email to settings.yaml")
    return out


# --- the run -----------------------------------------------------------------------------------


def _unsent(db: Path, channel: str, items: list[Item]) -> list[Item]:
    with connect(db) as con:
        sent = set(
            con.execute("select kind, item_key from notifications_sent where channel = ?", (channel,)).fetchall()
        )
    return [i for i in items if (i.kind, i.key) not in sent]


def _mark_sent(db: Path, channel: str, items: list[Item], as_of: date) -> None:
    now = utc_now()
    with connect(db) as con:
        con.executemany(
            "insert or ignore into notifications_sent values (?, ?, ?, ?, ?)",
            [(channel, i.kind, i.key, now, as_of.isoformat()) for i in items],
        )


def notify(
    db: Path | str,
    policy: Policy,
    as_of: date | None = None,
    *,
    dry_run: bool = False,
) -> NotifyResult:
    """Send what is due and not yet sent on each channel; record what each channel delivered.

    A dry run reads the secrets of nothing, sends nothing and records nothing."""
    db = Path(db)
    settings = policy.settings.notifications
    targets = [] if dry_run else channels(settings)
    day, items = due_items(db, policy, settings, as_of)
    result = NotifyResult(as_of=day, items=items, dry_run=dry_run)
    for channel in targets:
        pending = _unsent(db, channel.name, items)
        if not pending:
            result.sent[channel.name] = 0
            continue
        try:
            channel.send(pending, day)
        except (OSError, smtplib.SMTPException, urllib.error.URLError) as exc:
            result.failed[channel.name] = f"{type(exc).__name__}: {exc}"
            continue
        _mark_sent(db, channel.name, pending, day)
        result.sent[channel.name] = len(pending)
    return result
