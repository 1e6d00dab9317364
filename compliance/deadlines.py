"""The DSR deadline engine: when each data subject request is due, and where it stands.

Pure Python over the rules table (`compliance.config.dsr_rules`); no UI. Ingestion calls
`states_frame` once over the DSR register and stores the result as `dsr_states` (and
`dsr_deadlines`); the SQL controls then only compare local dates with an as-of parameter.
A request's state on a date is defined once, by the model queries/models/dsr_requests_as_of.sql
over those periods: `request_state` runs that model on one request (in an in-memory DuckDB).

Conventions (the law behind them is cited in data/policy/dsr_rules.yaml):
- timestamps are UTC (naive means UTC); day 0 is the clock start's LOCAL date in the
  jurisdiction's reference time zone, so 23:30 on a Friday in Los Angeles is a Friday
  receipt although it is already Saturday in UTC;
- a due date is a local date; `*_at` is the end of that local day, expressed in UTC;
- "as of" a date means at the end of that local day.
"""

from __future__ import annotations

import calendar as _calendar
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import holidays

from compliance.config.dsr_rules import (
    JURISDICTIONS,
    REQUEST_TYPES,
    STATUSES,
    Calendar,
    DsrRules,
    JurisdictionConfig,
    PeriodEnd,
    Rule,
)

if TYPE_CHECKING:
    import polars as pl

__all__ = [
    "STATES",
    "Deadline",
    "DsrRequest",
    "ack_late",
    "closed_late",
    "compute_deadline",
    "deadlines_frame",
    "frame_schema",
    "known_by",
    "request_state",
    "request_states",
    "states_frame",
    "transition_dates",
    "turnaround_days",
]

# 'no_reasons': notified without the reasons the law requires with the notice (GDPR Art. 12(3)
# "together with the reasons for the delay"; CCPA regs 7021(b) "an explanation of the reason";
# VA 59.1-577(B), CO 6-1-1306(2), CT 42-518(c), TX 541.052(c) likewise): it does not extend.
STATES = (
    "on_track",
    "due_soon",
    "overdue",
    "completed_on_time",
    "completed_late",
    "rejected",
    "rejected_late",
    "withdrawn",
    "no_deadline",
    "awaiting_verification",
    "not_yet_received",
)


@dataclass(frozen=True)
class DsrRequest:
    """The fields of one DSR register row (contract section 1.4) that decide its deadline.

    `completed_at` is the completion, or the closure of a rejected or withdrawn request.
    The `id_*` and `clarification_*` stamps are the optional UK GDPR Art. 12A fields
    (contract section 1.10); other jurisdictions ignore them.
    """

    request_id: str
    jurisdiction: str
    request_type: str
    status: str
    received_at: datetime
    acknowledged_at: datetime | None = None
    verified_at: datetime | None = None
    extension_notified_at: datetime | None = None
    completed_at: datetime | None = None
    extension_reason: str | None = None
    id_requested_at: datetime | None = None
    id_received_at: datetime | None = None
    clarification_requested_at: datetime | None = None
    clarification_received_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> DsrRequest:
        """Build from a register row: timestamps as datetimes or RFC 3339 text, '' = null."""
        received = _parse_ts(row.get("received_at"))
        if received is None:
            raise ValueError(f"request {row.get('request_id')!r}: received_at is missing")
        return cls(
            request_id=str(row["request_id"]),
            jurisdiction=str(row["jurisdiction"]),
            request_type=str(row["request_type"]),
            status=str(row["status"]),
            received_at=received,
            acknowledged_at=_parse_ts(row.get("acknowledged_at")),
            verified_at=_parse_ts(row.get("verified_at")),
            extension_notified_at=_parse_ts(row.get("extension_notified_at")),
            completed_at=_parse_ts(row.get("completed_at")),
            extension_reason=_text(row.get("extension_reason")),
            **{name: _parse_ts(row.get(name)) for name in OPTIONAL_STAMPS},
        )


@dataclass(frozen=True)
class Deadline:
    """The deadline of one request. Dates are local to the jurisdiction; `*_at` are UTC.

    - `rule_id` None: no rule covers the (jurisdiction, request type) pair.
    - `clock_start_date` None with a rule: the clock waits for identity verification.
    - `due_date`: the original due date, after any move to the next working day.
    - `extended_due_date`: what an extension gives; set whenever the rule allows one.
    - `effective_due_date`: the extended date only when the extension is valid.
    - `extension_status`: 'none' | 'valid' | 'late' | 'not_allowed'.
    - `ack_due_date`: acknowledgement due (rules with `ack_business_days` only).
    """

    request_id: str
    rule_id: str | None
    clock_start_date: date | None
    due_date: date | None
    due_at: datetime | None
    extension_allowed: bool
    extension_status: str
    extended_due_date: date | None
    effective_due_date: date | None
    effective_due_at: datetime | None
    ack_due_date: date | None
    explanation: str


