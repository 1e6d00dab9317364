"""Table tests for the DSR deadline engine and its rules file.

Every expected date below was worked out by hand from a calendar and the holiday lists of
the `holidays` package; the comment on each case is that working. "+1m" is one calendar
month (same date, or the month's last day); "->" is the move to the next working day.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from compliance.config.base import PolicyError
from compliance.config.dsr_rules import DEFAULT_PATH, DsrRules, load_dsr_rules
from compliance.deadlines import (
    DsrRequest,
    ack_late,
    closed_late,
    compute_deadline,
    deadlines_frame,
    frame_schema,
    request_state,
    states_frame,
    turnaround_days,
)

SHIPPED = load_dsr_rules()
SHIPPED_DATA: dict[str, Any] = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _uk_verified() -> DsrRules:
    data = copy.deepcopy(SHIPPED_DATA)
    data["jurisdictions"]["UK"]["clock_start"] = "verified"
    return DsrRules.model_validate(data)


RULES = {"shipped": SHIPPED, "uk_verified": _uk_verified()}


def ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def d(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def make(
    jurisdiction: str,
    request_type: str,
    received: str,
    status: str = "open",
    **stamps: str,
) -> DsrRequest:
    # An extension notice carries its reasons unless a case says otherwise (reason '' = none given).
    reason = stamps.pop("extension_reason", "complexity" if "extension_notified_at" in stamps else "")
    return DsrRequest(
        request_id="r-1",
        jurisdiction=jurisdiction,
        request_type=request_type,
        status=status,
        received_at=datetime.fromisoformat(received),
        extension_reason=reason or None,
        **{name: ts(value) for name, value in stamps.items()},
    )


def case(
    case_id: str,
    jurisdiction: str,
    request_type: str,
    received: str,
    *,
    due: str | None,
    stamps: dict[str, str] | None = None,
    rules: str = "shipped",
    **expect: str | None,
) -> Any:
    return pytest.param(jurisdiction, request_type, received, stamps or {}, rules, due, expect, id=case_id)


DEADLINE_CASES = [
    # --- GDPR month arithmetic (EU = Ireland, Europe/Dublin; 10:00Z is a daytime receipt)
    # Fri 31 Jan 2025 +1m: no 31 Feb -> Fri 28 Feb (working). +3m: no 31 Apr -> Wed 30 Apr.
    case("eu-31jan-nonleap", "EU", "access", "2025-01-31T10:00Z",
         due="2025-02-28", extended="2025-04-30", clock_start="2025-01-31"),
    # Wed 31 Jan 2024 (leap year) +1m: no 31 Feb -> Thu 29 Feb. +3m -> Tue 30 Apr 2024.
    case("eu-31jan-leap", "EU", "delete", "2024-01-31T10:00Z",
         due="2024-02-29", extended="2024-04-30"),
    # 31 Jan 2020 +1m -> Sat 29 Feb 2020 (leap, weekend) -> Mon 2 Mar (no IE holiday).
    case("eu-31jan-leap-29feb-saturday", "EU", "access", "2020-01-31T10:00Z",
         due="2020-03-02"),
    # Sat 31 Jan 2026 +1m -> Sat 28 Feb 2026 (non-leap, weekend) -> Mon 2 Mar.
    case("eu-31jan-28feb-saturday", "EU", "access", "2026-01-31T10:00Z",
         due="2026-03-02"),
    # 30 Jan 2025 +1m: no 30 Feb -> Fri 28 Feb.
    case("eu-30jan", "EU", "correct", "2025-01-30T10:00Z", due="2025-02-28"),
    # 29 Jan 2025 +1m: no 29 Feb in 2025 -> Fri 28 Feb.
    case("eu-29jan-nonleap", "EU", "restrict", "2025-01-29T10:00Z", due="2025-02-28"),
    # 29 Jan 2024 +1m: 29 Feb 2024 exists (Thu) -> Thu 29 Feb.
    case("eu-29jan-leap", "EU", "object", "2024-01-29T10:00Z", due="2024-02-29"),
    # Mon 31 Mar 2025 (11:00 IST) +1m: no 31 Apr -> Wed 30 Apr. +3m: no 31 Jun -> Mon 30 Jun.
    case("eu-31mar", "EU", "portability", "2025-03-31T10:00Z",
         due="2025-04-30", extended="2025-06-30"),
    # Thu 10 Apr 2025 +1m -> Sat 10 May -> Sun 11 -> Mon 12 May (IE bank holiday was 5 May).
    case("eu-due-saturday", "EU", "access", "2025-04-10T10:00Z", due="2025-05-12"),
    # Fri 11 Apr 2025 +1m -> Sun 11 May -> Mon 12 May.
    case("eu-due-sunday", "EU", "access", "2025-04-11T10:00Z", due="2025-05-12"),
    # Mon 17 Feb 2025 +1m -> Mon 17 Mar, St Patrick's Day (IE) -> Tue 18 Mar.
    case("eu-due-st-patricks-day", "EU", "access", "2025-02-17T10:00Z",
         due="2025-03-18"),
    # Sun 16 Feb 2025 +1m -> Sun 16 Mar -> Mon 17 Mar holiday -> Tue 18 Mar.
    case("eu-due-sunday-then-holiday", "EU", "access", "2025-02-16T10:00Z",
         due="2025-03-18", extended="2025-05-16"),
    # Tue 25 Nov 2025 +1m -> Thu 25 Dec Christmas, Fri 26 St Stephen's, Sat, Sun -> Mon 29.
    case("eu-christmas-chain", "EU", "delete", "2025-11-25T10:00Z", due="2025-12-29"),
    # UK (England): 18 Mar 2025 +1m -> Good Friday 18 Apr, Sat, Sun, Easter Monday 21 Apr
    # -> Tue 22 Apr.
    case("uk-good-friday-easter-monday", "UK", "access", "2025-03-18T10:00Z",
         due="2025-04-22"),
    # Same receipt in the EU: Good Friday is no Irish public holiday -> Fri 18 Apr stands.
    case("eu-good-friday-is-working-day", "EU", "access", "2025-03-18T10:00Z",
         due="2025-04-18"),
    # --- GDPR extension
    # Due Fri 28 Feb; told 28 Feb 18:00 GMT = on the last day -> valid; 31 Jan +3m -> 30 Apr.
    case("eu-ext-last-day-valid", "EU", "access", "2025-01-31T10:00Z",
         stamps={"extension_notified_at": "2025-02-28T18:00Z"},
         due="2025-02-28", effective="2025-04-30", ext="valid", extended="2025-04-30"),
    # Told Sat 1 Mar, one day after the due date -> late; 28 Feb stays effective.
    case("eu-ext-one-day-late", "EU", "access", "2025-01-31T10:00Z",
         stamps={"extension_notified_at": "2025-03-01T09:00Z"},
         due="2025-02-28", ext="late", extended="2025-04-30"),
    # Due rolled to Tue 18 Mar; told 18 Mar -> valid (the rolled date is the due date).
    # 16 Feb +3m -> Fri 16 May.
    case("eu-ext-on-rolled-due-date", "EU", "access", "2025-02-16T10:00Z",
         stamps={"extension_notified_at": "2025-03-18T12:00Z"},
         due="2025-03-18", effective="2025-05-16", ext="valid", extended="2025-05-16"),
    # Mon 3 Feb 2025 +1m -> Mon 3 Mar. +3m -> Sat 3 May, Sun 4, Mon 5 May IE bank holiday
    # -> Tue 6 May: the extended date moves too.
    case("eu-ext-lands-on-weekend-and-bank-holiday", "EU", "access", "2025-02-03T10:00Z",
         stamps={"extension_notified_at": "2025-02-20T10:00Z"},
         due="2025-03-03", effective="2025-05-06", ext="valid", extended="2025-05-06"),
    # UK 20 May 2025 +1m -> Fri 20 Jun. Told 20 Jun 23:30Z = Sat 21 Jun 00:30 BST: late by
    # the local date although the UTC date is the due date. +3m -> Wed 20 Aug.
    case("uk-ext-late-by-local-date", "UK", "access", "2025-05-20T10:00Z",
         stamps={"extension_notified_at": "2025-06-20T23:30Z"},
         due="2025-06-20", ext="late", extended="2025-08-20"),
    # --- Australia: 30 calendar days, no extension, no move off weekends
    # 2 Jun 2025 00:00Z = 10:00 AEST Mon 2 Jun; +30 -> Wed 2 Jul. Extension: not allowed.
    case("au-ext-not-allowed", "AU", "access", "2025-06-02T00:00Z",
         stamps={"extension_notified_at": "2025-06-20T00:00Z"},
         due="2025-07-02", ext="not_allowed", extended=None),
    # Delete handled as correct: 10 Jan 2025 (11:00 AEDT); +21 -> 31 Jan, +9 -> Sun 9 Feb,
    # not moved (calendar days).
    case("au-delete-30-days-sunday", "AU", "delete", "2025-01-10T00:00Z",
         due="2025-02-09"),
    # 06 Jun 2025 13:30Z = Fri 23:30 AEST: day 0 is Fri 6 Jun; +24 -> 30 Jun, +6 -> Sun 6 Jul.
    case("sydney-fri-2330", "AU", "correct", "2025-06-06T13:30Z",
         due="2025-07-06", clock_start="2025-06-06"),
    # 06 Jun 2025 22:00Z (still Friday in UTC) = Sat 08:00 AEST: day 0 is Sat 7 Jun -> Mon 7 Jul.
    case("sydney-sat-morning-is-friday-utc", "AU", "access", "2025-06-06T22:00Z",
         due="2025-07-07", clock_start="2025-06-07"),
    # --- California
    # 15 Nov 2025 07:30Z = Fri 14 Nov 23:30 PST: day 0 Fri 14 Nov. +45: 16 to 30 Nov, 29 more
    # -> Mon 29 Dec. Ack, 10 business days: 17-21 Nov (5), 24-26 (8), Thanksgiving 27 and
    # day after 28 skipped, weekend, Mon 1 Dec (9), Tue 2 Dec (10). +90: 30 Nov (16),
    # 31 Dec (47), 31 Jan (78) -> Thu 12 Feb 2026, Lincoln Day (Gov. Code 6700) -> Fri 13 Feb
    # (Code Civ. Proc. 12a).
    case("la-fri-2330-is-saturday-utc", "US-CA", "access", "2025-11-15T07:30Z",
         due="2025-12-29", ack="2025-12-02", extended="2026-02-13", clock_start="2025-11-14"),
    # The same instant as a naive timestamp, which means UTC: same answer.
    case("naive-timestamp-is-utc", "US-CA", "access", "2025-11-15T07:30:00",
         due="2025-12-29", ack="2025-12-02", clock_start="2025-11-14"),
    # Mon 20 Jan 2025 10:00 PST; +45: 11 to 31 Jan, 28 in Feb (39), 6 Mar (45) -> Thu 6 Mar.
    # Ack: 21-24 Jan (4), 27-31 (9), Mon 3 Feb (10). +90: 31 Mar (70) -> Sun 20 Apr -> Mon
    # 21 Apr (Code Civ. Proc. 12a moves a period ending on a weekend).
    case("ccpa-45-days-across-month-end", "US-CA", "delete", "2025-01-20T18:00Z",
         due="2025-03-06", ack="2025-02-03", extended="2025-04-21"),
    # Told 7 Mar 04:00Z = Thu 6 Mar 20:00 PST, the 45th day -> valid; 90 days -> Sun 20 Apr
    # -> Mon 21 Apr.
    case("ccpa-ext-valid-on-45th-day-local", "US-CA", "delete", "2025-01-20T18:00Z",
         stamps={"extension_notified_at": "2025-03-07T04:00Z"},
         due="2025-03-06", effective="2025-04-21", ext="valid", ack="2025-02-03"),
    # Told Fri 7 Mar 08:00 PST, day 46 -> late; Thu 6 Mar stays effective.
    case("ccpa-ext-late", "US-CA", "delete", "2025-01-20T18:00Z",
         stamps={"extension_notified_at": "2025-03-07T16:00Z"},
         due="2025-03-06", ext="late", ack="2025-02-03"),
    # Portability counts as a request to know. Tue 1 Jul 2025 +45: 30 to 31 Jul, +15 -> Fri
    # 15 Aug. Ack: 2, 3 Jul (2), 4 Jul holiday, 7-11 (7), 14, 15, 16 Jul (10) -> Wed 16 Jul.
    case("ccpa-portability-as-access", "US-CA", "portability", "2025-07-01T17:00Z",
         due="2025-08-15", ack="2025-07-16"),
    # Opt-out, 15 business days from Wed 25 Jun 2025: 26, 27 (2), 30 Jun-3 Jul (6), 4 Jul
    # skipped, 7-11 (11), 14-17 (15) -> Thu 17 Jul. No extension, no ack rule.
    case("ccpa-opt-out-15-business-days-july-4", "US-CA", "opt_out_sale_share",
         "2025-06-25T10:00Z", due="2025-07-17", extended=None),
    # Limit sensitive, Wed 20 Nov 2024: 21, 22 (2), 25-27 (5), Thanksgiving 28 and 29
    # skipped, 2-6 Dec (10), 9-13 (15) -> Fri 13 Dec.
    case("ccpa-limit-sensitive-thanksgiving", "US-CA", "limit_sensitive",
         "2024-11-20T20:00Z", due="2024-12-13"),
    # --- other US states: 45 calendar days, +45; moved off weekends in CO and TX only
    # Wed 25 Jun 2025 (Chicago): 5 to 30 Jun, 31 in Jul (36), 9 Aug -> Sat 9 Aug -> Mon 11 Aug
    # (Tex. Gov't Code 311.014(b)). +90: 31 Aug (67) -> Tue 23 Sep.
    case("us-tx-45-days", "US-TX", "delete", "2025-06-25T15:00Z",
         due="2025-08-11", extended="2025-09-23"),
    # Sat 20 Dec 2025 (New York): 11 to 31 Dec, 31 Jan (42) -> Tue 3 Feb 2026.
    # +90: 28 Feb (70) -> Fri 20 Mar 2026.
    case("us-va-opt-out-across-year-end", "US-VA", "opt_out_sale_share",
         "2025-12-20T15:00Z", due="2026-02-03", extended="2026-03-20"),
    # Sat 1 Feb 2025 (Denver): 27 to 28 Feb, 18 more -> Tue 18 Mar.
    case("us-co-delete", "US-CO", "delete", "2025-02-01T17:00Z", due="2025-03-18"),
    # 15 Mar 03:30Z = Fri 14 Mar 23:30 EDT: day 0 14 Mar; 17 to 31 Mar, 28 more -> Mon 28 Apr.
    case("us-other-late-evening-eastern", "US-OTHER", "limit_sensitive",
         "2025-03-15T03:30Z", due="2025-04-28", clock_start="2025-03-14"),
    # Sun 2 Mar 2025 (New York): 29 to 31 Mar, 16 more -> Wed 16 Apr.
    case("us-ct-correct", "US-CT", "correct", "2025-03-02T15:00Z", due="2025-04-16"),
    # --- pairs no rule covers
    case("no-rule-au-portability", "AU", "portability", "2025-06-02T00:00Z", due=None),
    case("no-rule-us-ca-restrict", "US-CA", "restrict", "2025-06-02T18:00Z", due=None),
    case("no-rule-eu-opt-out", "EU", "opt_out_sale_share", "2025-06-02T10:00Z", due=None),
    # --- UK clock start at verification (custom rules)
    # Received 10 Jan, verified Fri 31 Jan 2025 -> day 0 31 Jan; +1m -> Fri 28 Feb.
    case("uk-verified-clock-start", "UK", "access", "2025-01-10T10:00Z",
         stamps={"verified_at": "2025-01-31T15:00Z"}, rules="uk_verified",
         due="2025-02-28", clock_start="2025-01-31"),
    # Not verified yet: the clock has not started, nothing is due.
    case("uk-verified-not-yet", "UK", "access", "2025-01-10T10:00Z",
         rules="uk_verified", due=None, clock_start=None),
    # Shipped UK counts from receipt, so verification is ignored: 10 Jan +1m -> Mon 10 Feb.
    case("uk-shipped-counts-from-receipt", "UK", "access", "2025-01-10T10:00Z",
         stamps={"verified_at": "2025-01-31T15:00Z"},
         due="2025-02-10", clock_start="2025-01-10"),
    # --- daylight saving changes do not shift dates
    # 30 Mar 2025 00:30Z = 00:30 GMT, before Dublin moves to IST at 01:00Z: Sun 30 Mar +1m
    # -> Wed 30 Apr; due_at is 23:59:59.999999 IST = 22:59:59.999999Z.
    case("dst-dublin-spring-early", "EU", "access", "2025-03-30T00:30Z",
         due="2025-04-30", due_at="2025-04-30T22:59:59.999999+00:00"),
    # 30 Mar 2025 22:30Z = 23:30 IST, same day 0 -> Wed 30 Apr.
    case("dst-dublin-spring-late", "EU", "access", "2025-03-30T22:30Z",
         due="2025-04-30", clock_start="2025-03-30"),
    # 9 Mar 2025 09:30Z = 01:30 PST, just before LA springs forward: 22 to 31 Mar, 23 more
    # -> Wed 23 Apr; end of day PDT = 24 Apr 06:59:59.999999Z. Ack: 10-14 Mar (5),
    # 17-21 (10) -> Fri 21 Mar.
    case("dst-la-spring", "US-CA", "access", "2025-03-09T09:30Z",
         due="2025-04-23", ack="2025-03-21", due_at="2025-04-24T06:59:59.999999+00:00"),
    # 3 Nov 2025 07:30Z = Sun 2 Nov 23:30 PST, after LA fell back: 28 to 30 Nov, 17 more
    # -> Wed 17 Dec; end of day PST = 18 Dec 07:59:59.999999Z. Ack: 3-7 Nov (5), Mon 10 (6),
    # Tue 11 Veterans Day skipped, 12-14 (9), Mon 17 Nov (10).
    case("dst-la-fall", "US-CA", "access", "2025-11-03T07:30Z",
         due="2025-12-17", ack="2025-11-17", clock_start="2025-11-02",
         due_at="2025-12-18T07:59:59.999999+00:00"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("jurisdiction", "request_type", "received", "stamps", "rules", "due", "expect"),
    DEADLINE_CASES,
)
def test_deadline(
    jurisdiction: str,
    request_type: str,
    received: str,
    stamps: dict[str, str],
    rules: str,
    due: str | None,
    expect: dict[str, str | None],
) -> None:
    req = make(jurisdiction, request_type, received, **stamps)
    dl = compute_deadline(req, RULES[rules])
    assert dl.due_date == d(due)
    assert dl.effective_due_date == d(expect.get("effective", due))
    assert dl.extension_status == expect.get("ext", "none")
    assert dl.ack_due_date == d(expect.get("ack"))
    if "extended" in expect:
        assert dl.extended_due_date == d(expect["extended"])
        assert dl.extension_allowed is (expect["extended"] is not None)
    if "clock_start" in expect:
        assert dl.clock_start_date == d(expect["clock_start"])
    if "due_at" in expect:
        assert dl.due_at == ts(expect["due_at"])
    if dl.effective_due_date is not None:
        assert dl.effective_due_at is not None
        assert dl.effective_due_at is not None and dl.effective_due_at.utcoffset() == timedelta(0)
    if due is not None:
        assert due in dl.explanation  # the reader can check the date in the sentence


def test_explanation_reads_as_a_sentence() -> None:
    dl = compute_deadline(make("EU", "access", "2025-01-31T10:00Z"), SHIPPED)
    assert dl.explanation.startswith(
        "GDPR Art. 12(3): received Fri 2025-01-31 (Europe/Dublin); 1 month after Fri"
        " 2025-01-31 is Fri 2025-02-28 (there is no Feb 31: the month's last day)"
    )
    rolled = compute_deadline(make("EU", "access", "2025-11-25T10:00Z"), SHIPPED)
    assert "Thu 2025-12-25 (Christmas Day)" in rolled.explanation
    assert "Saint Stephen's Day" in rolled.explanation
    ack = compute_deadline(make("US-CA", "access", "2025-11-15T07:30Z"), SHIPPED)
    assert "Thanksgiving" in ack.explanation
    none = compute_deadline(make("AU", "portability", "2025-06-02T00:00Z"), SHIPPED)
    assert none.rule_id is None and "No rule" in none.explanation
    waiting = compute_deadline(make("UK", "access", "2025-01-10T10:00Z"), RULES["uk_verified"])
    assert waiting.rule_id == "gdpr_art12" and "identity verification" in waiting.explanation


def test_unknown_enum_value_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown jurisdiction 'US-NY'"):
        compute_deadline(make("US-NY", "access", "2025-01-01T00:00Z"), SHIPPED)


# --- states as of a date -------------------------------------------------------------------
# One EU access request received Fri 31 Jan 2025: due Fri 28 Feb (see eu-31jan-nonleap);
# due_soon_days is 7. Timestamps at 23:30Z / 00:30Z are 23:30 / 00:30 GMT in Dublin.
EU = ("EU", "access", "2025-01-31T10:00Z")

STATE_CASES = [
    # 28 Feb - 20 Feb = 8 days > 7.
    pytest.param(EU, "open", {}, "2025-02-20", "on_track", id="on-track-8-days"),
    # 28 Feb - 21 Feb = 7 days: the boundary is due_soon.
    pytest.param(EU, "open", {}, "2025-02-21", "due_soon", id="due-soon-boundary-7"),
    # Due today is still not overdue.
    pytest.param(EU, "open", {}, "2025-02-28", "due_soon", id="due-today"),
    # One day past the due date.
    pytest.param(EU, "open", {}, "2025-03-01", "overdue", id="overdue-one-day"),
    # As of 30 Jan the request did not exist yet.
    pytest.param(EU, "open", {}, "2025-01-30", "not_yet_received", id="before-receipt"),
    # Valid extension (told 20 Feb): effective 30 Apr, so 15 Mar is on track.
    pytest.param(EU, "open", {"extension_notified_at": "2025-02-20T10:00Z"}, "2025-03-15",
                 "on_track", id="valid-extension-on-track"),
    # Late extension (told 3 Mar): 28 Feb stands, 15 Mar is overdue.
    pytest.param(EU, "open", {"extension_notified_at": "2025-03-03T10:00Z"}, "2025-03-15",
                 "overdue", id="late-extension-overdue"),
    # Completed 28 Feb 23:30 GMT, on the due date.
    pytest.param(EU, "completed", {"completed_at": "2025-02-28T23:30Z"}, "2025-04-01",
                 "completed_on_time", id="completed-on-due-date"),
    # Completed Sat 1 Mar 00:30 GMT, one day late.
    pytest.param(EU, "completed", {"completed_at": "2025-03-01T00:30Z"}, "2025-04-01",
                 "completed_late", id="completed-one-day-late"),
    # Refused 10 Mar, after the 28 Feb deadline: a late answer (GDPR Art. 12(4)), never overdue.
    pytest.param(EU, "rejected", {"completed_at": "2025-03-10T10:00Z"}, "2025-04-01",
                 "rejected_late", id="rejected-after-deadline"),
    pytest.param(EU, "withdrawn", {"completed_at": "2025-02-10T10:00Z"}, "2025-04-01",
                 "withdrawn", id="withdrawn"),
    # LA: due Mon 29 Dec 2025; completed 30 Dec 07:30Z = 29 Dec 23:30 PST -> on time.
    pytest.param(("US-CA", "access", "2025-11-15T07:30Z"), "completed",
                 {"completed_at": "2025-12-30T07:30Z"}, "2026-01-31", "completed_on_time",
                 id="completed-on-due-date-local-not-utc"),
    pytest.param(("AU", "portability", "2025-06-02T00:00Z"), "open", {}, "2025-12-31",
                 "no_deadline", id="no-rule"),
]  # fmt: skip


@pytest.mark.parametrize(("req", "status", "stamps", "as_of", "state"), STATE_CASES)
def test_state(req: tuple[str, str, str], status: str, stamps: dict[str, str], as_of: str, state: str) -> None:
    request = make(*req, status=status, **stamps)
    dl = compute_deadline(request, SHIPPED)
    assert request_state(request, dl, date.fromisoformat(as_of), SHIPPED) == state


def test_awaiting_verification_state() -> None:
    rules = RULES["uk_verified"]
    request = make("UK", "access", "2025-01-10T10:00Z")
    dl = compute_deadline(request, rules)
    assert request_state(request, dl, date(2025, 6, 1), rules) == "awaiting_verification"


@pytest.mark.parametrize(
    ("status", "completed", "late", "days"),
    [
        # Due 28 Feb. Received 31 Jan: 28 days to 28 Feb, 38 to 10 Mar.
        pytest.param("completed", "2025-02-28T23:30Z", False, 28, id="completed-on-time"),
        pytest.param("completed", "2025-03-01T00:30Z", True, 29, id="completed-late"),
        pytest.param("rejected", "2025-03-10T10:00Z", True, 38, id="rejected-late"),
        # Withdrawn: nothing is owed any more, so never late (None), whenever it happened.
        pytest.param("withdrawn", "2025-02-10T10:00Z", None, 10, id="withdrawn-in-time"),
        pytest.param("withdrawn", "2025-03-10T10:00Z", None, 38, id="withdrawn-after-due-date"),
        pytest.param("open", None, None, None, id="open"),
    ],
)
def test_closed_late_and_turnaround(status: str, completed: str | None, late: bool | None, days: int | None) -> None:
    stamps = {} if completed is None else {"completed_at": completed}
    request = make(*EU, status=status, **stamps)
    dl = compute_deadline(request, SHIPPED)
    assert closed_late(request, dl, SHIPPED) is late
    assert turnaround_days(request, SHIPPED) == days


# US-CA request received Fri 14 Nov 2025 (local): acknowledgement due Tue 2 Dec.
CA = ("US-CA", "access", "2025-11-15T07:30Z")


@pytest.mark.parametrize(
    ("req", "status", "stamps", "as_of", "late"),
    [
        # Acknowledged 2 Dec 12:00 PST, the due day.
        pytest.param(CA, "open", {"acknowledged_at": "2025-12-02T20:00Z"}, "2025-12-20",
                     False, id="ack-on-due-day"),
        # 3 Dec 06:30Z is still 2 Dec 22:30 PST: on time by the local date.
        pytest.param(CA, "open", {"acknowledged_at": "2025-12-03T06:30Z"}, "2025-12-20",
                     False, id="ack-on-due-day-local"),
        pytest.param(CA, "open", {"acknowledged_at": "2025-12-03T18:00Z"}, "2025-12-20",
                     True, id="ack-one-day-late"),
        pytest.param(CA, "open", {}, "2025-12-02", False, id="unacked-not-yet-late"),
        pytest.param(CA, "open", {}, "2025-12-03", True, id="unacked-past-due"),
        # Granted on 20 Nov, before the ack due date: no acknowledgement needed.
        pytest.param(CA, "completed", {"completed_at": "2025-11-20T18:00Z"}, "2026-01-01",
                     False, id="closed-before-ack-due"),
        # Rules without an acknowledgement requirement answer None.
        pytest.param(EU, "open", {}, "2025-12-03", None, id="no-ack-rule"),
    ],
)  # fmt: skip
def test_ack_late(req: tuple[str, str, str], status: str, stamps: dict[str, str], as_of: str, late: bool) -> None:
    request = make(*req, status=status, **stamps)
    dl = compute_deadline(request, SHIPPED)
    assert ack_late(request, dl, date.fromisoformat(as_of), SHIPPED) is late


# --- the frame written at ingest -------------------------------------------------------------


def test_deadlines_frame() -> None:
    rows = [
        # Strings as they come from the CSV; '' is null.
        {
            "request_id": "a",
            "subject_id": "s1",
            "jurisdiction": "US-CA",
            "request_type": "delete",
            "status": "completed",
            "received_at": "2025-01-20T18:00:00Z",
            "acknowledged_at": "",
            "completed_at": "2025-02-10T18:00:00Z",
        },
        {
            "request_id": "b",
            "jurisdiction": "EU",
            "request_type": "access",
            "status": "open",
            "received_at": datetime(2025, 1, 31, 10),
            "extension_notified_at": "2025-02-28T18:00:00+00:00",
            "extension_reason": "records in several systems",
        },
        {
            "request_id": "c",
            "jurisdiction": "AU",
            "request_type": "portability",
            "status": "open",
            "received_at": "2025-06-02T00:00:00Z",
        },
    ]
    frame = deadlines_frame(rows, SHIPPED)
    assert frame.schema == pl.Schema(frame_schema())
    assert frame.schema["due_at"] == pl.Datetime("us", "UTC")
    got = frame.select(
        "request_id",
        "rule_id",
        "due_date",
        "effective_due_date",
        "extension_status",
        "ack_due_date",
        "ack_late",
        "closed_late",
        "turnaround_days",
    ).rows()
    assert got == [
        # Never acknowledged and closed 10 Feb, after the 3 Feb ack due date -> ack late;
        # 10 Feb is before the 6 Mar due date; 20 Jan to 10 Feb is 21 days.
        ("a", "ccpa_7021", d("2025-03-06"), d("2025-03-06"), "none", d("2025-02-03"),
         True, False, 21),
        ("b", "gdpr_art12", d("2025-02-28"), d("2025-04-30"), "valid", None,
         None, None, None),
        ("c", None, None, None, "none", None, None, None, None),
    ]  # fmt: skip
    assert deadlines_frame([], SHIPPED).schema == frame.schema


# --- the rules file ----------------------------------------------------------------------------


def test_shipped_rules() -> None:
    assert SHIPPED.jurisdictions["UK"].clock_start == "received"
    assert SHIPPED.jurisdictions["EU"].calendar.country == "IE"
    assert SHIPPED.due_soon_days == 7
    opt_out = SHIPPED.rule_for("US-CA", "opt_out_sale_share")
    assert opt_out is not None and opt_out.ack_business_days is None and opt_out.extension == 0
    assert SHIPPED.rule_for("UK", "opt_out_sale_share") is None


def _set(path: str, value: Any) -> Any:
    """Mutation setting `value` at a dotted path ('rules.0.period'); `...` deletes it."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        elif value is ...:
            del node[last]
        else:
            node[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "key", "problem"),
    [
        pytest.param(_set("rules.0.period", -1), "rules[0].period",
                     "must not be negative", id="negative-period"),
        pytest.param(_set("rules.1.extension", -45), "rules[1].extension",
                     "must not be negative", id="negative-extension"),
        pytest.param(_set("rules.1.ack_business_days", -10), "rules[1].ack_business_days",
                     "must not be negative", id="negative-ack"),
        pytest.param(_set("rules.0.period", 0), "rules[0].period",
                     "must be at least 1", id="zero-period"),
        pytest.param(_set("due_soon_days", -1), "due_soon_days",
                     "must not be negative", id="negative-due-soon"),
        pytest.param(_set("rules.2.jurisdictions", ["US-NY"]), "rules[2].jurisdictions[0]",
                     "unknown jurisdiction 'US-NY'", id="unknown-jurisdiction-in-rule"),
        pytest.param(_set("jurisdictions.US-NY", {"calendar": {
                         "country": "US", "subdiv": "NY", "timezone": "America/New_York"}}),
                     "jurisdictions.US-NY", "unknown jurisdiction 'US-NY'",
                     id="unknown-jurisdiction-key"),
        pytest.param(_set("rules.4.request_types", ["access", "erase"]),
                     "rules[4].request_types[1]", "unknown request type 'erase'",
                     id="unknown-request-type"),
        pytest.param(_set("jurisdictions.UK.clock_start", "identity"),
                     "jurisdictions.UK.clock_start", "'received' or 'verified'",
                     id="unknown-clock-start"),
        pytest.param(_set("rules.0.unit", "weeks"), "rules[0].unit", "calendar_days",
                     id="unknown-unit"),
        pytest.param(_set("jurisdictions.US-TX", ...), "jurisdictions",
                     "no calendar for jurisdiction(s) US-TX", id="jurisdiction-missing"),
        pytest.param(_set("jurisdictions.US-TX.calendar", ...),
                     "jurisdictions.US-TX.calendar", "Field required",
                     id="jurisdiction-without-calendar"),
        pytest.param(_set("jurisdictions.EU.calendar.timezone", "Europe/Dubln"),
                     "jurisdictions.EU.calendar.timezone", "not a valid IANA time zone",
                     id="invalid-time-zone"),
        pytest.param(_set("jurisdictions.EU.calendar.country", "XX"),
                     "jurisdictions.EU.calendar.country", "unknown holidays country 'XX'",
                     id="unknown-holidays-country"),
        pytest.param(_set("jurisdictions.UK.calendar.subdiv", "LDN"),
                     "jurisdictions.UK.calendar.subdiv", "unknown holidays subdivision",
                     id="unknown-holidays-subdivision"),
        pytest.param(_set("rules.3.jurisdictions", ["US-VA", "US-CA"]), "rules",
                     "rules 'ccpa_7021' and 'us_state_45d' both cover access requests in "
                     "US-CA", id="overlapping-rules"),
        pytest.param(_set("rules.0.roll_to_next_workday", True),
                     "rules[0].roll_to_next_workday", "is not a known key", id="typo-key"),
    ],
)  # fmt: skip
def test_invalid_rules_file(tmp_path: Path, mutate: Any, key: str, problem: str) -> None:
    data = copy.deepcopy(SHIPPED_DATA)
    mutate(data)
    path = tmp_path / "dsr_rules.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_dsr_rules(path)
    err = info.value
    assert err.file == str(path)
    assert err.key.startswith(key)
    assert problem in err.problem
    assert str(err).startswith(f"{path}: {key}")


