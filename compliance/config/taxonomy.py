"""fideslang's data-category and data-use taxonomy plus Capantra's own leaves (taxonomy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from compliance.config.base import PolicyError, StrictModel, load_model


class TaxonomyEntry(StrictModel):
    fides_key: str
    parent_key: str
    name: str
    description: str = ""


class TaxonomyExtensions(StrictModel):
    data_categories: list[TaxonomyEntry] = []
    data_uses: list[TaxonomyEntry] = []


@dataclass(frozen=True)
class Taxonomy:
    categories: frozenset[str]
    uses: frozenset[str]
    subjects: frozenset[str]
    names: dict[str, str]  # key -> human name, for reports
    extensions: frozenset[str]  # Capantra's own leaves (taxonomy.yaml)

    def is_category(self, key: str) -> bool:
        return key in self.categories

    def is_use(self, key: str) -> bool:
        return key in self.uses


@lru_cache(maxsize=1)
def _fideslang_base() -> tuple[frozenset[str], frozenset[str], frozenset[str], dict[str, str]]:
    names = {c.fides_key: c.name or c.fides_key for c in DEFAULT_TAXONOMY.data_category}
    names.update({u.fides_key: u.name or u.fides_key for u in DEFAULT_TAXONOMY.data_use})
    return (
        frozenset(c.fides_key for c in DEFAULT_TAXONOMY.data_category),
        frozenset(u.fides_key for u in DEFAULT_TAXONOMY.data_use),
        frozenset(s.fides_key for s in DEFAULT_TAXONOMY.data_subject),
        names,
    )


def load_taxonomy(path: Path) -> Taxonomy:
    ext = load_model(path, TaxonomyExtensions)
    categories, uses, subjects, base_names = _fideslang_base()
    names = dict(base_names)
    cats, use_set = set(categories), set(uses)
    added: set[str] = set()
    for kind, entries, known in (
        ("data_categories", ext.data_categories, cats),
        ("data_uses", ext.data_uses, use_set),
    ):
        for i, entry in enumerate(entries):
            key = f"{kind}[{i}].parent_key"
            if entry.parent_key not in known:
                raise PolicyError(path, key, f"parent {entry.parent_key!r} is not in the fideslang taxonomy")
            if not entry.fides_key.startswith(entry.parent_key + "."):
                raise PolicyError(path, f"{kind}[{i}].fides_key", f"{entry.fides_key!r} must extend its parent key")
            known.add(entry.fides_key)
            added.add(entry.fides_key)
            names[entry.fides_key] = entry.name
    return Taxonomy(frozenset(cats), frozenset(use_set), subjects, names, frozenset(added))


def covers(granted: str, key: str) -> bool:
    """A granted taxonomy key covers itself and its descendants (user.contact covers user.contact.email)."""
    return key == granted or key.startswith(granted + ".")
