"""Labels, readable tables, pseudonymised identifiers and the cross-page filters.

Pure helpers over small Polars frames (no queries): pages call them between `data` and `charts`.
`current_filters()` is the one function here that reads Streamlit state (what the sidebar set).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from compliance.pseudonyms import IP_PREFIX, mask_raw_text, pseudonymise, redact_text
from compliance.spreadsheet import neutralise_frame

SEVERITIES_DESC = ("critical", "high", "medium", "low", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES_DESC)}
STATUS_ORDER = ("alarm", "error", "suppressed", "info", "skip", "ok")
ACTOR_PREFIX, SUBJECT_PREFIX = "A-", "S-"

# Page of the dashboard that explains a control's findings (by the catalog id's prefix).
PAGE_FOR_PREFIX = {
    "retention": "views/retention.py",
    "dsr": "views/dsr.py",
    "access": "views/access.py",
    "security": "views/security.py",
    "transfer": "views/security.py",
    "disclosure": "views/security.py",
    "incident": "views/security.py",
    "datamap": "views/policy_map.py",
    "purpose": "views/policy_map.py",
    "consent": "views/policy_map.py",
}
PAGE_TITLES = {
    "views/overview.py": "Overview",
    "views/policy_map.py": "Policy & data map",
    "views/retention.py": "Retention",
    "views/dsr.py": "Data subject requests",
    "views/access.py": "Access anomalies",
    "views/security.py": "Security & transfers",
    "views/data_health.py": "Data health",
    "views/evidence.py": "Evidence",
    "views/triage.py": "Alarms & triage",
    "views/access_log.py": "Access log",
}
STATE_LABELS = {
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "on_track": "On track",
    "awaiting_verification": "Awaiting verification",
    "no_deadline": "No deadline rule",
    "completed_on_time": "Completed on time",
    "completed_late": "Completed late",
    "rejected": "Rejected",
    "rejected_late": "Rejected late",
    "withdrawn": "Withdrawn",
}


def page_for(control_id: str) -> str:
    return PAGE_FOR_PREFIX.get(control_id.split(".", 1)[0], "views/overview.py")


def table(frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    """`frame` reduced to `columns` (in that order) and renamed to their readable labels; dates and
    times as ISO text (the grid would otherwise print midnight on every date)."""
    present = [c for c in columns if c in frame.columns]
    out = frame.select(present).rename({c: columns[c] for c in present})
    return out.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M"),
    )


# --- safe rendering: data is text, never Markdown, HTML or a spreadsheet formula ----------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&\"'@^%;/?])")


def md_escape(text: Any) -> str:
    """`text` as literal characters inside Markdown: every ASCII punctuation mark backslash-escaped
    (CommonMark), so no link, image, HTML, emphasis, Streamlit directive (`:red[...]`, `:material/x:`)
    or LaTeX can form; line breaks become spaces. For data placed in a Markdown string or a label."""
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\r", " ").replace("\n", " "))


def _literal_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells escaped for `st.table`, which renders its cells as Markdown."""
    text = [n for n, d in frame.schema.items() if d == pl.String]
    return frame.with_columns(pl.col(c).map_elements(md_escape, return_dtype=pl.String) for c in text)


def grid(frame: Any, container: Any = None, **options: Any) -> Any:
    """`st.dataframe` (in `container`, default the page) with formula-leading text cells neutralised: the
    grid's own "Download as CSV" writes cells as shown, and `=HYPERLINK(...)` would run in a spreadsheet."""
    if isinstance(frame, pl.DataFrame):
        frame = neutralise_frame(frame)
    return (container or st).dataframe(frame, **options)


def static_table(frame: pl.DataFrame, container: Any = None, **options: Any) -> Any:
    """`st.table` (in `container`, default the page) with every text cell shown as literal text
    (st.table renders Markdown)."""
    return (container or st).table(_literal_cells(frame), **options)


def show_table(shown: pl.DataFrame, max_static: int = 30, **grid_options: Any) -> None:
    """A readable table: static when short, so long text wraps and reads in full; a scrollable,
    sortable grid when long."""
    if shown.height <= max_static:
        static_table(shown, hide_index=True)
    else:
        grid(shown, hide_index=True, **grid_options)


def show_findings(
    frame: pl.DataFrame, ids: Identities, columns: Mapping[str, str] | None = None, max_static: int = 30
) -> None:
    """Findings as a table with identifiers pseudonymised. A short list is a static table, so long
    reasons wrap and can be read in full; a long one is a scrollable, sortable grid."""
    shown = ids.findings(frame)
    if "evidence" in shown.columns:
        shown = shown.with_columns(pl.col("evidence").list.join(", "))
    shown = table(shown, columns or PROBLEM_COLUMNS)
    show_table(shown, max_static, column_config={"Reason": st.column_config.TextColumn(width="large")})


