"""Worked cases: requests judged as the law reads on a given date (issue 9).

Each case is one request of the REQUESTS register, an as-of date, the state the request was in at
the end of that local day, and the dsr.* controls that must alarm on it then. Every answer was worked
by hand from the text of the law (the comment above each request gives the working) and is checked
on both paths to the one definition of a request's state (the model dsr_requests_as_of): the request alone
(`request_state`, which runs the model on the request's period as of the date) and an ingested register
(`dsr_states` through `dsr_register`, and the controls' findings). As-of dates sit on each side of
every transition: receipt, extension notice, due date, completion or refusal.

EU = Ireland (Europe/Dublin, GMT in winter, so these UTC dates are the local dates).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import duckdb
import polars as pl
import pytest
from conftest import build_db

from compliance.config.bundle import Policy
from compliance.controls import run_controls
from compliance.deadlines import DsrRequest, compute_deadline, request_state
from compliance.queries import run_query

DSR_CONTROLS = ["dsr.overdue", "dsr.due_soon", "dsr.completed_late", "dsr.extension_late", "dsr.ack_late"]


def _req(jurisdiction: str, request_type: str, received: str, status: str = "open", **stamps: str) -> dict[str, Any]:
    return {"jurisdiction": jurisdiction, "request_type": request_type, "received_at": received, "status": status,
            **stamps}  # fmt: skip


EU_JAN31 = "2025-01-31T10:00:00Z"  # Fri 31 Jan 2025 + 1 month: no 31 Feb -> Fri 28 Feb; + 3 months -> Wed 30 Apr

REQUESTS: dict[str, dict[str, Any]] = {
    # Extension told Thu 20 Feb with reasons, by the 28 Feb due date: valid, due 30 Apr (GDPR Art. 12(3)).
    # Completed 15 Apr.
    "eu-ext": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-02-20T10:00:00Z",
                   extension_reason="records in several systems", completed_at="2025-04-15T10:00:00Z"),
    # The same notice without reasons: void ("together with the reasons"), so still due 28 Feb.
    "eu-void": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-02-20T10:00:00Z",
                    completed_at="2025-04-15T10:00:00Z"),
    # Extension told Mon 3 Mar, after the 28 Feb due date: late, does not count. Completed 20 Mar.
    "eu-ext-late": _req("EU", "access", EU_JAN31, "completed", extension_notified_at="2025-03-03T10:00:00Z",
                        extension_reason="volume", completed_at="2025-03-20T10:00:00Z"),
    # Completed Wed 5 Mar: 5 days after 28 Feb.
    "eu-late": _req("EU", "access", EU_JAN31, "completed", completed_at="2025-03-05T10:00:00Z"),
    # Refused Mon 10 Mar, after 28 Feb: Art. 12(4) requires the refusal within one month too.
    "eu-refused-late": _req("EU", "access", EU_JAN31, "rejected", completed_at="2025-03-10T10:00:00Z"),
    # Refused Thu 20 Feb, in time.
    "eu-refused": _req("EU", "access", EU_JAN31, "rejected", completed_at="2025-02-20T10:00:00Z"),
    # Withdrawn Mon 10 Mar: overdue until then, never late afterwards (nothing is owed).
    "eu-withdrawn": _req("EU", "access", EU_JAN31, "withdrawn", completed_at="2025-03-10T10:00:00Z"),
    # CCPA regs 7021: received 15 Nov 07:30Z = Fri 14 Nov 23:30 PST. Acknowledgement (7021(a), 10 business
    # days): 17-21 Nov (5), 24-26 (8), Thanksgiving 27 and the day after 28 skipped, 1 Dec (9), Tue 2 Dec
    # (10). Answer: +45 days -> Mon 29 Dec. Acknowledged Thu 4 Dec 10:00 PST (late); completed Sat 20 Dec.
    "ca-ack": _req("US-CA", "access", "2025-11-15T07:30:00Z", "completed", acknowledged_at="2025-12-04T18:00:00Z",
                   completed_at="2025-12-20T18:00:00Z"),
    # CCPA: received Mon 20 Jan 2025 10:00 PST, acknowledged the next day; +45 -> Thu 6 Mar. Extension told
    # 7 Mar 04:00Z = Thu 6 Mar 20:00 PST, the 45th local day: valid; +90 -> Sun 20 Apr -> Mon 21 Apr (Code
    # Civ. Proc. 12a: a period ending on a Saturday, Sunday or holiday runs to the next day that is none).
    "ca-roll": _req("US-CA", "delete", "2025-01-20T18:00:00Z", acknowledged_at="2025-01-21T18:00:00Z",
                    extension_notified_at="2025-03-07T04:00:00Z", extension_reason="volume"),
    # Wed 25 Jun 2025 + 45 days: 5 to 30 Jun, 31 in Jul (36), 9 Aug -> Sat 9 Aug.
    # Texas: Tex. Gov't Code 311.014(b) (via Bus. & Com. Code 1.002) moves it to Mon 11 Aug. Completed Mon
    # 11 Aug 15:00 CDT: on time.
    "tx-done": _req("US-TX", "delete", "2025-06-25T15:00:00Z", "completed", completed_at="2025-08-11T20:00:00Z"),
    "tx-open": _req("US-TX", "delete", "2025-06-25T15:00:00Z"),
    # Colorado: C.R.S. 2-4-108(2) moves Sat 9 Aug to Mon 11 Aug as well.
    "co-open": _req("US-CO", "delete", "2025-06-25T15:00:00Z"),
    # Virginia (59.1-577(B)) and Connecticut (42-518(c)) count plain calendar days: due Sat 9 Aug.
    "va-open": _req("US-VA", "delete", "2025-06-25T15:00:00Z"),
    "ct-open": _req("US-CT", "delete", "2025-06-25T15:00:00Z"),
    # UK GDPR Art. 12A(2) (London, GMT in winter): received Mon 6 Jan 2025; identity information asked for the same
    # day arrives Mon 20 Jan, which starts the period: + 1 month -> Thu 20 Feb (from receipt it would be Thu 6 Feb).
    "uk-id": _req("UK", "access", "2025-01-06T10:00:00Z", id_requested_at="2025-01-06T12:00:00Z",
                  id_received_at="2025-01-20T10:00:00Z"),
    # UK GDPR Art. 12A(4): received Mon 3 Feb -> due Mon 3 Mar; clarification asked Mon 10 Feb, answered Mon 24 Feb:
    # 14 days paused -> Mon 17 Mar (a working day in England).
    "uk-pause": _req("UK", "access", "2025-02-03T10:00:00Z", clarification_requested_at="2025-02-10T10:00:00Z",
                     clarification_received_at="2025-02-24T10:00:00Z"),
    # The EU has no Art. 12A: the same identity exchange leaves the period running from receipt -> due Thu 6 Feb.
    "eu-id": _req("EU", "access", "2025-01-06T10:00:00Z", id_requested_at="2025-01-06T12:00:00Z",
                  id_received_at="2025-01-20T10:00:00Z"),
}  # fmt: skip


def case(request: str, as_of: str, state: str, *alarms: str) -> Any:
    return pytest.param(request, dt.date.fromisoformat(as_of), state, set(alarms), id=f"{request}@{as_of}")


CASES = [
    # eu-ext: before receipt, at receipt, around the notice, after the original due date, at completion.
    case("eu-ext", "2025-01-30", "not_yet_received"),
    case("eu-ext", "2025-01-31", "on_track"),  # 28 days to 28 Feb
    case("eu-ext", "2025-02-19", "on_track"),  # 9 days to 28 Feb, no notice yet
    case("eu-ext", "2025-02-20", "on_track"),  # notice given: due 30 Apr
    case("eu-ext", "2025-03-01", "on_track"),  # past 28 Feb, but extended
    case("eu-ext", "2025-04-14", "on_track"),  # 16 days to 30 Apr
    case("eu-ext", "2025-04-15", "completed_on_time"),
    # eu-void: the notice without reasons is an alarm from the day it is given, and does not extend.
    case("eu-void", "2025-02-19", "on_track"),
    case("eu-void", "2025-02-20", "on_track", "dsr.extension_late"),  # 8 days left
    case("eu-void", "2025-02-21", "due_soon", "dsr.extension_late"),  # 7 days: the warning window
    case("eu-void", "2025-02-28", "due_soon", "dsr.extension_late"),  # due today
    case("eu-void", "2025-03-01", "overdue", "dsr.overdue", "dsr.extension_late"),
    case("eu-void", "2025-04-15", "completed_late", "dsr.completed_late", "dsr.extension_late"),
    # eu-ext-late: overdue before and after the late notice; the notice alarms only once given.
    case("eu-ext-late", "2025-03-02", "overdue", "dsr.overdue"),
    case("eu-ext-late", "2025-03-03", "overdue", "dsr.overdue", "dsr.extension_late"),
    case("eu-ext-late", "2025-03-20", "completed_late", "dsr.completed_late", "dsr.extension_late"),
    # eu-late: open (not "completed late") on every day before the completion.
    case("eu-late", "2025-02-28", "due_soon"),
    case("eu-late", "2025-03-01", "overdue", "dsr.overdue"),
    case("eu-late", "2025-03-04", "overdue", "dsr.overdue"),
    case("eu-late", "2025-03-05", "completed_late", "dsr.completed_late"),
    # Refusals are answers: judged for lateness. Withdrawal ends the duty.
    case("eu-refused-late", "2025-03-09", "overdue", "dsr.overdue"),
    case("eu-refused-late", "2025-03-10", "rejected_late", "dsr.completed_late"),
    case("eu-refused", "2025-02-19", "on_track"),
    case("eu-refused", "2025-02-20", "rejected"),
    case("eu-withdrawn", "2025-03-09", "overdue", "dsr.overdue"),
    case("eu-withdrawn", "2025-03-10", "withdrawn"),
    # ca-ack: local (Los Angeles) dates decide receipt; the acknowledgement counts from the day it is sent.
    case("ca-ack", "2025-11-13", "not_yet_received"),
    case("ca-ack", "2025-11-14", "on_track"),  # received this local day (Saturday in UTC)
    case("ca-ack", "2025-12-02", "on_track"),  # last day to acknowledge
    case("ca-ack", "2025-12-03", "on_track", "dsr.ack_late"),  # not acknowledged, past due
    case("ca-ack", "2025-12-04", "on_track", "dsr.ack_late"),  # acknowledged 2 days late
    case("ca-ack", "2025-12-20", "completed_on_time", "dsr.ack_late"),
    # ca-roll: the extension counts from its local date (6 Mar in Los Angeles, 7 Mar in UTC).
    case("ca-roll", "2025-03-05", "due_soon"),  # due 6 Mar, no notice yet
    case("ca-roll", "2025-03-06", "on_track"),  # notice given this local day: due 21 Apr
    case("ca-roll", "2025-04-20", "due_soon"),  # Sunday: the period runs to Monday
    case("ca-roll", "2025-04-21", "due_soon"),  # due today
    case("ca-roll", "2025-04-22", "overdue", "dsr.overdue"),
    # US states' computation of time around Sat 9 Aug 2025.
    case("tx-done", "2025-08-10", "due_soon"),
    case("tx-done", "2025-08-11", "completed_on_time"),
    case("tx-open", "2025-08-11", "due_soon"),
    case("tx-open", "2025-08-12", "overdue", "dsr.overdue"),
    case("co-open", "2025-08-10", "due_soon"),
    case("co-open", "2025-08-11", "due_soon"),
    case("co-open", "2025-08-12", "overdue", "dsr.overdue"),
    case("va-open", "2025-08-09", "due_soon"),
    case("va-open", "2025-08-10", "overdue", "dsr.overdue"),
    case("ct-open", "2025-08-10", "overdue", "dsr.overdue"),
    # UK Art. 12A: no due date while the identity information is awaited; then one month from its arrival.
    case("uk-id", "2025-01-06", "awaiting_verification"),
    case("uk-id", "2025-01-19", "awaiting_verification"),
    case("uk-id", "2025-01-20", "on_track"),
    case("uk-id", "2025-02-07", "on_track"),  # past 6 Feb, 13 days to 20 Feb
    case("uk-id", "2025-02-13", "due_soon"),  # 7 days
    case("uk-id", "2025-02-20", "due_soon"),
    case("uk-id", "2025-02-21", "overdue", "dsr.overdue"),
    case("uk-pause", "2025-02-09", "on_track"),  # due 3 Mar before the clarification request
    case("uk-pause", "2025-02-10", "awaiting_verification"),  # paused: nothing due until the answer
    case("uk-pause", "2025-02-23", "awaiting_verification"),
    case("uk-pause", "2025-02-24", "on_track"),  # answered: due 17 Mar
    case("uk-pause", "2025-03-04", "on_track"),  # past 3 Mar, 13 days to 17 Mar
    case("uk-pause", "2025-03-17", "due_soon"),
    case("uk-pause", "2025-03-18", "overdue", "dsr.overdue"),
    case("eu-id", "2025-01-19", "on_track"),  # the period runs although identity is awaited: 18 days to 6 Feb
    case("eu-id", "2025-02-06", "due_soon"),
    case("eu-id", "2025-02-07", "overdue", "dsr.overdue"),
]

# The dsr.due_soon control reports "due_soon" as an info row, not an alarm: its status is checked apart.
ALARMING = {"alarm"}


@pytest.mark.parametrize(("request_id", "as_of", "state", "alarms"), CASES)
def test_engine_state(request_id: str, as_of: dt.date, state: str, alarms: set[str], policy: Policy) -> None:
    req = DsrRequest.from_row({"request_id": request_id, **REQUESTS[request_id]})
    rules = policy.dsr_rules
    assert request_state(req, compute_deadline(req, rules), as_of, rules) == state


@pytest.fixture(scope="module")
def register_db(policy: Policy) -> Iterator[duckdb.DuckDBPyConnection]:
    rows = [{"request_id": rid, "subject_id": f"s-{rid}", **row} for rid, row in REQUESTS.items()]
    con = build_db(policy, {"dsr_requests": rows})
    yield con
    con.close()


@pytest.mark.parametrize(("request_id", "as_of", "state", "alarms"), CASES)
def test_sql_state_and_alarms(
    request_id: str,
    as_of: dt.date,
    state: str,
    alarms: set[str],
    register_db: duckdb.DuckDBPyConnection,
    policy: Policy,
) -> None:
    register = run_query(
        register_db, "dsr_register", {"as_of": as_of, "dsr_due_soon_days": policy.dsr_rules.due_soon_days}, policy
    ).filter(pl.col("request_id") == request_id)
    assert (register["state"].to_list() or ["not_yet_received"]) == [state]
    findings = run_controls(register_db, policy, as_of, control_ids=DSR_CONTROLS)
    mine = findings.filter(pl.col("resource") == f"dsr:{request_id}")
    assert set(mine.filter(pl.col("status").is_in(ALARMING))["control_id"].to_list()) == alarms
    # dsr.due_soon warns (info) exactly on due_soon days.
    warned = mine.filter((pl.col("control_id") == "dsr.due_soon") & (pl.col("status") == "info")).height
    assert warned == (1 if state == "due_soon" else 0)
