"""The DSR register: a few hundred requests that are answered comfortably on time, plus the planted
late, overdue and mishandled ones. The normal requests are shaped with `compliance.deadlines` so they
stay comfortably on time; the planted ones' deadlines, which the ground truth states, are worked by
hand from the law in PLANTED_REQUESTS, never by the engine the controls use (that would be circular).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np

from compliance.config.dsr_rules import DsrRules
from compliance.deadlines import DsrRequest, compute_deadline, request_states
from compliance.demo.clock import AS_OF, STREAM_DSR, day_of, local_dt, ms_of, rfc3339, rng_for
from compliance.demo.tenants import NEVER, World
from compliance.demo.truth import Truth

TYPE_MIX = {
    "EU": {"access": 40, "delete": 30, "correct": 10, "restrict": 5, "object": 10, "portability": 5},
    "UK": {"access": 45, "delete": 30, "correct": 10, "restrict": 5, "object": 5, "portability": 5},
    "AU": {"access": 60, "correct": 25, "delete": 15},
    "US-CA": {
        "access": 30,
        "delete": 35,
        "correct": 5,
        "portability": 5,
        "opt_out_sale_share": 20,
        "limit_sensitive": 5,
    },
}
US_STATE_MIX = {"access": 35, "delete": 35, "correct": 5, "portability": 5, "opt_out_sale_share": 20}
NO_VERIFICATION = ("opt_out_sale_share", "limit_sensitive")  # CCPA §7026/7027: no identity check allowed
CHANNELS = ("email", "webform", "in_app", "support")
OK_STATES = ("on_track", "completed_on_time", "rejected", "withdrawn")
HISTORY_START = date(2024, 7, 1)
OPEN_FROM = date(2025, 12, 20)  # requests received from here on are still being worked on


@dataclass(frozen=True)
class PlantedDeadline:
    """A planted request's deadline worked by hand from the rule (data/policy/dsr_rules.yaml cites the law)."""

    due: date  # the original due date
    extension: str  # none | not_allowed | late | no_reasons: the original date governs (no valid extension)
    effective_due_at: datetime  # the end of the effective due date in the jurisdiction's zone, in UTC
    ack_due: date | None = None  # the acknowledgement due date, where the rule sets one

    def __post_init__(self) -> None:
        if self.extension == "valid":  # it would move the effective date, which this record does not state
            raise ValueError("a planted deadline with a valid extension needs its extended date stated")

    @property
    def effective_due(self) -> date:
        """The date that governs: the original one, as no extension here is valid."""
        return self.due


def _utc(year: int, month: int, day: int, hour: int) -> datetime:
    """hh:59:59.999999 UTC, the last instant of a local day (the contract's due instant)."""
    return datetime(year, month, day, hour, 59, 59, 999999, tzinfo=UTC)


LocalTime = tuple[date, float | None]  # a local date and hour in the request's zone; None: a drawn working hour


@dataclass(frozen=True)
class PlantedRequest:
    """A planted request: local times in its jurisdiction's zone, completed when `completed` is set (else
    still open), and the deadline counted by hand from those local dates in the rule's zone."""

    jurisdictions: tuple[str, ...]  # the first is its own; several: a subject of any of these states
    request_type: str
    received: LocalTime
    acknowledged: LocalTime | None = None  # default: 20 hours after receipt
    extension: LocalTime | None = None
    completed: LocalTime | None = None
    subject_type: int | None = None
    timezone: str | None = None  # default: the first jurisdiction's
    deadline: PlantedDeadline | None = None  # None: the story is not about its deadline