POSTURE_COLORS = {"ALARM": "#fee2e2", "control error": "#ede9fe", "no data": "#f1f5f9", "ok": "#dcfce7"}
SEVERITY_COLORS = {"critical": "#7f1d1d", "high": "#dc2626", "medium": "#c2410c", "low": "#a16207"}


def posture_style(frame: pl.DataFrame) -> Any:
    """The posture table with its Posture cells shaded and severities coloured (a pandas Styler)."""
    styled = frame.to_pandas().style
    if "Posture" in frame.columns:
        styled = styled.map(lambda v: f"background-color: {POSTURE_COLORS.get(v, 'white')}", subset=["Posture"])
    if "Highest severity" in frame.columns:
        styled = styled.map(
            lambda v: f"color: {SEVERITY_COLORS[v]}; font-weight: 600" if v in SEVERITY_COLORS else "",
            subset=["Highest severity"],
        )
    return styled


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"


# --- identifiers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identities:
    """Which words are actor or subject ids, and whether to show them (`reveal`) or their pseudonyms."""

    kinds: Mapping[str, str] = field(default_factory=dict)  # id -> pseudonym prefix
    reveal: bool = False

    @classmethod
    def from_frame(cls, known: pl.DataFrame, reveal: bool = False) -> Identities:
        prefix = {"actor": ACTOR_PREFIX, "subject": SUBJECT_PREFIX}
        return cls({i: prefix[k] for k, i in known.select("kind", "id").iter_rows()}, reveal)

    def actor(self, actor_id: str | None) -> str | None:
        return actor_id if self.reveal else pseudonymise(actor_id, prefix=ACTOR_PREFIX)

    def subject(self, subject_id: str | None) -> str | None:
        return subject_id if self.reveal else pseudonymise(subject_id, prefix=SUBJECT_PREFIX)

    def text(self, text: str | None) -> str | None:
        """Known ids and IP addresses in `text` replaced by their pseudonyms."""
        return text if self.reveal else redact_text(text, self.kinds)

    def raw(self, text: str | None) -> str | None:
        """A raw export line: known ids, IP and e-mail addresses and any id-like token masked."""
        return text if self.reveal else mask_raw_text(text, self.kinds)

    def ip(self, address: str | None) -> str | None:
        return address if self.reveal else pseudonymise(address, prefix=IP_PREFIX)

    def word(self, value: str | None) -> str | None:
        """One id-like value (an evidence item): its pseudonym if it is a known id, else itself."""
        if self.reveal or value is None or value not in self.kinds:
            return value
        return pseudonymise(value, prefix=self.kinds[value])

    def resource(self, resource: str | None) -> str | None:
        """`actor:<id>@<date>`, `subject:<id>` and `ip:<address>` keys pseudonymised; others as they are."""
        if self.reveal or resource is None or ":" not in resource:
            return resource
        kind, rest = resource.split(":", 1)
        if kind == "actor":
            actor_id, _, day = rest.partition("@")
            return f"actor:{self.actor(actor_id)}" + (f"@{day}" if day else "")
        if kind == "subject":
            return f"subject:{self.subject(rest)}"
        if kind == "ip":
            address, _, day = rest.partition("@")
            return f"ip:{self.ip(address)}" + (f"@{day}" if day else "")
        return resource

    def column(self, frame: pl.DataFrame, name: str, how: str) -> pl.DataFrame:
        """`frame` with column `name` mapped through `actor`, `subject`, `text` or `resource`."""
        if name not in frame.columns or self.reveal:
            return frame
        fn = getattr(self, how)
        memo: dict[str | None, str | None] = {}  # reasons repeat: redact each distinct one once
        values = [memo[v] if v in memo else memo.setdefault(v, fn(v)) for v in frame[name].to_list()]
        return frame.with_columns(pl.Series(name, values, dtype=pl.String))

    def findings(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Findings with resources, reasons and evidence ids pseudonymised."""
        if self.reveal or frame.height == 0:
            return frame
        out = self.column(self.column(frame, "resource", "resource"), "reason", "text")
        if "evidence" in out.columns:
            evidence = [[self.word(e) for e in (ev or [])] for ev in out["evidence"].to_list()]
            out = out.with_columns(pl.Series("evidence", evidence, dtype=pl.List(pl.String)))
        return out


def actor_of(resource: str) -> str | None:
    """The actor id in an `actor:<id>` or `actor:<id>@<date>` resource key."""
    if not resource.startswith("actor:"):
        return None
    return resource.removeprefix("actor:").partition("@")[0]


# --- filters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the sidebar selected; an empty tuple or None means 'all'."""

    as_of: date
    start: date | None = None
    end: date | None = None
    jurisdictions: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    def describe(self, applies: Iterable[str]) -> str:
        """One line naming the filters in force on a page, and the set ones that do not apply there."""
        active = {
            "period": self.start is not None or self.end is not None,
            "jurisdiction": bool(self.jurisdictions),
            "category": bool(self.categories),
            "system": bool(self.systems),
            "severity": bool(self.severities),
        }
        words = {
            "period": f"period {self.start or '…'} to {self.end or '…'}",
            # Filter values come from the data: escaped, since the line is Markdown.
            "jurisdiction": "jurisdiction " + ", ".join(map(md_escape, self.jurisdictions)),
            "category": "category " + ", ".join(map(md_escape, self.categories)),
            "system": "system " + ", ".join(map(md_escape, self.systems)),
            "severity": "severity " + ", ".join(map(md_escape, self.severities)),
        }
        applies = set(applies)
        used = [words[k] for k, on in active.items() if on and k in applies]
        unused = [k for k, on in active.items() if on and k not in applies]
        text = f"As of **{self.as_of}**"
        text += f"; filtered by {'; '.join(used)}" if used else "; no filter narrows this page"
        if unused:
            text += f". Not applicable here: {', '.join(unused)}"
        return text + "."

    def period_expr(self, column: str) -> pl.Expr:
        """True for rows whose date (or timestamp) column falls in the period."""
        day = pl.col(column).cast(pl.Date)
        expr = pl.lit(True)
        if self.start is not None:
            expr &= day >= self.start
        if self.end is not None:
            expr &= day <= self.end
        return expr

    def category_expr(self, column: str) -> pl.Expr:
        """True for categories equal to or below a selected one (a parent covers its descendants)."""
        if not self.categories:
            return pl.lit(True)
        expr = pl.lit(False)
        for c in self.categories:
            expr |= (pl.col(column) == c) | pl.col(column).str.starts_with(c + ".")
        return expr

    def values_expr(self, column: str, values: Sequence[str]) -> pl.Expr:
        return pl.col(column).is_in(list(values)) if values else pl.lit(True)

    def alarms(self, findings: pl.DataFrame, prefixes: Sequence[str] = ()) -> pl.DataFrame:
        """Alarm rows of the controls with these id prefixes (all when empty), by severity and period
        (of observed_at), most severe first, then newest first."""
        out = findings.filter(pl.col("status") == "alarm")
        if prefixes:
            out = out.filter(pl.any_horizontal([pl.col("control_id").str.starts_with(p) for p in prefixes]))
        out = out.filter(self.values_expr("severity", self.severities) & self.period_expr("observed_at"))
        return sort_findings(out)


def sort_findings(frame: pl.DataFrame) -> pl.DataFrame:
    return (
        frame.with_columns(pl.col("severity").replace_strict(SEVERITY_RANK, default=9).alias("_rank"))
        .sort(
            ["_rank", "observed_at", "control_id", "resource"], descending=[False, True, False, False], nulls_last=True
        )
        .drop("_rank")
    )


def current_filters() -> Filters:
    """The filters the sidebar (app.py) put in session state for this run."""
    return st.session_state["filters"]


FINDING_COLUMNS = {
    "severity": "Severity",
    "control_id": "Control",
    "policy_section": "Section",
    "resource": "Resource",
    "reason": "Reason",
    "observed_at": "Observed (UTC)",
    "status": "Status",
}
PROBLEM_COLUMNS = {"severity": "Severity", "control_id": "Control", "resource": "Resource", "reason": "Reason"}


def no_none(frame: pl.DataFrame, blank: str = "") -> pl.DataFrame:
    """`frame` (after `table`) with empty text cells shown as `blank`: the grid would print a literal `None`."""
    return frame.with_columns(pl.col(pl.String).fill_null(blank))


FIGURE_SPACE = "\u2007"  # as wide as a digit: numbers padded with it line up on the right, as in a number column


def blank_grid(frame: pl.DataFrame, container: Any = None, **options: Any) -> Any:
    """`grid` for a frame whose cells may be empty: the grid prints a literal `None` in an empty cell of any
    type (a pandas Styler's blank display value does not reach it), so a number column with empty cells is
    shown as text, the numbers padded to one width plus one (they line up, sort in order when not negative,
    and never start with a spreadsheet formula's '-') and the empty cells blank; text columns' empty cells blank; number columns without gaps stay numbers."""
    gappy = [n for n, d in frame.schema.items() if d.is_numeric() and frame[n].null_count()]
    as_text = [
        pl.col(n)
        .round(1)
        .cast(pl.String)
        .str.replace(r"\.0$", "")
        .str.pad_start(_text_width(frame[n]) + 1, FIGURE_SPACE)
        for n in gappy
    ]
    return grid(no_none(frame.with_columns(as_text)), container, **options)


def _text_width(values: pl.Series) -> int:
    """The widest value of a number column as text (one decimal at most)."""
    text = values.drop_nulls().round(1).cast(pl.String).str.replace(r"\.0$", "")
    return int(text.str.len_chars().max() or 0)
