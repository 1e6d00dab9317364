"""The control catalog: one entry per control, and the dashboard's pages. Every registry derives from it.

A control is two files side by side in `queries/controls/`:

- `<name>.sql`: the query, whose typed header states the catalog id (`control`), the policy
  `section`, the default `severity`, the exports it `requires`, the settings it reads (`params`
  other than `as_of`) and what it checks (`description`);
- `<name>.yml`: its sidecar, in the style of dbt's schema files, with what people and the tools
  need besides: a plain `title`, the dashboard `page` that presents it, the `notebooks` that audit
  it, its `order` among that page's controls, the `all_clear` sentence a page shows when it raises nothing, the `demo` story the generator
  plants for it, how a daily load refreshes its stored findings (`incremental`, see `Incremental`),
  and optionally the thresholds an analyst may `sweep`.

Each fact is stated once: the sidecar repeats nothing of the header. `load_catalog()` reads and
validates both (a sidecar without a query, or a query without a sidecar, is an error), and the
README's control table, the dashboard's page registry and `page_for`, the pages' control lists,
`investigation.ACCESS_DETECTORS` and the tests' catalog all come from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from compliance.queries import QUERY_DIR, Query, QueryError, controls

__all__ = [
    "PAGES",
    "Catalog",
    "CatalogError",
    "Control",
    "Incremental",
    "Page",
    "Sweep",
    "control_table_markdown",
    "load_catalog",
    "page_by_key",
    "plain_text",
]

SIDECAR_SUFFIX = ".yml"


# --- pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of the dashboard (`dashboard/views/<key>.py`), in navigation order."""

    key: str
    title: str
    icon: str
    # Summaries list or export every control (or none), so they are no control's home page.
    summary: bool = False

    @property
    def path(self) -> str:
        """The page's file relative to dashboard/, as `st.Page` and AppTest's switch_page take it."""
        return f"views/{self.key}.py"


PAGES: tuple[Page, ...] = (
    Page("overview", "Overview", ":material/shield:", summary=True),
    Page("policy_map", "Policy & data map", ":material/account_tree:"),
    Page("retention", "Retention", ":material/auto_delete:"),
    Page("dsr", "Data subject requests", ":material/person_search:"),
    Page("access", "Access anomalies", ":material/policy_alert:"),
    Page("security", "Security & transfers", ":material/lock:"),
    Page("data_health", "Data health", ":material/health_and_safety:"),
    Page("evidence", "Evidence", ":material/download:", summary=True),
    Page("triage", "Alarms & triage", ":material/task_alt:", summary=True),
    Page("access_log", "Access log", ":material/manage_accounts:", summary=True),
)
HOME_PAGE = PAGES[0]


def page_by_key(key: str) -> Page:
    for page in PAGES:
        if page.key == key:
            return page
    raise KeyError(f"no dashboard page {key!r}; pages: {', '.join(p.key for p in PAGES)}")


# --- sidecar files ----------------------------------------------------------------------------

_ID_LIKE = re.compile(r"\b[a-z]+\.[a-z_]+\b")