PLANTED_REQUESTS = {
    # GDPR Art. 12(3), one month: 31 Oct + 1 month has no 31 Nov, so it ends 30 Nov (Reg. 1182/71
    # Art. 3(2)(c)), a Sunday: moved to Mon 1 Dec (Art. 3(4)). Dublin is on UTC in December. Still open.
    "overdue_month_end": PlantedRequest(
        ("EU",),
        "access",
        (date(2025, 10, 31), 10.25),
        deadline=PlantedDeadline(date(2025, 12, 1), "none", _utc(2025, 12, 1, 23)),
    ),
    # Colorado, 45 days from Mon 20 Oct: Thu 4 Dec; the extension told 10 Dec came after it (late), so
    # the original date stands, and it has passed. Denver is UTC-7 in December.
    "overdue_late_extension": PlantedRequest(
        ("US-CO",),
        "delete",
        (date(2025, 10, 20), 9.5),
        extension=(date(2025, 12, 10), 11.0),
        deadline=PlantedDeadline(date(2025, 12, 4), "late", _utc(2025, 12, 5, 6)),
    ),
    # APP 12.4, 30 days from Mon 10 Nov: Wed 10 Dec. Sydney is UTC+11 (daylight time) in December.
    "overdue_plain": PlantedRequest(
        ("AU",),
        "access",
        (date(2025, 11, 10), 14.0),
        deadline=PlantedDeadline(date(2025, 12, 10), "none", _utc(2025, 12, 10, 12)),
    ),
    # CCPA, 45 days from Thu 20 Nov: Sun 4 Jan 2026, a holiday (Cal. Civ. Code §7), so Mon 5 Jan (§12a).
    # Los Angeles is UTC-8 in January.
    "due_soon_ca": PlantedRequest(
        ("US-CA",),
        "access",
        (date(2025, 11, 20), 10.0),
        deadline=PlantedDeadline(date(2026, 1, 5), "none", _utc(2026, 1, 6, 7)),
    ),
    # GDPR, one month from Fri 5 Dec: Mon 5 Jan 2026, a working day in Ireland.
    "due_soon_eu": PlantedRequest(
        ("EU",),
        "correct",
        (date(2025, 12, 5), 15.0),
        deadline=PlantedDeadline(date(2026, 1, 5), "none", _utc(2026, 1, 5, 23)),
    ),
    # GDPR, one month from Fri 31 Jan: 31 Feb does not exist, so Fri 28 Feb (answered Mon 3 Mar: late).
    "completed_late_gdpr": PlantedRequest(
        ("EU",),
        "access",
        (date(2025, 1, 31), 11.0),
        completed=(date(2025, 3, 3), 16.0),
        deadline=PlantedDeadline(date(2025, 2, 28), "none", _utc(2025, 2, 28, 23)),
    ),
    # CCPA, 45 days from Mon 7 Apr: Thu 22 May (answered 30 May: late). Los Angeles is UTC-7 in May.
    "completed_late_ccpa": PlantedRequest(
        ("US-CA",),
        "delete",
        (date(2025, 4, 7), 9.0),
        completed=(date(2025, 5, 30), 15.0),
        deadline=PlantedDeadline(date(2025, 5, 22), "none", _utc(2025, 5, 23, 6)),
    ),
    # APP 12.4, 30 days from Mon 3 Mar: Wed 2 Apr; the AU rule allows no extension, so the one told
    # 20 Mar does not count (answered within the 30 days anyway). Sydney is UTC+11 until 6 Apr.
    "extension_not_allowed_au": PlantedRequest(
        ("AU",),
        "access",
        (date(2025, 3, 3), None),
        extension=(date(2025, 3, 20), 10.0),
        completed=(date(2025, 3, 28), 15.0),
        deadline=PlantedDeadline(date(2025, 4, 2), "not_allowed", _utc(2025, 4, 2, 12)),
    ),
    # GDPR, one month from Tue 6 May: Fri 6 Jun; the extension told 20 Jun came after it (late), so
    # 6 Jun stands (answered 15 Jul: late). Dublin is UTC+1 in summer.
    "extension_late_eu": PlantedRequest(
        ("EU",),
        "access",
        (date(2025, 5, 6), 10.0),
        extension=(date(2025, 6, 20), 10.0),
        completed=(date(2025, 7, 15), 15.0),
        deadline=PlantedDeadline(date(2025, 6, 6), "late", _utc(2025, 6, 6, 22)),
    ),
    # CCPA regs §7021(a), 10 business days from Tue 1 Jul, skipping Fri 4 Jul (Independence Day):
    # 2, 3, 7-11, 14, 15, 16 Jul, so Wed 16 Jul (acknowledged 22 Jul: late). The 45 days end Fri 15 Aug.
    "ack_late_ca": PlantedRequest(
        ("US-CA",),
        "access",
        (date(2025, 7, 1), 9.0),
        acknowledged=(date(2025, 7, 22), 10.0),
        completed=(date(2025, 8, 5), 14.0),
        deadline=PlantedDeadline(date(2025, 8, 15), "none", _utc(2025, 8, 16, 6), ack_due=date(2025, 7, 16)),
    ),
    # The erasure stories: what happens to the subject's data after the request, not its deadline.
    "erased_then_read": PlantedRequest(
        ("US-TX",), "delete", (date(2025, 5, 20), 9.0), completed=(date(2025, 6, 10), 15.0), subject_type=1
    ),
    "erased_then_tracked": PlantedRequest(
        ("US-OTHER", "US-TX", "US-VA"),
        "delete",
        (date(2025, 7, 28), 9.0),
        completed=(date(2025, 8, 5), 15.0),
        subject_type=0,
        timezone="America/New_York",
    ),
    "erasure_incomplete": PlantedRequest(
        ("US-OTHER", "US-VA", "US-CT"),
        "delete",
        (date(2025, 8, 25), 9.0),
        completed=(date(2025, 9, 15), 15.0),
        subject_type=1,
        timezone="America/New_York",
    ),
}
PLANTED_DEADLINES = {key: r.deadline for key, r in PLANTED_REQUESTS.items() if r.deadline is not None}


