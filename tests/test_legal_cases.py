"""Worked cases: requests judged as the law reads on a given date (issue 9).

Each case is one request of the REQUESTS register, an as-of date, the state the request was in at
the end of that local day, and the dsr.* controls that must alarm on it then. Every answer was worked
by hand from the text of the law (the comment above each request in legal_case.py gives the working) and is checked
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
from legal_case import REQUESTS, register_rows

from compliance.config.bundle import Policy
from compliance.controls import run_controls
from compliance.deadlines import DsrRequest, compute_deadline, request_state
from compliance.queries import run_query

DSR_CONTROLS = ["dsr.overdue", "dsr.due_soon", "dsr.completed_late", "dsr.extension_late", "dsr.ack_late"]


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
    con = build_db(policy, {"dsr_requests": register_rows()})
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