# The optional register timestamps (contract section 1.10), read when present.
OPTIONAL_STAMPS = ("id_requested_at", "id_received_at", "clarification_requested_at", "clarification_received_at")
# The stamps (and reason) `compute_deadline` reads; acknowledgement and closure do not move a due date.
DEADLINE_STAMPS = ("verified_at", "extension_notified_at", "extension_reason", *OPTIONAL_STAMPS)
# Every timestamp that can change a request's state; `known_by` drops those after a date.
STAMPS = ("acknowledged_at", "verified_at", "extension_notified_at", "completed_at", *OPTIONAL_STAMPS)


def _text(value: object) -> str | None:
    text = None if value is None else str(value).strip()
    return text or None


# --- time and calendars ---------------------------------------------------------------


def _parse_ts(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        # Python 3.11 reads RFC 3339, trailing Z included.
        return datetime.fromisoformat(value)
    raise TypeError(f"expected a timestamp, got {type(value).__name__}: {value!r}")


def _local_date(ts: datetime, tz: str) -> date:
    aware = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz)).date()


def _end_of_local_day(day: date, tz: str) -> datetime:
    # Wall-clock 23:59:59.999999 in the zone, then UTC: a DST change cannot move the date.
    return datetime.combine(day, time.max, tzinfo=ZoneInfo(tz)).astimezone(UTC)


# Holiday tables per calendar object and year. Keyed by identity (the calendars are the few
# long-lived objects of a rules table, plus one derived per period-end statute, see
# _period_end_calendar): hashing a pydantic model on every day checked cost more than the lookup.
_HOLIDAYS_BY_CALENDAR: dict[int, tuple[Calendar, dict[int, Mapping[date, str]]]] = {}


def _holiday_names(cal: Calendar, year: int) -> Mapping[date, str]:
    entry = _HOLIDAYS_BY_CALENDAR.get(id(cal))
    if entry is None or entry[0] is not cal:
        entry = _HOLIDAYS_BY_CALENDAR[id(cal)] = (cal, {})  # holding `cal` keeps its id unique
    years = entry[1]
    if year not in years:
        years[year] = _build_holiday_names(cal, year)
    return years[year]


def holiday_dates(cal: Calendar, years: Iterable[int]) -> list[date]:
    """The calendar's public holidays (extras added, excluded ones left out) in `years`, in order."""
    return sorted(day for year in years for day in _holiday_names(cal, year))


@lru_cache(maxsize=1024)
def _build_holiday_names(cal: Calendar, year: int) -> Mapping[date, str]:
    # Built once per (calendar, year) on first use, so years expand as the register needs
    # them; read-only because the cache shares it between callers.
    table = dict(holidays.country_holidays(cal.country, subdiv=cal.subdiv, years=year).items())
    for extra in cal.extra_holidays:
        table.setdefault(extra.date_in(year), extra.name)
    return MappingProxyType({day: name for day, name in table.items() if name not in cal.not_holidays})


def _closed_reason(day: date, cal: Calendar) -> str | None:
    """Why `day` is no working day: 'weekend' or the holiday's name; None if it is one."""
    if day.weekday() >= 5:
        return "weekend"
    return _holiday_names(cal, day.year).get(day)


def _next_working_day(day: date, cal: Calendar) -> date:
    while _closed_reason(day, cal) is not None:
        day += timedelta(days=1)
    return day


def _add_business_days(day0: date, n: int, cal: Calendar) -> date:
    # Counting starts the day after day 0; the n-th working day ends the period.
    day, counted = day0, 0
    while counted < n:
        day += timedelta(days=1)
        if _closed_reason(day, cal) is None:
            counted += 1
    return day


def _add_months(day0: date, n: int) -> date:
    # Reg. 1182/71 Art. 3(2)(c): the same date n months on, else that month's last day.
    years, month0 = divmod(day0.month - 1 + n, 12)
    year, month = day0.year + years, month0 + 1
    return date(year, month, min(day0.day, _calendar.monthrange(year, month)[1]))


