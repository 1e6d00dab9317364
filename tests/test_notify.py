"""`compliance notify`: delivery to a local webhook receiver and a local SMTP server, once each."""

from __future__ import annotations

import email.policy
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from aiosmtpd.controller import Controller
from cli_support import free_port
from policy_support import policy_copy

from compliance.config.bundle import DEFAULT_POLICY_DIR
from compliance.triage import set_state


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every JSON body; `fail` makes it answer 500."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.fail = False
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.fail:
                    self.send_response(500)
                else:
                    assert self.headers["Content-Type"] == "application/json"
                    receiver.bodies.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    # aiosmtpd checks its server by connecting to the configured port, so it needs a real one.
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _policy(tmp_path: Path, notifications: dict) -> Path:
    folder = policy_copy(tmp_path / "policy")
    settings = yaml.safe_load((folder / "settings.yaml").read_text(encoding="utf-8"))
    settings["notifications"] = notifications
    (folder / "settings.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return folder


def _notify(db: Path, policy: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "compliance", "notify", "--db", str(db), "--policy", str(policy), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=os.environ | env)


def test_notify_sends_each_item_once_to_webhook_and_email(
    demo_build, tmp_path: Path, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    db = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, db)
    # Triaged as a false positive before the first run: never sent.
    set_state(db, "access.failed_login_burst", "ip:185.220.101.34@2025-04-12", "false_positive", "pen test", "lead")
    policy = _policy(
        tmp_path,
        {
            "min_severity": "critical",
            "dsr_due_within_days": 14,
            "webhook": {"url_env": "TEST_HOOK_URL"},
            "email": {
                "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False,
                "sender": "alerts@capantra.com", "recipients": ["privacy@capantra.com", "dpo@capantra.com"],
            },
        },
    )  # fmt: skip
    env = {"TEST_HOOK_URL": receiver.url}
    first = _notify(db, policy, env)
    assert first.returncode == 0, first.stderr
    assert len(receiver.bodies) == 1 and len(box.messages) == 1
    body = receiver.bodies[0]
    items = body["items"]
    kinds = {k: [i for i in items if i["kind"] == k] for k in ("alarm", "dsr_due_soon", "dsr_overdue")}
    assert kinds["alarm"] and kinds["dsr_overdue"] and kinds["dsr_due_soon"]
    assert {i["severity"] for i in kinds["alarm"]} == {"critical"}
    assert not any(i["control_id"] == "dsr.overdue" for i in kinds["alarm"])
    assert not any(i["resource"] == "ip:185.220.101.34@2025-04-12" for i in items)
    assert {i["control_id"] for i in kinds["dsr_due_soon"]} == {"dsr.due_soon"}
    assert body["text"].startswith(f"Capantra compliance as of {body['as_of']}: {len(kinds['alarm'])} new alarms")
    assert body["blocks"][0]["type"] == "section"
    # People appear as their dashboard pseudonyms, never as raw ids.
    actor_items = [i for i in items if i["resource"].startswith("actor:")]
    assert actor_items and all(i["resource"].startswith("actor:A-") for i in actor_items)
    assert "emp_0" not in json.dumps(body)
    rcpts, mail = box.messages[0]
    assert rcpts == ["privacy@capantra.com", "dpo@capantra.com"]
    assert mail["Subject"] == body["text"].splitlines()[0]
    text = mail.get_content()
    assert "Overdue DSRs (" in text and kinds["dsr_overdue"][0]["resource"] in text
    assert f"webhook: sent {len(items)} new item(s)" in first.stdout

    # A second run sends nothing again on either channel.
    second = _notify(db, policy, env)
    assert second.returncode == 0, second.stderr
    assert len(receiver.bodies) == 1 and len(box.messages) == 1
    assert "webhook: nothing new to send" in second.stdout and "email: nothing new to send" in second.stdout

    # Two months later the requests that were coming due are overdue: only those news are sent.
    later = _notify(db, policy, env, "--as-of", "2026-03-01")
    assert later.returncode == 0, later.stderr
    assert len(receiver.bodies) == 2 and len(box.messages) == 2
    news = receiver.bodies[1]["items"]
    sent_before = {(i["kind"], i["control_id"], i["resource"]) for i in items}
    assert not sent_before & {(i["kind"], i["control_id"], i["resource"]) for i in news}
    overdue_now = {i["resource"] for i in news if i["kind"] == "dsr_overdue"}
    assert {i["resource"] for i in kinds["dsr_due_soon"]} <= overdue_now


def test_a_failed_channel_exits_1_and_is_retried_next_run(demo_build, tmp_path: Path, receiver: Receiver) -> None:
    db = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, db)
    policy = _policy(tmp_path, {"min_severity": "high", "webhook": {"url_env": "TEST_HOOK_URL"}})
    env = {"TEST_HOOK_URL": receiver.url}
    receiver.fail = True
    failed = _notify(db, policy, env)
    assert failed.returncode == 1
    assert "webhook failed: HTTPError" in failed.stderr and "retried on the next run" in failed.stderr
    receiver.fail = False
    retried = _notify(db, policy, env)
    assert retried.returncode == 0 and len(receiver.bodies) == 1 and receiver.bodies[0]["items"]