@dataclass
class Request:
    subject: int
    jurisdiction: str
    request_type: str
    channel: str
    received: datetime
    acknowledged: datetime | None
    verified: datetime | None
    extension: datetime | None
    extension_reason: str | None
    completed: datetime | None
    status: str
    status_reason: str | None
    request_id: str = ""
    planted: str | None = None

    def as_request(self) -> DsrRequest:
        return DsrRequest(
            self.request_id or "x",
            self.jurisdiction,
            self.request_type,
            self.status,
            self.received,
            self.acknowledged,
            self.verified,
            self.extension,
            self.completed,
            extension_reason=self.extension_reason,
        )

    def row(self, world: World) -> dict[str, str | None]:
        return {
            "request_id": self.request_id,
            "subject_id": world.subject_ids[self.subject],
            "jurisdiction": self.jurisdiction,
            "request_type": self.request_type,
            "channel": self.channel,
            "received_at": rfc3339(self.received),
            "acknowledged_at": rfc3339(self.acknowledged),
            "verified_at": rfc3339(self.verified),
            "extension_notified_at": rfc3339(self.extension),
            "extension_reason": self.extension_reason,
            "completed_at": rfc3339(self.completed),
            "status": self.status,
            "status_reason": self.status_reason,
        }


@dataclass
class Register:
    requests: list[Request]
    # subject index -> epoch ms when their delete request completed (normal and planted)
    erasures: dict[int, int] = field(default_factory=dict)
    planted: dict[str, Request] = field(default_factory=dict)

    def rows(self, world: World) -> list[dict[str, str | None]]:
        return [r.row(world) for r in self.requests]


class _Builder:
    def __init__(self, seed: int, world: World, rules: DsrRules) -> None:
        self.rng = rng_for(seed, STREAM_DSR)
        self.world = world
        self.rules = rules

    def tz(self, jurisdiction: str) -> str:
        return self.rules.jurisdictions[jurisdiction].calendar.timezone

    def at(self, jurisdiction: str, d: date, lo: float = 8.5, hi: float = 17.5) -> datetime:
        hour = float(self.rng.uniform(lo, hi))
        return local_dt(d, round(hour * 60) / 60, self.tz(jurisdiction))

    def states(self, reqs: list[Request]) -> list[str]:
        return request_states([r.as_request() for r in reqs], AS_OF, self.rules)

    def normal(self, subject: int, received_day: date) -> tuple[Request, tuple[str, ...]] | None:
        """A drawn request for `subject`, with the states as of AS_OF it must be in to be kept (the caller
        checks them, many requests at a time); None when it cannot be placed at all."""
        rng, w = self.rng, self.world
        j = w.subject_jurisdiction[subject]
        mix = TYPE_MIX.get(j, US_STATE_MIX)
        kinds = list(mix)
        rtype = kinds[rng.choice(len(kinds), p=np.array(list(mix.values())) / sum(mix.values()))]
        received = self.at(j, received_day, 7.0, 21.0)
        ack = received + timedelta(hours=float(rng.uniform(1, 30)))
        verified = None if rtype in NO_VERIFICATION else ack + timedelta(hours=float(rng.uniform(2, 96)))
        req = Request(
            subject,
            j,
            rtype,
            CHANNELS[rng.integers(len(CHANNELS))],
            received,
            ack,
            verified,
            None,
            None,
            None,
            "open",
            None,
        )
        now = local_dt(AS_OF, 23.0, "UTC")
        if received_day >= OPEN_FROM:
            if ack > now:
                req.acknowledged = None
            if verified is not None and verified > now:
                req.verified = None
            return req, ("on_track",)
        deadline = compute_deadline(req.as_request(), self.rules)
        if deadline.due_date is None:
            return None
        roll = rng.random()
        if roll < 0.08:
            req.status, req.status_reason, req.verified = "rejected", "identity could not be verified", None
        elif roll < 0.15:
            req.status, req.status_reason = "withdrawn", "withdrawn by the requester"
        else:
            req.status, req.status_reason = "completed", "fulfilled"
        first = max(req.acknowledged or received, req.verified or received).date() + timedelta(days=1)
        last = deadline.due_date - timedelta(days=2)
        if req.status == "completed" and deadline.extension_allowed and rng.random() < 0.1 and j not in ("AU",):
            # A valid extension: told in the first period, answered well before the extended date.
            ext_day = received.date() + timedelta(days=int(rng.integers(10, max((last - received.date()).days, 11))))
            ext_day = min(ext_day, last)
            req.extension = self.at(j, ext_day)
            req.extension_reason = "complexity: records held in several systems"
            extended = compute_deadline(req.as_request(), self.rules).effective_due_date
            if extended is not None:
                first, last = max(first, deadline.due_date + timedelta(days=1)), extended - timedelta(days=5)
        if last < first:
            last = first
        done_day = first + timedelta(days=int(rng.integers(0, (last - first).days + 1)))
        if req.status != "completed":
            done_day = min(done_day, first + timedelta(days=20))
        req.completed = self.at(j, done_day)
        if req.completed > now:
            return None
        return req, OK_STATES


