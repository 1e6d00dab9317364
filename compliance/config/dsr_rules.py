"""The DSR deadline rules table (`data/policy/dsr_rules.yaml`): models and loader.

Per jurisdiction the file gives the business calendar and the clock start; per rule, the
(jurisdiction, request type) pairs it covers, the period and any extension. The legal
reasoning lives as comments in the YAML; this module guarantees the table is well formed,
so the deadline engine (`compliance.deadlines`) never has to guess.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from compliance.config.base import StrictModel, load_model
from compliance.paths import POLICY_DIR
from compliance.schema import JURISDICTIONS, REQUEST_TYPES  # the contract's enums (section 1.4)

DEFAULT_PATH = POLICY_DIR / "dsr_rules.yaml"

STATUSES: tuple[str, ...] = ("open", "completed", "rejected", "withdrawn")

# `verified`: the period runs from identity verification instead of receipt (UK option).
ClockStart = Literal["received", "verified"]
Unit = Literal["calendar_days", "business_days", "calendar_months"]


def _must_be_known(kind: str, value: str, known: tuple[str, ...]) -> str:
    # Own message rather than Literal's, so the file's reader sees "unknown jurisdiction" and the valid values.
    if value not in known:
        raise PydanticCustomError(
            "unknown_value",
            "unknown {kind} '{value}'; expected one of: {known}",
            {"kind": kind, "value": value, "known": ", ".join(known)},
        )
    return value


def _known(kind: str, known: tuple[str, ...]) -> AfterValidator:
    return AfterValidator(lambda value: _must_be_known(kind, value, known))


JurisdictionCode = Annotated[str, _known("jurisdiction", JURISDICTIONS)]
RequestTypeCode = Annotated[str, _known("request type", REQUEST_TYPES)]


def _count(value: int, minimum: int) -> int:
    # "must not be negative" reads better in a policy file than "greater than or equal".
    if value < 0:
        raise PydanticCustomError("negative", "must not be negative (got {value})", {"value": value})
    if value < minimum:
        raise PydanticCustomError(
            "too_small",
            "must be at least {minimum} (got {value})",
            {"minimum": minimum, "value": value},
        )
    return value


def _at_least(minimum: int) -> AfterValidator:
    return AfterValidator(lambda value: _count(value, minimum))


Count = Annotated[int, _at_least(0)]  # a number of days or units that may be 0
PositiveCount = Annotated[int, _at_least(1)]


@lru_cache(maxsize=1)
def _holiday_countries() -> dict[str, tuple[str, ...]]:
    return {c: tuple(s) for c, s in holidays.list_supported_countries().items()}


class HolidaySpec(StrictModel):
    """A statutory holiday the `holidays` package lacks: a fixed date (`month`, `day`) or the
    `nth` (1..5, -1 = last) `weekday` (0 = Monday) of `month`. `source` cites the statute."""

    name: str = Field(min_length=1)
    month: int = Field(ge=1, le=12)
    day: int | None = Field(default=None, ge=1, le=31)
    weekday: int | None = Field(default=None, ge=0, le=6)
    nth: int | None = Field(default=None, ge=-1, le=5)
    source: str = Field(min_length=1)

    @field_validator("nth")
    @classmethod
    def _one_form(cls, value: int | None, info: ValidationInfo) -> int | None:
        fixed = info.data.get("day") is not None
        floating = info.data.get("weekday") is not None and value not in (None, 0)
        if fixed == floating:
            raise PydanticCustomError("holiday_form", "give either day, or weekday and nth (not 0)", {})
        return value

    def date_in(self, year: int) -> date:
        if self.day is not None:
            return date(year, self.month, self.day)
        days = [
            date(year, self.month, d)
            for d in range(1, monthrange(year, self.month)[1] + 1)
            if date(year, self.month, d).weekday() == self.weekday
        ]
        return days[-1] if self.nth == -1 else days[(self.nth or 1) - 1]


class Calendar(StrictModel):
    """A business calendar: `holidays` package public holidays and a reference time zone.

    `country` is an ISO 3166-1 alpha-2 code the holidays package knows, `subdiv` one of its
    subdivisions (ENG, NSW, CA...), `timezone` the IANA zone that decides local dates.
    `extra_holidays` adds statutory holidays the package lacks; `not_holidays` names package
    holidays the law does not count.
    """

    country: str
    subdiv: str | None = None
    timezone: str
    extra_holidays: tuple[HolidaySpec, ...] = ()
    not_holidays: tuple[str, ...] = ()

    @field_validator("country")
    @classmethod
    def _country_known(cls, value: str) -> str:
        if value not in _holiday_countries():
            raise PydanticCustomError(
                "unknown_country",
                "unknown holidays country '{value}'",
                {"value": value},
            )
        return value

    @field_validator("subdiv")
    @classmethod
    def _subdiv_known(cls, value: str | None, info: ValidationInfo) -> str | None:
        # `country` is absent from info.data when it failed its own validation.
        country = info.data.get("country")
        if value is None or country is None:
            return value
        return _must_be_known(f"holidays subdivision of {country}", value, _holiday_countries()[country])

    @field_validator("timezone")
    @classmethod
    def _timezone_valid(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "invalid_timezone",
                "'{value}' is not a valid IANA time zone",
                {"value": value},
            ) from None
        return value


class PeriodEnd(StrictModel):
    """The jurisdiction's computation-of-time rule for a period's last day.

    `roll_to_next_working_day`: a period ending on a Saturday, Sunday or holiday runs to the
    next day that is none; `not_holidays` are calendar holidays that do not count for it;
    `source` cites the statute.
    """

    roll_to_next_working_day: bool = False
    not_holidays: tuple[str, ...] = ()
    source: str = Field(min_length=1)


class JurisdictionConfig(StrictModel):
    calendar: Calendar
    clock_start: ClockStart = "received"
    period_end: PeriodEnd | None = None
    # UK GDPR Art. 12A: the period starts once requested identity information arrives and pauses
    # while requested clarification is awaited (the optional `id_*`, `clarification_*` fields).
    art_12a_clock: bool = False


class Rule(StrictModel):
    """One deadline rule.

    `period` units of `unit` from day 0; `extension` further units (0 = none) if the
    subject is told by the original due date; `roll_to_next_working_day` moves a due date
    off weekends and holidays; `ack_business_days` sets an acknowledgement deadline.
    `law` is the citation quoted in every explanation.
    """

    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    law: str = Field(min_length=1)
    jurisdictions: tuple[JurisdictionCode, ...] = Field(min_length=1)
    request_types: tuple[RequestTypeCode, ...] = Field(min_length=1)
    period: PositiveCount
    unit: Unit
    extension: Count = 0
    roll_to_next_working_day: bool = False
    ack_business_days: PositiveCount | None = None


class DsrRules(StrictModel):
    """The whole rules table.

    Every contract jurisdiction needs a calendar, even one without rules: the local date
    of receipt (and so turnaround) is computed for every request.
    """

    due_soon_days: Count = 7
    jurisdictions: dict[JurisdictionCode, JurisdictionConfig]
    rules: tuple[Rule, ...]

    @field_validator("jurisdictions")
    @classmethod
    def _all_have_calendars(cls, value: dict[str, JurisdictionConfig]) -> dict[str, JurisdictionConfig]:
        missing = [j for j in JURISDICTIONS if j not in value]
        if missing:
            raise PydanticCustomError(
                "missing_calendar",
                "no calendar for jurisdiction(s) {missing}; every jurisdiction needs one",
                {"missing": ", ".join(missing)},
            )
        return value

    @field_validator("rules")
    @classmethod
    def _no_overlap(cls, value: tuple[Rule, ...]) -> tuple[Rule, ...]:
        # Two rules for one pair would make the deadline depend on file order.
        owner: dict[tuple[str, str], str] = {}
        for rule in value:
            if rule.id in owner.values():
                raise PydanticCustomError("duplicate_rule", "duplicate rule id '{id}'", {"id": rule.id})
            for pair in ((j, t) for j in rule.jurisdictions for t in rule.request_types):
                if pair in owner:
                    raise PydanticCustomError(
                        "overlapping_rules",
                        "rules '{a}' and '{b}' both cover {t} requests in {j}",
                        {"a": owner[pair], "b": rule.id, "j": pair[0], "t": pair[1]},
                    )
                owner[pair] = rule.id
        return value

    def rule_for(self, jurisdiction: str, request_type: str) -> Rule | None:
        """The rule covering this pair, or None: then no deadline is tracked."""
        for rule in self.rules:
            if jurisdiction in rule.jurisdictions and request_type in rule.request_types:
                return rule
        return None


def load_dsr_rules(path: Path | None = None) -> DsrRules:
    """Load and validate the rules table (default: the repo's data/policy/dsr_rules.yaml).

    Raises PolicyError naming the file, the key path and the problem.
    """
    return load_model(path or DEFAULT_PATH, DsrRules)