def _add(day0: date, amount: int, rule: Rule, cal: Calendar) -> date:
    if rule.unit == "calendar_months":
        return _add_months(day0, amount)
    if rule.unit == "business_days":
        return _add_business_days(day0, amount, cal)
    return day0 + timedelta(days=amount)


def _fmt(day: date) -> str:
    return f"{day:%a} {day.isoformat()}"


def _amount(amount: int, rule: Rule) -> str:
    singular, plural = {
        "calendar_months": ("month", "months"),
        "calendar_days": ("calendar day", "calendar days"),
        "business_days": ("business day", "business days"),
    }[rule.unit]
    return f"{amount} {singular if amount == 1 else plural}"


def _holiday_label(cal: Calendar) -> str:
    return cal.country if cal.subdiv is None else f"{cal.country}-{cal.subdiv}"


# --- the engine -----------------------------------------------------------------------


def _check_enums(req: DsrRequest) -> None:
    # Ingestion sends rows with unknown enum values to rejects; one reaching here is a bug.
    for field, value, known in (
        ("jurisdiction", req.jurisdiction, JURISDICTIONS),
        ("request_type", req.request_type, REQUEST_TYPES),
        ("status", req.status, STATUSES),
    ):
        if value not in known:
            raise ValueError(f"request {req.request_id!r}: unknown {field} {value!r}")


def _closed_days(first: date, last: date, cal: Calendar, weekends: bool) -> list[str]:
    """Notes like 'Thu 2025-12-25 (Christmas Day)' for the closed days in [first, last]."""
    notes = []
    day = first
    while day <= last:
        reason = _closed_reason(day, cal)
        if reason == "weekend" and weekends:
            notes.append(_fmt(day))
        elif reason is not None and reason != "weekend":
            notes.append(f"{_fmt(day)} ({reason})")
        day += timedelta(days=1)
    return notes


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


@lru_cache(maxsize=64)
def _period_end_calendar(cal: Calendar, statute: PeriodEnd) -> Calendar:
    """The calendar a period-end statute counts holidays by: `cal` less the statute's exclusions."""
    return cal.model_copy(update={"not_holidays": (*cal.not_holidays, *statute.not_holidays)})


def _due(
    day0: date, amount: int, rule: Rule, cal: Calendar, end: PeriodEnd | None = None, pause: int = 0
) -> tuple[date, str]:
    """The due date `amount` units after day 0, and a phrase on how it was reached.

    A calendar period's last day moves off a weekend or holiday when the rule says so
    (GDPR: Reg. 1182/71 Art. 3(4)) or the jurisdiction's computation-of-time statute does
    (`end`, e.g. C.R.S. 2-4-108(2)); the statute's own holiday list then decides.
    """
    raw = _add(day0, amount, rule, cal)
    how = f"{_amount(amount, rule)} after {_fmt(day0)} is {_fmt(raw)}"
    if rule.unit == "calendar_months" and raw.day != day0.day:
        how += f" (there is no {raw:%b} {day0.day}: the month's last day)"
    if pause and rule.unit != "business_days":
        raw += timedelta(days=pause)
        how += f", plus {pause} paused day{'s' if pause != 1 else ''} is {_fmt(raw)}"
    if rule.unit == "business_days":
        skipped = _closed_days(day0 + timedelta(days=1), raw, cal, weekends=False)
        how += f", skipping weekends and {_holiday_label(cal)} holidays"
        return raw, how + (f": {_join(skipped)}" if skipped else "")
    statute = end if end is not None and end.roll_to_next_working_day else None
    if statute is not None:
        cal = _period_end_calendar(cal, statute)
    if _closed_reason(raw, cal) is None:
        return raw, how
    if rule.roll_to_next_working_day or statute is not None:
        moved = _next_working_day(raw, cal)
        closed = _closed_days(raw, moved, cal, weekends=True)
        verb = "is not a working day" if len(closed) == 1 else "are not working days"
        why = f" ({statute.source})" if statute is not None and not rule.roll_to_next_working_day else ""
        return moved, f"{how}; {_join(closed)} {verb}, so it moves to the next one{why}"
    closed = _closed_days(raw, raw, cal, weekends=False)
    what = f"a holiday ({closed[0]})" if closed else "a weekend day"
    return raw, f"{how}, {what}, not moved: the law counts calendar days"