def test_last_state_is_the_register_as_it_stands() -> None:
    """`states_frame`'s open-ended rows equal `deadlines_frame` (ingestion derives dsr_deadlines from them), on a
    random register with every jurisdiction, status and stamp, stamps before receipt included."""
    import random

    rng = random.Random(2)
    rows = []
    for i in range(400):
        received = datetime(2024, 1, 1) + timedelta(minutes=rng.randint(0, 700_000))

        def stamp(p: float, days: float, received: datetime = received) -> datetime | None:
            return received + timedelta(days=rng.uniform(-2, days)) if rng.random() < p else None

        status = rng.choice(["open", "completed", "rejected", "withdrawn"])
        rows.append(
            {
                "request_id": f"r{i}",
                "jurisdiction": rng.choice(list(SHIPPED.jurisdictions)),
                "request_type": rng.choice(["access", "delete", "correct", "opt_out_sale_share", "portability"]),
                "status": status,
                "received_at": received,
                "acknowledged_at": stamp(0.8, 12),
                "verified_at": stamp(0.5, 10),
                "extension_notified_at": stamp(0.3, 50),
                "extension_reason": rng.choice(["volume", None]),
                "completed_at": stamp(0.9, 100) if status != "open" else stamp(0.2, 50),
                "id_requested_at": stamp(0.2, 3),
                "id_received_at": stamp(0.15, 20),
                "clarification_requested_at": stamp(0.1, 20),
                "clarification_received_at": stamp(0.08, 40),
            }
        )
    states = states_frame(rows, SHIPPED)
    last = states.filter(pl.col("valid_to").is_null()).drop("valid_from", "valid_to")
    assert last.equals(deadlines_frame(rows, SHIPPED))
    # Periods tile time: each request's rows are contiguous from its receipt.
    gaps = states.sort("request_id", "valid_from").with_columns(
        pl.col("valid_to").shift(1).over("request_id").alias("previous_end")
    )
    assert (
        gaps.filter(pl.col("previous_end").is_not_null() & (pl.col("previous_end") != pl.col("valid_from"))).height == 0
    )
    assert (
        states.group_by("request_id")
        .agg(pl.col("valid_from").min() == pl.col("received_date").first())["valid_from"]
        .all()
    )
