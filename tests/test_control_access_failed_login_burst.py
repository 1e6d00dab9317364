"""access.failed_login_burst on hand-made audit events, as of 2025-03-10 (answers worked out by hand).

Settings: >= 10 failed logins for one account, or >= 20 from one source IP, within 10 minutes (bounds
included); critical when a successful login of that account (from that IP) follows within 10 minutes.
"""

from __future__ import annotations

import datetime as dt

from rows import audit_event

from tests.findings_support import alarm, assert_findings, ok

AS_OF = dt.date(2025, 3, 10)
T0 = dt.datetime(2025, 3, 4, 9, 0)


def _login(event_id: str, actor_id: str, at: dt.datetime, ok: bool, ip: str, **kw: object) -> dict[str, object]:
    fields = {"action": "login" if ok else "login_failed", "outcome": "success" if ok else "failure", "source_ip": ip}
    return audit_event(event_id, actor_id, at.strftime("%Y-%m-%d %H:%M:%S"), **(fields | kw))


def _s(seconds: int, base: dt.datetime = T0) -> dt.datetime:
    return base + dt.timedelta(seconds=seconds)


def test_access_failed_login_burst(control_findings) -> None:
    d5, d6 = dt.datetime(2025, 3, 5, 9, 0), dt.datetime(2025, 3, 6, 9, 0)
    ip_base = dt.datetime(2025, 3, 7, 3, 0)
    rows = [
        # emp-a: 10 failures 30 s apart, 09:00:00 .. 09:04:30 (10 >= 10), then a success at 09:06 (within
        # 10 minutes after the last failure) -> critical.
        *[_login(f"a-f{i}", "emp-a", _s(30 * i), False, "198.51.100.7") for i in range(10)],
        _login("a-ok", "emp-a", _s(360), True, "198.51.100.7"),
        # emp-b: 9 failures within 4 minutes, a 10th 20 minutes later: at most 9 in any window -> ok.
        *[_login(f"b-f{i}", "emp-b", _s(30 * i, d5), False, "198.51.100.8") for i in range(9)],
        _login("b-f9", "emp-b", _s(1200, d5), False, "198.51.100.8"),
        _login("b-ok", "emp-b", _s(1300, d5), True, "198.51.100.8"),
        # emp-c: 10 `login` events with outcome failure in 2 min 15 s; the success comes 27 minutes after
        # the last failure -> high, not followed.
        *[_login(f"c-f{i}", "emp-c", _s(15 * i, d6), False, "198.51.100.9", action="login") for i in range(10)],
        _login("c-ok", "emp-c", _s(1800, d6), True, "198.51.100.9"),
        # 203.0.113.9: 20 failures 15 s apart (03:00:00 .. 03:04:45) spread over cu-0..cu-3 (5 each, under the
        # per-account threshold), then cu-3 logs in from that IP at 03:08 -> ip alarm, critical.
        *[
            _login(f"ip-f{i}", f"cu-{i % 4}", _s(15 * i, ip_base), False, "203.0.113.9", actor_type="customer_user")
            for i in range(20)
        ],
        _login("ip-ok", "cu-3", _s(480, ip_base), True, "203.0.113.9", actor_type="customer_user"),
        # After as_of: ignored.
        *[_login(f"late-f{i}", "emp-b", dt.datetime(2025, 3, 11, 9, 0, i), False, "198.51.100.8") for i in range(12)],
    ]  # fmt: skip
    by = control_findings("access_failed_login_burst", {"audit_events": rows}, as_of=AS_OF)
    assert_findings(
        by,
        {
            "actor:emp-a@2025-03-04": alarm(
                "critical",
                reason="10 failed logins for account emp-a within 10 minutes, 2025-03-04 09:00:00 to 2025-03-04 09:04:30 "
                "UTC (alarm at 10), followed by a successful login at 2025-03-04 09:06:00 UTC: the account may be "
                "compromised.",
                evidence=[f"a-f{i}" for i in range(10)] + ["a-ok"],
                observed_at=dt.datetime(2025, 3, 4, 9, 4, 30),
            ),
            "actor:emp-b": ok(
                reason="emp-b: 11 login attempts, 10 failed; at most 9 failures within 10 minutes (alarm at 10)."
            ),
            "actor:emp-c@2025-03-06": alarm("high"),
            "ip:203.0.113.9@2025-03-07": alarm(
                "critical",
                reason="20 failed logins from IP 203.0.113.9 (against 4 accounts) within 10 minutes, 2025-03-07 03:00:00 "
                "to 2025-03-07 03:04:45 UTC (alarm at 20), followed by a successful login of cu-3 at 2025-03-07 "
                "03:08:00 UTC: the account may be compromised.",
            ),
            "actor:cu-0": ok(),
            "actor:cu-1": ok(),
            "actor:cu-2": ok(),
            "actor:cu-3": ok(
                reason="cu-3: 6 login attempts, 5 failed; at most 5 failures within 10 minutes (alarm at 10)."
            ),
        },
    )
    assert by["actor:emp-c@2025-03-06"]["reason"].endswith("; no successful login followed within the window.")


def test_a_window_other_than_the_ingest_s_counts_from_the_events(control_findings) -> None:
    """The login rollup counted each account's largest burst in the window of the policy at ingest (10 minutes); a
    run with another window (a setting changed since, a what-if) counts it from the failures instead (found by a
    review: the ok row stated the rollup's count under the new window's length)."""
    hours = [dt.datetime(2025, 3, 1, 20), dt.datetime(2025, 3, 1, 21), dt.datetime(2025, 3, 2, 10)]
    rows = [_login(f"f{i}", "emp-a", at, False, "198.51.100.7") for i, at in enumerate(hours)]
    ingest_window = control_findings("access_failed_login_burst", {"audit_events": rows}, as_of=AS_OF)
    assert ingest_window["actor:emp-a"]["reason"] == (
        "emp-a: 3 login attempts, 3 failed; at most 1 failures within 10 minutes (alarm at 10)."
    )
    # 20:00, 21:00 and the next day's 10:00 all lie within 1,000 minutes of 10:00 (14 hours back is 20:00).
    wider = control_findings(
        "access_failed_login_burst", {"audit_events": rows}, as_of=AS_OF, failed_login_burst_window_minutes=1000
    )
    assert wider["actor:emp-a"]["reason"] == (
        "emp-a: 3 login attempts, 3 failed; at most 3 failures within 1000 minutes (alarm at 10)."
    )