def test_misconfiguration_exits_2_naming_the_problem(demo_build, tmp_path: Path) -> None:
    db = tmp_path / "audit.duckdb"
    shutil.copy(demo_build.db, db)
    none = _notify(db, DEFAULT_POLICY_DIR, {})
    assert none.returncode == 2 and "no channel configured" in none.stderr
    hook = _policy(tmp_path / "a", {"webhook": {"url_env": "UNSET_HOOK_VARIABLE"}})
    unset = _notify(db, hook, {"UNSET_HOOK_VARIABLE": ""})
    assert unset.returncode == 2 and "UNSET_HOOK_VARIABLE is not set" in unset.stderr
    smtp = {"smtp_host": "127.0.0.1", "sender": "a@b.c", "recipients": ["x@y.z"], "password_env": "UNSET_PW_VAR"}
    mail = _notify(db, _policy(tmp_path / "b", {"email": smtp}), {})
    assert mail.returncode == 2 and "UNSET_PW_VAR is not set" in mail.stderr
    assert "Traceback" not in none.stderr + unset.stderr + mail.stderr
    # A dry run needs no channel and no secret: it lists what is due and records nothing.
    dry = _notify(db, DEFAULT_POLICY_DIR, {}, "--dry-run")
    assert dry.returncode == 0 and "new alarms" in dry.stdout and "dsr_overdue" in dry.stdout


def test_email_logs_in_with_credentials_from_the_environment(demo_build, tmp_path: Path) -> None:
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    controller.start()
    try:
        db = tmp_path / "audit.duckdb"
        shutil.copy(demo_build.db, db)
        smtp = {
            "smtp_host": "127.0.0.1", "smtp_port": port, "starttls": False, "sender": "alerts@capantra.com",
            "recipients": ["privacy@capantra.com"], "username_env": "TEST_SMTP_USER", "password_env": "TEST_SMTP_PW",
        }  # fmt: skip
        policy = _policy(tmp_path, {"min_severity": "critical", "email": smtp})
        wrong = _notify(db, policy, {"TEST_SMTP_USER": "bot", "TEST_SMTP_PW": "nope"})
        assert wrong.returncode == 1 and "email failed: SMTPAuthenticationError" in wrong.stderr
        assert box.messages == []
        right = _notify(db, policy, {"TEST_SMTP_USER": "bot", "TEST_SMTP_PW": "s3cret"})
        assert right.returncode == 0, right.stderr
        assert len(box.messages) == 1 and logins[-1] == (b"bot", b"s3cret")
        assert "s3cret" not in right.stdout + right.stderr
    finally:
        controller.stop()


def test_notification_settings_do_not_make_stored_findings_stale(tmp_path: Path) -> None:
    from compliance.config.bundle import load_policy

    def edited(name: str, old: str, new: str) -> Path:
        return policy_copy(tmp_path / name, {"settings.yaml": (old, new)})

    base = load_policy()
    hooked = load_policy(edited("a", "  min_severity: high", "  min_severity: low\n  webhook:\n    url_env: X"))
    assert hooked.settings.notifications.min_severity == "low" and hooked.settings.notifications.webhook
    assert hooked.digest == base.digest
    assert load_policy(edited("b", "  due_soon_days: 7", "  due_soon_days: 8")).digest != base.digest
    assert load_policy(edited("c", "notifications:", "# a comment\nnotifications:")).digest != base.digest