def _undated(req: DsrRequest, rule: Rule | None, status: str, ack: date | None, text: str) -> Deadline:
    return Deadline(
        request_id=req.request_id,
        rule_id=None if rule is None else rule.id,
        clock_start_date=None,
        due_date=None,
        due_at=None,
        extension_allowed=rule is not None and rule.extension > 0,
        extension_status=status,
        extended_due_date=None,
        effective_due_date=None,
        effective_due_at=None,
        ack_due_date=ack,
        explanation=text,
    )


def _art_12a(req: DsrRequest, tz: str, day0: date, text: str, unpaused_due: date) -> tuple[date, int, str, bool]:
    """UK GDPR Art. 12A (inserted by the Data (Use and Access) Act 2025): the period starts at the
    latest of receipt and receipt of the identity information the controller asked for (12A(2));
    it does not run while the controller waits for clarification it asked for (12A(4)-(5)).

    Returns the clock start, the paused days, the explanation so far and whether the clock is
    stopped (identity information or clarification still awaited): then nothing is due yet.
    A clarification asked for after the period ended cannot pause it. The fee of 12A(2)(c) is
    not in the register, so it never moves the start.
    """
    local = {n: None if (s := getattr(req, n)) is None else _local_date(s, tz) for n in OPTIONAL_STAMPS}
    if local["id_requested_at"] is not None:
        received_id = local["id_received_at"]
        if received_id is None:
            asked = _fmt(local["id_requested_at"])
            return (
                day0,
                0,
                f"{text}; identity information asked for {asked} has not arrived, so under UK GDPR Art. 12A the period has not started and nothing is due.",
                True,
            )
        if received_id > day0:
            day0 = received_id
            text += f"; the identity information asked for arrived {_fmt(day0)}, which starts the period (UK GDPR Art. 12A(2))"
    asked = local["clarification_requested_at"]
    if asked is None:
        return day0, 0, text, False
    if asked > unpaused_due:
        return (
            day0,
            0,
            f"{text}; clarification asked for {_fmt(asked)}, after the period ended, does not pause it",
            False,
        )
    answered = local["clarification_received_at"]
    if answered is None:
        return (
            day0,
            0,
            f"{text}; clarification asked for {_fmt(asked)} has not arrived: under UK GDPR Art. 12A(4) the period is paused, so nothing is due yet.",
            True,
        )
    pause = max(0, (answered - asked).days)
    return (
        day0,
        pause,
        f"{text}; paused {pause} days from the clarification request {_fmt(asked)} to its answer {_fmt(answered)} (UK GDPR Art. 12A(4))",
        False,
    )


def _pending_extension_status(notified: date | None, allowed: bool, reason: str | None) -> str:
    # Before the clock starts nothing is due, so a notice cannot be late; it can still be void.
    if notified is None:
        return "none"
    if not allowed:
        return "not_allowed"
    return "valid" if reason is not None else "no_reasons"


def compute_deadline(req: DsrRequest, rules: DsrRules) -> Deadline:
    """The deadline of one request under the rules table; independent of any as-of date.

    Raises ValueError for a jurisdiction, request type or status outside the contract.
    """
    _check_enums(req)
    juris = rules.jurisdictions[req.jurisdiction]
    cal, tz = juris.calendar, juris.calendar.timezone
    received = _local_date(req.received_at, tz)
    rule = rules.rule_for(req.jurisdiction, req.request_type)
    if rule is None:
        return _undated(
            req,
            None,
            "none",
            None,
            f"No rule in dsr_rules.yaml covers {req.request_type} requests in "
            f"{req.jurisdiction}: received {_fmt(received)} ({tz}), no deadline tracked.",
        )
    allowed = rule.extension > 0
    notified = None if req.extension_notified_at is None else _local_date(req.extension_notified_at, tz)
    ack_due, ack_text = _acknowledgement(received, rule, cal)
    day0, pause, text, waiting = _clock_start(req, rule, juris, received)
    if waiting:  # the clock has not started (or is paused): nothing is due yet, so no extension can be late
        status = _pending_extension_status(notified, allowed, req.extension_reason)
        return _undated(req, rule, status, ack_due, text + ack_text)

    due, how = _due(day0, rule.period, rule, cal, juris.period_end, pause)
    text += f"; {how}; due {_fmt(due)}."
    # The extension also counts from day 0 (1 + 2 months = day 0 + 3 months), then moves
    # to a working day under the same rule as the original period.
    extended, ext_how = (
        _due(day0, rule.period + rule.extension, rule, cal, juris.period_end, pause) if allowed else (None, "")
    )
    status, ext_text = _extension_outcome(notified, due, extended, ext_how, req.extension_reason)
    effective = extended if status == "valid" and extended is not None else due
    return Deadline(
        request_id=req.request_id,
        rule_id=rule.id,
        clock_start_date=day0,
        due_date=due,
        due_at=_end_of_local_day(due, tz),
        extension_allowed=allowed,
        extension_status=status,
        extended_due_date=extended,
        effective_due_date=effective,
        effective_due_at=_end_of_local_day(effective, tz),
        ack_due_date=ack_due,
        explanation=text + ext_text + ack_text,
    )


