"""The one retention-rule resolver (compliance.config.retention) and its tie-break, on rules worked by hand;
ingest's `retention_rules_resolved`, the Art. 30 record and the demo generator all answer through it."""

from __future__ import annotations

import itertools

import pytest

from compliance.config.models import RecordRetention
from compliance.config.retention import governing_rule
from compliance.demo.policy_view import PolicyView
from compliance.reports import record_of_processing


def _rule(
    category: str, days: int, system: str | None = None, store: str | None = None, **extra: str
) -> RecordRetention:
    fields = {"clock": "created_at", "action": "delete", "basis": "b"} | extra
    return RecordRetention(data_category=category, system=system, store=store, period_days=days, **fields)


CATEGORY = _rule("user.contact", 90)
NEARER = _rule("user.contact.address", 400)
SYSTEM = _rule("user.contact", 2555, system="billing")
STORE = _rule("user.contact", 365, system="billing", store="invoices")
RULES = [CATEGORY, NEARER, SYSTEM, STORE]


@pytest.mark.parametrize(
    ("system", "store", "category", "expected"),
    [
        ("billing", "invoices", "user.contact.address", STORE),  # store rule beats a nearer category
        ("billing", "archive", "user.contact.address", SYSTEM),  # system rule beats a nearer category
        ("crm", "contacts", "user.contact.address", NEARER),  # nearest (longest) covering category
        ("crm", "contacts", "user.contact.email", CATEGORY),
        ("crm", "contacts", "user.contact", CATEGORY),
        ("crm", "contacts", "user.contactless", None),  # a prefix that is not an ancestor
        ("crm", "contacts", "user.name", None),
    ],
)
def test_precedence_whatever_the_file_order(system: str, store: str, category: str, expected) -> None:
    for order in itertools.permutations(RULES):
        assert governing_rule(order, system, store, category) is expected


def test_ties_go_to_the_shortest_period_then_clock_action_basis() -> None:
    long = _rule("user.name", 730)
    short = _rule("user.name", 90)
    assert governing_rule([long, short], "crm", "contacts", "user.name") is short
    assert governing_rule([short, long], "crm", "contacts", "user.name") is short
    by_clock = [_rule("user.name", 90, clock="last_activity_at"), _rule("user.name", 90, clock="created_at")]
    assert governing_rule(by_clock, "crm", "c", "user.name").clock == "created_at"
    by_action = [_rule("user.name", 90, action="delete"), _rule("user.name", 90, action="deidentify")]
    assert governing_rule(by_action, "crm", "c", "user.name").action == "deidentify"
    by_basis = [_rule("user.name", 90, basis="z"), _rule("user.name", 90, basis="a")]
    assert governing_rule(by_basis, "crm", "c", "user.name").basis == "a"


def test_ingest_record_of_processing_and_demo_agree_on_every_declared_key(make_db, policy) -> None:
    con = make_db({})
    table = {
        (system, store, category): (rule_category, period, clock, action)
        for system, store, category, rule_category, period, clock, action in con.sql(
            "select system, store, data_category, rule_category, period_days, clock, action "
            "from retention_rules_resolved"
        ).fetchall()
    }
    view = PolicyView(policy)
    texts = {line for entry in record_of_processing(policy)["activities"] for line in entry["retention"]}
    checked = 0
    for system in policy.data_map.systems:
        for store in system.stores:
            for category in store.data_categories:
                rule_category, period, clock, action = table[system.id, store.id, category]
                if rule_category is None:
                    assert f"{category}: no rule" in texts
                    continue
                demo = view.retention_rule(system.id, store.id, category)
                assert (demo.data_category, demo.period_days, demo.clock, demo.action) == (
                    rule_category, period, clock, action,
                )  # fmt: skip
                said = f"{category}: {action} {period} days after {clock.removesuffix('_at').replace('_', ' ')}"
                assert said in texts
                checked += 1
    assert checked > 20
