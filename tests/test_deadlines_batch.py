"""`request_states` (one run of the state model over many requests) gives, request by request, what
`request_state` (one run per request) gives: on the demo generator's register, and on the hand-made
requests of the state table around their deadlines, on every as-of date where a state can change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from compliance.config.bundle import load_policy
from compliance.deadlines import DsrRequest, compute_deadline, request_state, request_states
from compliance.demo.clock import AS_OF
from compliance.demo.dsr import build_register
from compliance.demo.sizes import sizes_for
from compliance.demo.tenants import build_world
from compliance.demo.truth import Truth
from tests.test_deadlines import RULES, SHIPPED, STATE_CASES, make


def _one_by_one(reqs: list[DsrRequest], as_of: date, rules_name: str = "shipped") -> list[str]:
    rules = RULES[rules_name]
    return [request_state(req, compute_deadline(req, rules), as_of, rules) for req in reqs]


def _edge_dates(reqs: list[DsrRequest]) -> list[date]:
    """Around each request's receipt, acknowledgement due date, due-soon boundary, due date and closure."""
    days: set[date] = set()
    for req in reqs:
        dl = compute_deadline(req, SHIPPED)
        marks = [req.received_at.date(), dl.ack_due_date, dl.due_date, dl.effective_due_date]
        if req.completed_at is not None:
            marks.append(req.completed_at.date())
        for mark in filter(None, marks):
            days |= {mark + timedelta(days=k) for k in (-SHIPPED.due_soon_days - 1, -SHIPPED.due_soon_days, -1, 0, 1)}
    return sorted(days)


def _hand_made() -> list[DsrRequest]:
    """The state table's requests (all named 'r-1', as ids repeat in a register), and a few more shapes."""
    reqs = [make(*param.values[0], status=param.values[1], **param.values[2]) for param in STATE_CASES]
    return [
        *reqs,
        # Acknowledgement due 10 business days after a CCPA receipt: open, late, and answered in time.
        make("US-CA", "access", "2025-07-01T16:00Z"),
        make("US-CA", "access", "2025-07-01T16:00Z", acknowledged_at="2025-07-22T17:00Z"),
        make("US-CA", "delete", "2025-07-01T16:00Z", "completed", completed_at="2025-07-10T17:00Z"),
        # A 23:30 local receipt in Los Angeles (already the next day in UTC), and no rule at all.
        make("US-CA", "access", "2025-11-15T07:30Z", "completed", completed_at="2025-12-30T07:30Z"),
        make("AU", "portability", "2025-06-02T00:00Z"),
        make("EU", "access", "2025-01-31T10:00Z", "withdrawn", completed_at="2025-02-10T10:00Z"),
    ]


def test_batch_equals_one_by_one_around_deadline_edges() -> None:
    reqs = _hand_made()
    dates = _edge_dates(reqs)
    assert len(dates) > 40
    seen: set[str] = set()
    for as_of in dates:
        batch = request_states(reqs, as_of, SHIPPED)
        assert batch == _one_by_one(reqs, as_of), as_of
        seen |= set(batch)
    # The comparison covered open, closed and not-yet-received states, not one kind only.
    assert {"not_yet_received", "on_track", "due_soon", "overdue", "completed_on_time", "completed_late"} <= seen
    assert {"rejected_late", "withdrawn", "no_deadline"} <= seen


def test_batch_under_other_rules_equals_one_by_one() -> None:
    reqs = [
        make("UK", "access", "2025-01-10T10:00Z"),
        make("UK", "access", "2025-01-10T10:00Z", verified_at="2025-01-20T10:00Z"),
    ]
    as_of = date(2025, 6, 1)
    batch = request_states(reqs, as_of, RULES["uk_verified"])
    assert batch == _one_by_one(reqs, as_of, "uk_verified")
    assert "awaiting_verification" in batch


def test_batch_of_nothing() -> None:
    assert request_states([], AS_OF, SHIPPED) == []


@pytest.mark.parametrize("as_of", [AS_OF, date(2025, 6, 30)])
def test_batch_equals_one_by_one_on_the_demo_register(as_of: date) -> None:
    sizes = sizes_for(10_000)
    policy = load_policy()
    register = build_register(7, build_world(7, sizes), policy.dsr_rules, sizes.n_dsr, Truth())
    reqs = [r.as_request() for r in register.requests]
    assert len(reqs) > 250
    batch = request_states(reqs, as_of, policy.dsr_rules)
    assert batch == [request_state(r, compute_deadline(r, policy.dsr_rules), as_of, policy.dsr_rules) for r in reqs]
    assert len(set(batch)) >= 4