def _acknowledgement(received: date, rule: Rule, cal: Calendar) -> tuple[date | None, str]:
    """The acknowledgement due date (business days after receipt) and its sentence; (None, "") when none is due."""
    if rule.ack_business_days is None:
        return None, ""
    ack_due = _add_business_days(received, rule.ack_business_days, cal)
    skipped = _closed_days(received + timedelta(days=1), ack_due, cal, weekends=False)
    text = (
        f" Acknowledgement due {_fmt(ack_due)}: {rule.ack_business_days} business"
        f" days after receipt, skipping weekends and {_holiday_label(cal)} holidays"
        + (f": {_join(skipped)}." if skipped else ".")
    )
    return ack_due, text


def _clock_start(req: DsrRequest, rule: Rule, juris: JurisdictionConfig, received: date) -> tuple[date, int, str, bool]:
    """Day 0 of the period, the days it is paused, the explanation so far, and whether the clock is waiting
    (identity not yet verified where verification starts it, or a UK clarification not yet answered)."""
    tz = juris.calendar.timezone
    text = f"{rule.law}: received {_fmt(received)} ({tz})"
    day0 = received
    if juris.clock_start == "verified":
        if req.verified_at is None:
            return day0, 0, f"{text}; the clock starts at identity verification, not done yet, so nothing is due.", True
        day0 = _local_date(req.verified_at, tz)
        text += f"; identity verified {_fmt(day0)}, which starts the clock"
    if not juris.art_12a_clock:
        return day0, 0, text, False
    unpaused_due = _due(day0, rule.period, rule, juris.calendar, juris.period_end)[0]
    return _art_12a(req, tz, day0, text, unpaused_due)


def _extension_outcome(
    notified: date | None, due: date, extended: date | None, ext_how: str, reason: str | None
) -> tuple[str, str]:
    """The extension's status and its sentence: none notified, not allowed by the rule, late (after the
    original due date), void for lack of reasons, or valid (then the extended date governs)."""
    if notified is None:
        return "none", "" if extended is None else f" Extendable to {_fmt(extended)} if notified by {_fmt(due)}."
    if extended is None:
        return (
            "not_allowed",
            f" An extension was notified {_fmt(notified)}, but this rule allows none; it does not count.",
        )
    if notified > due:
        return "late", (
            f" Extension notified {_fmt(notified)}, after the original due date: late,"
            " not valid, so the original due date stands."
        )
    if reason is None:
        return "no_reasons", (
            f" Extension notified {_fmt(notified)} without reasons: void (the law requires the reasons"
            " with the notice), so the original due date stands."
        )
    return "valid", (
        f" Extension notified {_fmt(notified)}, by the original due date: valid; {ext_how}; due {_fmt(extended)}."
    )


# --- state as of a date ---------------------------------------------------------------


def _tz(req: DsrRequest, rules: DsrRules) -> str:
    return rules.jurisdictions[req.jurisdiction].calendar.timezone


def _closed_date(req: DsrRequest, rules: DsrRules) -> date | None:
    if req.status == "open" or req.completed_at is None:
        return None
    return _local_date(req.completed_at, _tz(req, rules))


def known_by(req: DsrRequest, day: date, rules: DsrRules) -> DsrRequest:
    """The request as its register stood at the end of local day `day`.

    Every timestamp whose local date is after `day` had not happened yet, so it is dropped;
    a request closed after `day` was still open then. A closure without a timestamp cannot
    be placed in time and stays as recorded (the controls then report the missing date).
    """
    tz = _tz(req, rules)
    kept = {
        name: stamp if stamp is not None and _local_date(stamp, tz) <= day else None
        for name in STAMPS
        for stamp in (getattr(req, name),)
    }
    status = req.status
    if status != "open" and req.completed_at is not None and kept["completed_at"] is None:
        status = "open"
    if kept == {name: getattr(req, name) for name in STAMPS} and status == req.status:
        return req
    return replace(req, status=status, **kept)