class Sweep(BaseModel):
    """A threshold setting an analyst may re-run the control with (compliance.investigation)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    setting: str
    values: tuple[float, ...] = Field(min_length=2)
    meaning: str = Field(min_length=3)  # "<meaning> <value>" reads as a sentence: "records per window above"


def _plain(text: str, what: str) -> str:
    """People read it: no query parameter syntax, no catalog id, no leftover whitespace."""
    text = " ".join(text.split())
    if "$" in text or _ID_LIKE.search(text):
        raise ValueError(f"{what} is read by people: no $parameter or control id in it")
    return text


class Incremental(BaseModel):
    """How a control's stored findings are refreshed after a load (compliance.stored_findings).

    `window`: every finding is tied to one UTC event date D (its resource ends in `@D`) and is computed
    only from audit events dated D minus `lookback` days up to D plus `lookahead`, daily rollups, and
    tables the load left alone; so after a load only the dates from the earliest changed event date on are
    evaluated, over audit events from `lookback` days before it (the rollups are read whole: a load has
    already brought them up to date). `lookback_unit: minutes` gives the look-back in minutes (a sliding
    window's length), rounded up to whole days. `lookahead` (same unit) is for a control whose row of day D also
    reads events after D (a successful login within a window after a burst): the rows of that many days before
    the earliest changed date are evaluated again too. With `undated: unless_dated` the control's ok rows are
    undated instead, one per resource R (`actor:X`), computed from the rollups alone, never from audit
    events, and returned exactly when no other row `R@D` is: they are taken from the window's evaluation
    and kept only for resources without such a row, stored or new (told apart by status: an id may end in
    a date). `full`: the control is evaluated whole whenever a table it reads changed; `why` says why it
    cannot be windowed. `as_of: bound` states that the as-of date only bounds the dates of the rows read
    (`<= $as_of` on columns the default as-of date covers), so stored findings of a control whose tables
    did not change stay right when the as-of date moves on;
    `value` (the as-of date is in its reasons or clocks) re-runs it whenever the date moves.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["window", "full"]
    lookback: int | str = 0  # days, or the settings.yaml key that gives them (window mode)
    lookback_unit: Literal["days", "minutes"] = "days"
    lookahead: int | str = 0  # days (or minutes, with lookback_unit), or the settings.yaml key that gives them
    undated: Literal["never", "unless_dated"] = "never"  # window mode: undated rows (see above)
    as_of: Literal["bound", "value"] = "value"
    why: str = Field(min_length=10)

    @field_validator("lookback", "lookahead")
    @classmethod
    def _days(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("lookback and lookahead days cannot be negative")
        return value

    def lookback_days(self, settings: Mapping[str, Any]) -> int:
        return self._whole_days(self.lookback, settings)

    def lookahead_days(self, settings: Mapping[str, Any]) -> int:
        return self._whole_days(self.lookahead, settings)

    def _whole_days(self, reach: int | str, settings: Mapping[str, Any]) -> int:
        value = float(settings[reach]) if isinstance(reach, str) else reach
        return math.ceil(value / 1440) if self.lookback_unit == "minutes" else int(value)


class SidecarEntry(BaseModel):
    """One control's entry in its `.yml` sidecar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str  # the query's name, i.e. the SQL file's stem
    title: str = Field(min_length=3, max_length=60)
    page: str
    order: int = Field(default=100, ge=1)  # position among its page's controls (tabs, lists, sweeps)
    notebooks: tuple[str, ...] = ()
    all_clear: str = Field(min_length=10)
    demo: str = Field(min_length=10)
    sweep: tuple[Sweep, ...] = ()
    incremental: Incremental

    @field_validator("title", "all_clear")
    @classmethod
    def _readable(cls, value: str, info: Any) -> str:
        return _plain(value, info.field_name)

    @field_validator("page")
    @classmethod
    def _known_page(cls, key: str) -> str:
        try:
            page = page_by_key(key)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None  # pydantic reports ValueErrors, naming the field
        if page.summary:
            raise ValueError(f"page {key!r} summarises every control; a control's home is a topic page")
        return key


class SidecarFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[2]
    controls: tuple[SidecarEntry, ...] = Field(min_length=1, max_length=1)  # one control per SQL file


class CatalogError(ValueError):
    """A control's SQL or sidecar is missing, malformed or inconsistent."""


# --- the catalog ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    """A control's header facts (from its SQL) and sidecar facts, read together."""

    query: Query
    entry: SidecarEntry
    sidecar: Path

    @property
    def id(self) -> str:
        return self.query.control_id or ""

    @property
    def name(self) -> str:
        return self.query.name

    @property
    def section(self) -> str:
        return self.query.section or ""

    @property
    def severity(self) -> str:
        return self.query.severity or ""

    @property
    def requires(self) -> tuple[str, ...]:
        return self.query.requires

    @property
    def settings(self) -> tuple[str, ...]:
        """The policy settings (settings.yaml keys, flattened) the control reads: its parameters but as_of."""
        return tuple(p for p in self.query.params if p != "as_of")

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def page(self) -> Page:
        return page_by_key(self.entry.page)

    @property
    def notebooks(self) -> tuple[str, ...]:
        return self.entry.notebooks

    @property
    def all_clear(self) -> str:
        return self.entry.all_clear

    @property
    def demo(self) -> str:
        return self.entry.demo

    @property
    def sweep(self) -> tuple[Sweep, ...]:
        return self.entry.sweep

    def description(self, settings: Mapping[str, Any] | None = None, titles: Mapping[str, str] | None = None) -> str:
        """What the control checks, in words: `$as_of`, settings and other controls' ids replaced (see
        `plain_text`); `Catalog.description` passes every control's title."""
        return plain_text(self.query.description, settings, titles)


def plain_text(text: str, settings: Mapping[str, Any] | None = None, titles: Mapping[str, str] | None = None) -> str:
    """A query description for people: `$as_of` becomes "the as-of date", a `$setting` its value when
    `settings` has it (e.g. `$dsr_due_soon_days days` -> `7 days`), else "the <setting> setting", and a
    control id of `titles` that control's title in quotes."""
    if titles:
        ids = "|".join(re.escape(i) for i in sorted(titles, key=len, reverse=True))
        text = re.sub(rf"(?<![\w.])({ids})(?!\w)", lambda m: f'"{titles[m.group(1)]}"', text)

    def word(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "as_of":
            return "the as-of date"
        if settings is not None and name in settings:
            return str(settings[name])
        return f"the {name.replace('_', ' ')} setting"

    return re.sub(r"\$([A-Za-z_]\w*)", word, text)


class Catalog(Mapping[str, Control]):
    """Every control by catalog id, in id order."""

    def __init__(self, entries: Mapping[str, Control]) -> None:
        self._by_id = dict(sorted(entries.items()))

    def __getitem__(self, control_id: str) -> Control:
        return self._by_id[control_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def on_page(self, page_key: str) -> list[Control]:
        """The controls a page presents, by their `order` on it, then by id."""
        page_by_key(page_key)  # a typo must not silently select nothing
        return sorted((c for c in self.values() if c.entry.page == page_key), key=lambda c: (c.entry.order, c.id))

    def ids_on_page(self, page_key: str) -> list[str]:
        return [c.id for c in self.on_page(page_key)]

    def in_notebook(self, notebook: str) -> list[Control]:
        return [c for c in self.values() if notebook in c.notebooks]

    def description(self, control_id: str, settings: Mapping[str, Any] | None = None) -> str:
        """What a control checks, for people: no `$parameter`, and other controls named by their titles."""
        return self[control_id].description(settings, {i: c.title for i, c in self.items()})

    def title(self, control_id: str) -> str:
        """The control's plain title; an id the catalog does not know (e.g. a finding of an older run) as it is."""
        control = self._by_id.get(control_id)
        return control.title if control else control_id


def _read_entry(path: Path) -> SidecarEntry:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return SidecarFile.model_validate(raw).controls[0]
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise CatalogError(f"{path}: {exc}") from None


def _build(root: Path) -> Catalog:
    folder = root / "controls"
    queries = controls(root)
    problems: list[str] = []
    entries: dict[str, Control] = {}
    for query in queries:
        sidecar = query.path.with_suffix(SIDECAR_SUFFIX)
        if not sidecar.is_file():
            problems.append(f"{query.path.name}: no sidecar {sidecar.name} (title, page, demo story...)")
            continue
        try:
            entry = _read_entry(sidecar)
        except CatalogError as exc:
            problems.append(str(exc))
            continue
        if entry.name != query.name:
            problems.append(f"{sidecar.name}: names {entry.name!r}, beside {query.path.name}")
        for reach, window in (("lookback", entry.incremental.lookback), ("lookahead", entry.incremental.lookahead)):
            if isinstance(window, str) and window not in query.params:
                problems.append(
                    f"{sidecar.name}: incremental {reach} {window!r} is not a setting {query.path.name} reads"
                )
        unknown = [s.setting for s in entry.sweep if s.setting not in query.params]
        if unknown:
            problems.append(f"{sidecar.name}: sweeps {unknown}, which {query.path.name} does not read")
        entries[query.control_id or ""] = Control(query, entry, sidecar)
    with_sql = {q.path.with_suffix(SIDECAR_SUFFIX) for q in queries}
    problems += [
        f"{p.name}: no control query {p.stem}.sql beside it"
        for p in sorted(folder.glob("*" + SIDECAR_SUFFIX))
        if p not in with_sql
    ]
    titles = [c.title.casefold() for c in entries.values()]
    problems += [f"title {t!r} is used by more than one control" for t in sorted(set(titles)) if titles.count(t) > 1]
    if problems:
        raise CatalogError("control catalog: " + "; ".join(problems))
    return Catalog(entries)


@lru_cache(maxsize=4)
def _cached(root: Path, stamp: tuple[tuple[str, int], ...]) -> Catalog:
    return _build(root)


def load_catalog(root: Path = QUERY_DIR) -> Catalog:
    """The validated catalog of the controls under `root`; re-read when a file changes (keyed on mtimes).
    CatalogError names every problem at once."""
    files = sorted((root / "controls").glob("*"))
    try:
        return _cached(root, tuple((str(p), p.stat().st_mtime_ns) for p in files))
    except QueryError as exc:
        raise CatalogError(str(exc)) from None


# --- documentation ------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def control_table_markdown(settings: Mapping[str, Any] | None = None, root: Path = QUERY_DIR) -> str:
    """The README's control table (generated by cog): one row per control, from the catalog alone.
    `settings` (the shipped policy's parameters) turn `$setting` in descriptions into values."""
    rows = [
        "| control | id | section | page | what it checks | settings it reads | demo story |",
        "|---|---|---|---|---|---|---|",
    ]
    for control in load_catalog(root).values():
        settings_read = ", ".join(f"`{s}`" for s in control.settings) or "none"
        cells = (
            control.title,
            f"`{control.id}`",
            control.section,
            control.page.title,
            load_catalog(root).description(control.id, settings),
            settings_read,
            control.demo,
        )
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows) + "\n"