def _eligible(world: World, day: int, rng: np.random.Generator, want: int, mask: np.ndarray) -> int:
    """A subject that exists well before `day` and whose tenant stays a customer well after it."""
    ok = np.nonzero(
        mask & (world.subject_created_day < day - 30) & (world.tenant_end_day[world.subject_tenant] > day + 150)
    )[0]
    return int(ok[rng.integers(len(ok))]) if len(ok) else want


@dataclass
class _Candidate:
    """A drawn request kept provisionally until its state is checked, and how to undo keeping it."""

    request: Request
    wanted: tuple[str, ...]  # the states it may be in as of AS_OF
    attempts: int  # the attempt count after drawing it
    rng_after: dict[str, object]  # the generator's state after drawing it


# Requests drawn before their states are checked in one query. A rejection (none at seed 7) discards the
# candidates drawn after it and draws them again, so a batch bounds the work a rejection repeats.
STATE_BATCH = 500


def build_register(seed: int, world: World, rules: DsrRules, n: int, truth: Truth) -> Register:
    b = _Builder(seed, world, rules)
    rng = b.rng
    used = np.zeros(world.n_subjects, dtype=bool)
    boost = np.array([1.6 if j in ("EU", "US-CA") else 1.0 for j in world.subject_jurisdiction])
    tenant_end = world.tenant_end_day[world.subject_tenant]
    requests: list[Request] = []
    pending: list[_Candidate] = []
    span = (AS_OF - HISTORY_START).days + 1
    attempts = 0
    while True:
        while len(requests) + len(pending) < n and attempts < n * 5 and len(pending) < STATE_BATCH:
            attempts += 1
            d = HISTORY_START + timedelta(days=int(rng.integers(0, span)))
            day = day_of(d)
            idx = np.nonzero((~used) & (world.subject_created_day < day - 14) & (tenant_end > day + 150))[0]
            if not len(idx):
                continue
            weight = boost[idx]
            s = int(rng.choice(idx, p=weight / weight.sum()))
            drawn = b.normal(s, d)
            if drawn is not None:
                used[s] = True
                pending.append(_Candidate(*drawn, attempts, rng.bit_generator.state))
        if not pending:
            break
        kept = _keep_checked(b, pending, used)
        requests.extend(c.request for c in pending[:kept])
        if kept < len(pending):
            # As if the rejected one had never been kept: later draws see its subject free again.
            attempts, rng.bit_generator.state = pending[kept].attempts, pending[kept].rng_after
        pending = []

    planted = _planted(b, used, truth)
    requests.extend(planted.values())
    requests.sort(key=lambda r: (r.received, r.subject))
    counters: dict[int, int] = {}
    for r in requests:
        y = r.received.year
        counters[y] = counters.get(y, 0) + 1
        r.request_id = f"DSR-{y}-{counters[y]:05d}"
    reg = Register(requests, planted={k: v for k, v in planted.items()})
    for r in requests:
        if r.request_type == "delete" and r.status == "completed" and r.completed is not None:
            reg.erasures[r.subject] = ms_of(r.completed)
            world.subject_erased_day[r.subject] = day_of(r.completed.date())
    _truth(b, reg, truth)
    return reg


def _keep_checked(b: _Builder, pending: list[_Candidate], used: np.ndarray) -> int:
    """How many of the pending candidates, in order, are kept: all up to the first whose state as of
    AS_OF is not one it must be in. That one and all after it are released (their subjects unused)."""
    states = b.states([c.request for c in pending])
    kept = next((i for i, (c, state) in enumerate(zip(pending, states, strict=True)) if state not in c.wanted), None)
    if kept is None:
        return len(pending)
    for c in pending[kept:]:
        used[c.request.subject] = False
    return kept