def transition_dates(req: DsrRequest, rules: DsrRules) -> list[date]:
    """The local dates on which the request's state can change: receipt, then each later stamp.

    A stamp dated before receipt (a bad row) takes effect on the day of receipt.
    """
    tz = _tz(req, rules)
    received = _local_date(req.received_at, tz)
    stamped = {_local_date(stamp, tz) for name in STAMPS if (stamp := getattr(req, name)) is not None}
    return sorted({received} | {day for day in stamped if day > received})


def request_state(req: DsrRequest, deadline: Deadline, as_of: date, rules: DsrRules) -> str:
    """Where the request stands at the end of local day `as_of`: one of STATES.

    The one definition of a request's state on a date is the model `queries/models/dsr_requests_as_of.sql`,
    which every control, dashboard page and notebook reads from the database; this runs it on this request
    alone (`_state_by_model`), so code without a database (the demo generator, the worked legal cases) gets
    the same answer. Only what had happened by `as_of` counts (`known_by`): the request's row is the
    `dsr_states` period valid on `as_of`, computed as ingestion computes it. `deadline` (the request's
    deadline as the register stands) is not read: the period row holds the deadline known on `as_of`.
    A request received after `as_of` is `not_yet_received` (the database has no row for it then).
    """
    if _local_date(req.received_at, _tz(req, rules)) > as_of:
        return "not_yet_received"
    return _state_by_model(req, _period_as_of(req, as_of, rules), as_of, rules.due_soon_days)


def request_states(reqs: Sequence[DsrRequest], as_of: date, rules: DsrRules) -> list[str]:
    """`request_state` of each request at the end of local day `as_of`, in order, by one run of the model
    over all of them (one query instead of one per request: 3,000 requests of the 100M demo took 94 s).

    The requests are numbered for the run (the model joins the period to the register row by request_id,
    so ids must be unique there); their own ids, possibly repeated or placeholders, are not read.
    """
    states: list[str] = ["not_yet_received"] * len(reqs)
    registers: list[dict[str, object]] = []
    periods: list[dict[str, object]] = []
    for position, req in enumerate(reqs):
        if _local_date(req.received_at, _tz(req, rules)) > as_of:
            continue
        numbered = replace(req, request_id=str(position))
        register, period = _model_rows(numbered, _period_as_of(numbered, as_of, rules))
        registers.append(register)
        periods.append(period)
    if registers:
        for row in _run_model(registers, periods, as_of, rules.due_soon_days):
            states[int(row[0])] = str(row[-1])  # the model's first column is request_id, its last the state
    return states


def _period_as_of(req: DsrRequest, as_of: date, rules: DsrRules) -> dict[str, object]:
    """The request's `dsr_states` period valid on `as_of`, as ingestion computes it."""
    return _frame_values(known_by(req, as_of, rules), rules) | {"valid_from": as_of, "valid_to": None}


_MODEL_DB = threading.local()  # one in-memory DuckDB per thread, reused


def _naive_utc(value: object) -> object:
    """A datetime as ingestion stores it (compliance.ingest.derive): UTC without a zone."""
    return _utc(value).replace(tzinfo=None) if isinstance(value, datetime) else value


def _state_by_model(req: DsrRequest, period: dict[str, object], as_of: date, due_soon_days: int) -> str:
    """The state the model dsr_requests_as_of gives one request's `dsr_states` period on `as_of`."""
    register, states = _model_rows(req, period)
    return str(_run_model([register], [states], as_of, due_soon_days)[0][-1])  # the model's last column


def _model_db() -> threading.local:
    """This thread's in-memory DuckDB with the model's SQL and the Arrow schema of its `dsr_states` table."""
    import duckdb
    import pyarrow as pa

    from compliance.queries import get_query

    if getattr(_MODEL_DB, "con", None) is None:
        arrow = {"String": pa.string(), "Date": pa.date32(), "Datetime": pa.timestamp("us"), "Boolean": pa.bool_(),
                 "Int32": pa.int32()}  # fmt: skip
        schema = frame_schema(timeline=True)
        _MODEL_DB.states = pa.schema([(n, arrow[type(t).__name__]) for n, t in schema.items()])
        _MODEL_DB.model = get_query("dsr_requests_as_of")
        _MODEL_DB.con = duckdb.connect()
    return _MODEL_DB


