"""The governing retention rule (policy section 6) of a system x store x data category: one resolver.

Ingest stores its answer per key in `retention_rules_resolved` (which every retention query joins), the
Art. 30 record quotes it and the demo generator plants records against it, so all three agree.

Which rule governs, among the rules whose category equals the record's or is an ancestor of it and
whose system and store (when the rule names them) are the record's:
1. the most specific scope: a store rule beats a system rule beats a category-wide rule;
2. then the nearest category: the longest key (user.contact.address beats user.contact);
3. then, for rules equal on both, the shortest period (the strictest promise the policy makes);
4. then clock, action and basis in alphabetical order, so that equal-ranked rules resolve the same way
   whatever their order in retention.yaml.
"""

from __future__ import annotations

from collections.abc import Iterable

from compliance.config.models import RecordRetention
from compliance.config.taxonomy import covers


def specificity(rule: RecordRetention) -> int:
    """3 for a store rule, 2 for a system rule, 1 for a category-wide rule."""
    return 3 if rule.store else 2 if rule.system else 1


def applies_to(rule: RecordRetention, system: str | None, store: str | None, category: str) -> bool:
    return (
        covers(rule.data_category, category)
        and (rule.system is None or rule.system == system)
        and (rule.store is None or rule.store == store)
    )


def precedence(rule: RecordRetention) -> tuple[int, int, int, str, str, str]:
    """Sort key: the governing rule sorts first (the order the module docstring states)."""
    return (-specificity(rule), -len(rule.data_category), rule.period_days, rule.clock, rule.action, rule.basis)


def governing_rule(
    rules: Iterable[RecordRetention], system: str | None, store: str | None, category: str
) -> RecordRetention | None:
    """The rule that governs records of `category` in `system`/`store`, or None when no rule covers them."""
    candidates = [rule for rule in rules if applies_to(rule, system, store, category)]
    return min(candidates, key=precedence, default=None)