def _planted(b: _Builder, used: np.ndarray, truth: Truth) -> dict[str, Request]:
    w, rng = b.world, b.rng
    juris = np.array(w.subject_jurisdiction)
    stable = (w.tenant_end_day[w.subject_tenant] == NEVER) & (w.subject_created_day < -30)

    def subject(jurisdictions: tuple[str, ...], stype: int | None) -> int:
        mask = stable & ~used & np.isin(juris, list(jurisdictions))
        if stype is not None:
            mask &= w.subject_type == stype
        s = _eligible(w, 0, rng, -1, mask)
        if s < 0:
            raise RuntimeError(f"no subject left for a planted {jurisdictions} request")
        used[s] = True
        return s

    def at(when: LocalTime, request: PlantedRequest) -> datetime:
        tz = request.timezone or b.tz(request.jurisdictions[0])
        return b.at(request.jurisdictions[0], when[0]) if when[1] is None else local_dt(when[0], when[1], tz)

    def req(key: str, request: PlantedRequest) -> Request:
        received = at(request.received, request)  # before the subject: a drawn hour comes first
        s = subject(request.jurisdictions, request.subject_type)
        ack = at(request.acknowledged, request) if request.acknowledged else received + timedelta(hours=20)
        verified = None if request.request_type in NO_VERIFICATION else ack + timedelta(hours=30)
        extension = at(request.extension, request) if request.extension else None
        completed = at(request.completed, request) if request.completed else None
        return Request(
            s,
            request.jurisdictions[0],
            request.request_type,
            "webform",
            received,
            ack,
            verified,
            extension,
            "volume of records to review" if extension else None,
            completed,
            "completed" if completed else "open",
            "fulfilled" if completed else None,
            planted=key,
        )

    out = {key: req(key, request) for key, request in PLANTED_REQUESTS.items()}
    # The two US-state erasures above drew a subject from several states: use that subject's own.
    for key in ("erased_then_tracked", "erasure_incomplete"):
        out[key].jurisdiction = w.subject_jurisdiction[out[key].subject]
    return out


def _truth(b: _Builder, reg: Register, truth: Truth) -> None:
    """The planted DSR findings, with the deadlines of PLANTED_DEADLINES (worked by hand, not by the engine)."""
    p = reg.planted

    def rid(key: str) -> str:
        return f"dsr:{p[key].request_id}"

    for key in ("overdue_month_end", "overdue_late_extension", "overdue_plain", "due_soon_ca", "due_soon_eu"):
        d = PLANTED_DEADLINES[key]
        expected = "overdue" if key.startswith("overdue") else "due_soon"
        if (d.effective_due < AS_OF) != (expected == "overdue"):
            raise AssertionError(f"planted {key} is due {d.effective_due}: not {expected} as of {AS_OF}")
        truth.finding(
            f"dsr.{expected}",
            rid(key),
            d.effective_due_at,
            f"{p[key].jurisdiction} {p[key].request_type} received {p[key].received.date()}, open; "
            f"effective due date {d.effective_due} (extension {d.extension}); as of {AS_OF}.",
        )
    for key in ("completed_late_gdpr", "completed_late_ccpa", "extension_late_eu"):
        d, r = PLANTED_DEADLINES[key], p[key]
        if r.completed is None or r.completed <= d.effective_due_at:
            raise AssertionError(f"planted {key} is not completed after {d.effective_due}")
        truth.finding(
            "dsr.completed_late",
            rid(key),
            r.completed,
            f"{r.jurisdiction} {r.request_type} received {r.received.date()}, due {d.effective_due}, "
            f"completed {r.completed.date()}.",
        )
    for key in ("overdue_late_extension", "extension_late_eu", "extension_not_allowed_au"):
        d, r = PLANTED_DEADLINES[key], p[key]
        if d.extension not in ("late", "not_allowed"):
            raise AssertionError(f"planted {key} extension is {d.extension}")
        truth.finding(
            "dsr.extension_late",
            rid(key),
            r.extension,
            f"{r.jurisdiction} {r.request_type}: extension notified {r.extension.date() if r.extension else None}, "
            f"original due {d.due}: {d.extension}.",
        )
    r, d = p["ack_late_ca"], PLANTED_DEADLINES["ack_late_ca"]
    truth.finding(
        "dsr.ack_late",
        rid("ack_late_ca"),
        r.acknowledged,
        f"US-CA access received {r.received.date()}, acknowledgement due {d.ack_due}, "
        f"acknowledged {r.acknowledged.date() if r.acknowledged else None}.",
    )