def _model_rows(req: DsrRequest, period: dict[str, object]) -> tuple[dict[str, object], dict[str, object]]:
    """A request's rows of the model's two tables, `dsr_requests` (the register fields the model reads) and
    `dsr_states` (its period), with datetimes as ingestion stores them."""
    register = {"request_id": req.request_id, "subject_id": None, "channel": None, "status_reason": None,
                "extension_reason": req.extension_reason, "received_at": req.received_at,
                "completed_at": period["closed_at"]}  # fmt: skip
    states = {name: _naive_utc(period[name]) for name in _model_db().states.names}
    return {k: _naive_utc(v) for k, v in register.items()}, states


def _run_model(
    registers: list[dict[str, object]], periods: list[dict[str, object]], as_of: date, due_soon_days: int
) -> list[tuple[object, ...]]:
    """The rows of the model dsr_requests_as_of over these register rows and `dsr_states` periods."""
    import pyarrow as pa

    from compliance.queries import bind

    db = _model_db()
    con, model = db.con, db.model
    # Registered on this connection, where the model then runs, under the names of the tables it reads.
    con.register("dsr_states", pa.Table.from_pylist(periods, schema=db.states))
    con.register("dsr_requests", pa.Table.from_pylist(registers))
    return con.execute(model.sql, bind(model, {"as_of": as_of, "dsr_due_soon_days": due_soon_days})).fetchall()


def closed_late(req: DsrRequest, deadline: Deadline, rules: DsrRules) -> bool | None:
    """Whether the answer (a completion or a refusal) came after the effective due date.

    None while open, for a withdrawn request (nothing is owed, so it is never late), and
    without a due date or a closure timestamp.
    """
    closed = _closed_date(req, rules)
    if req.status == "withdrawn" or closed is None or deadline.effective_due_date is None:
        return None
    return closed > deadline.effective_due_date


def ack_late(req: DsrRequest, deadline: Deadline, as_of: date, rules: DsrRules) -> bool | None:
    """Whether the acknowledgement is late as of `as_of`; None if the rule requires none.

    Late when acknowledged after the ack due date, or not acknowledged and `as_of` is past
    it. A request closed by the ack due date needs none: CCPA regs §7021(a) exempt
    requests already granted or denied.
    """
    ack_due = deadline.ack_due_date
    if ack_due is None:
        return None
    if req.acknowledged_at is not None:
        return _local_date(req.acknowledged_at, _tz(req, rules)) > ack_due
    closed = _closed_date(req, rules)
    if closed is not None and closed <= ack_due:
        return False
    return as_of > ack_due


def turnaround_days(req: DsrRequest, rules: DsrRules) -> int | None:
    """Local calendar days from receipt to completion or closure; None while open."""
    closed = _closed_date(req, rules)
    if closed is None:
        return None
    return (closed - _local_date(req.received_at, _tz(req, rules))).days


# --- the table written at ingest ------------------------------------------------------


def frame_schema(timeline: bool = False) -> dict[str, pl.DataType]:
    """Column names and dtypes of `deadlines_frame` (the `dsr_deadlines` table), or with
    `timeline` of `states_frame` (the `dsr_states` table: `valid_from`, `valid_to` first)."""
    import polars as pl

    ts = pl.Datetime("us", "UTC")
    validity = {"valid_from": pl.Date(), "valid_to": pl.Date()} if timeline else {}
    return {
        "request_id": pl.String(),
        **validity,
        "jurisdiction": pl.String(),
        "request_type": pl.String(),
        "status": pl.String(),
        "rule_id": pl.String(),
        "timezone": pl.String(),
        "received_date": pl.Date(),
        "clock_start_date": pl.Date(),
        "due_date": pl.Date(),
        "due_at": ts,
        "extension_allowed": pl.Boolean(),
        "extension_status": pl.String(),
        "extended_due_date": pl.Date(),
        "effective_due_date": pl.Date(),
        "effective_due_at": ts,
        "ack_due_date": pl.Date(),
        "acknowledged_date": pl.Date(),
        "ack_late": pl.Boolean(),
        "closed_date": pl.Date(),
        "closed_late": pl.Boolean(),
        "turnaround_days": pl.Int32(),
        "explanation": pl.String(),
        "extension_notified_date": pl.Date(),
        "acknowledged_at": ts,
        "verified_at": ts,
        "extension_notified_at": ts,
        "closed_at": ts,
        **dict.fromkeys(OPTIONAL_STAMPS, ts),
    }


def _frame_values(req: DsrRequest, rules: DsrRules, dl: Deadline | None = None) -> dict[str, object]:
    """One request's row of the deadline tables, from the timestamps `req` holds (`dl`: its
    deadline when already computed)."""
    dl = dl or compute_deadline(req, rules)
    tz = _tz(req, rules)
    received = _local_date(req.received_at, tz)
    closed = _closed_date(req, rules)
    late_ack = None
    if req.acknowledged_at is not None or closed is not None:
        # Settled: judged at closure if never acknowledged (as_of is then irrelevant).
        late_ack = ack_late(req, dl, closed or received, rules)
    notified = req.extension_notified_at
    return {
        "request_id": req.request_id,
        "jurisdiction": req.jurisdiction,
        "request_type": req.request_type,
        "status": req.status,
        "rule_id": dl.rule_id,
        "timezone": tz,
        "received_date": received,
        "clock_start_date": dl.clock_start_date,
        "due_date": dl.due_date,
        "due_at": dl.due_at,
        "extension_allowed": dl.extension_allowed,
        "extension_status": dl.extension_status,
        "extended_due_date": dl.extended_due_date,
        "effective_due_date": dl.effective_due_date,
        "effective_due_at": dl.effective_due_at,
        "ack_due_date": dl.ack_due_date,
        "acknowledged_date": None if req.acknowledged_at is None else _local_date(req.acknowledged_at, tz),
        "ack_late": late_ack,
        "closed_date": closed,
        "closed_late": closed_late(req, dl, rules),
        "turnaround_days": turnaround_days(req, rules),
        "explanation": dl.explanation,
        "extension_notified_date": None if notified is None else _local_date(notified, tz),
        "acknowledged_at": _utc(req.acknowledged_at),
        "verified_at": _utc(req.verified_at),
        "extension_notified_at": _utc(notified),
        "closed_at": _utc(req.completed_at) if closed is not None else None,
        **{name: _utc(getattr(req, name)) for name in OPTIONAL_STAMPS},
    }


def _utc(stamp: datetime | None) -> datetime | None:
    if stamp is None:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def _to_frame(values: Iterable[dict[str, object]], timeline: bool) -> pl.DataFrame:
    import polars as pl  # here, so the engine itself does not need polars

    schema = frame_schema(timeline)
    columns: dict[str, list[object]] = {name: [] for name in schema}
    for row in values:
        for name in schema:
            columns[name].append(row[name])
    return pl.DataFrame(columns, schema=schema)


def deadlines_frame(rows: Iterable[Mapping[str, object]], rules: DsrRules) -> pl.DataFrame:
    """One row per request with its deadline as the register stands: the `dsr_deadlines` table.

    Dates are local to `timezone`; `*_at` columns are UTC. For a state as of a past date,
    read `states_frame` instead: this table knows what happened after it.
    """
    return _to_frame((_frame_values(DsrRequest.from_row(row), rules) for row in rows), timeline=False)


def states_frame(rows: Iterable[Mapping[str, object]], rules: DsrRules) -> pl.DataFrame:
    """Each request's history: one row per period in which what was known stayed the same.

    A row holds the `deadlines_frame` columns computed from the timestamps up to
    `valid_from` (`known_by`), valid for as-of dates in [valid_from, valid_to); the last
    row's `valid_to` is null. So the state as of D is the row with
    `valid_from <= D and (valid_to is null or valid_to > D)`; a request received after D
    has no such row. Within it, an open request with `D > effective_due_date` is overdue and
    `coalesce(ack_late, D > ack_due_date)` is a late acknowledgement.
    """

    def periods() -> Iterable[dict[str, object]]:
        for row in rows:
            req = DsrRequest.from_row(row)
            days = transition_dates(req, rules)
            last_key: tuple[object, ...] | None = None
            last_deadline: Deadline | None = None
            for start, end in zip(days, [*days[1:], None], strict=True):
                known = known_by(req, start, rules)
                # The deadline depends on these stamps only: an acknowledgement or a completion
                # changes the state, not the due date, so it is not recomputed for them.
                key = tuple(getattr(known, n) for n in DEADLINE_STAMPS)
                if key != last_key:
                    last_key, last_deadline = key, compute_deadline(known, rules)
                values = _frame_values(known, rules, last_deadline)
                yield {**values, "valid_from": start, "valid_to": end}

    return _to_frame(periods(), timeline=True)
