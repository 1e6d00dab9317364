"""Labels, readable tables, pseudonymised identifiers and the cross-page filters.

Pure helpers over small Polars frames (no queries): pages call them between `data` and `charts`.
`current_filters()` is the one function here that reads Streamlit state (what the sidebar set).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from compliance.catalog import HOME_PAGE, PAGES
from compliance.controls import sort_findings as engine_order
from compliance.identities import ACTOR_PREFIX, SUBJECT_PREFIX, Identities  # noqa: F401 (re-exported to pages)
from compliance.investigation import actor_of as actor_of  # one definition; the pages import it from here
from compliance.schema import SEVERITIES
from compliance.spreadsheet import neutralise_frame
from dashboard.data import control_catalog as load_catalog  # the catalog, its file stamps checked once a second

SEVERITIES_DESC = tuple(reversed(SEVERITIES))  # most severe first, as pages list them
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES_DESC)}

# The pages in navigation order, path -> title (compliance.catalog.PAGES is the one list).
PAGE_TITLES = {page.path: page.title for page in PAGES}
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
    """The page that presents a control's findings (its catalog entry's page); the Overview for an id
    the catalog does not know."""
    control = load_catalog().get(control_id)
    return (control.page if control else HOME_PAGE).path


CONTROL_ID_LABEL = "Control id"
CONTROL_ID_HELP = "The control's catalog id, as in finding files and `compliance check --control`."


def control_title(control_id: str | None) -> str:
    """The plain title people read for a control (its catalog entry's), the id itself when the catalog
    does not know it, and an empty string for none."""
    return load_catalog().title(control_id) if control_id else ""


def control_all_clear(control_id: str) -> str:
    """What a page says when a control raises nothing: its catalog entry's all-clear sentence (its sidecar's
    `all_clear`), so the page and the catalog cannot word it differently."""
    return load_catalog()[control_id].all_clear


def _ids_and_titles() -> tuple[list[str], list[str]]:
    catalog = load_catalog()
    ids = sorted(catalog, key=len, reverse=True)  # a longer id wins over an id it starts with
    return ids, [f'"{catalog.title(i)}"' for i in ids]


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# How a control's reason names the configured working days (queries/controls/access_off_hours.sql).
ISO_WEEKDAYS = re.compile(r" on ISO weekdays \[([0-9, ]*)\]")


def weekday_words(days: Iterable[int]) -> str:
    """ISO weekday numbers in words: [1, 2, 3, 4, 5] -> 'Monday to Friday', [1, 3] -> 'Monday and Wednesday'."""
    runs: list[list[int]] = []
    for day in sorted(set(days)):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [
        f"{DAY_NAMES[r[0] - 1]} to {DAY_NAMES[r[-1] - 1]}" if len(r) > 2 else " and ".join(DAY_NAMES[d - 1] for d in r)
        for r in runs
        if all(1 <= d <= 7 for d in r)
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts) or "no day"


def _weekdays_in_words(match: re.Match[str]) -> str:
    return ", " + weekday_words(int(d) for d in match.group(1).split(",") if d.strip())


def plain(text: str | None) -> str:
    """`text` (a reason, a note) with every control id replaced by the control's quoted title, and ISO
    weekday numbers in words."""
    if not text:
        return ""
    for control_id, title in zip(*_ids_and_titles(), strict=True):
        text = text.replace(control_id, title)
    return ISO_WEEKDAYS.sub(_weekdays_in_words, text)


def _plain_cells(frame: pl.DataFrame, keep: Sequence[str] = ()) -> pl.DataFrame:
    """Every text column but `keep` as `plain` would write it, in one vectorised pass per column (the few
    distinct weekday lists are worded once each)."""
    ids, titles = _ids_and_titles()
    text = [n for n, d in frame.schema.items() if d == pl.String and n not in keep]
    lists = {
        found
        for n in text
        for found in frame[n].str.extract(f"({ISO_WEEKDAYS.pattern})").drop_nulls().unique().to_list()
    }
    old, new = [*ids, *lists], [*titles, *(ISO_WEEKDAYS.sub(_weekdays_in_words, w) for w in lists)]
    return frame.with_columns(pl.col(n).str.replace_many(old, new) for n in text)


def with_control_titles(frame: pl.DataFrame, column: str = "control_id", into: str = "control_title") -> pl.DataFrame:
    """`frame` with the plain title of each control id of `column` in `into`."""
    titles = {cid: control_title(cid) for cid in frame[column].unique().to_list()} if column in frame.columns else {}
    return frame.with_columns(pl.col(column).replace_strict(titles, default=None, return_dtype=pl.String).alias(into))


def _empty_text_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Missing text as empty text: the grid draws a missing value as "None". A column with no value at
    all (type Null) is empty text too."""
    empty = [name for name, dtype in frame.schema.items() if dtype in (pl.String, pl.Null)]
    return frame.with_columns(pl.col(name).cast(pl.String).fill_null("") for name in empty)


def table(frame: pl.DataFrame, columns: Mapping[str, str]) -> pl.DataFrame:
    """`frame` reduced to `columns` (in that order) and renamed to their readable labels; dates and
    times as ISO text (the grid would otherwise print midnight on every date); empty text cells empty,
    never `None`. A control id column shows the control's plain title, and the id moves to a last
    "Control id" column, so people read words and can still match the id in a finding file."""
    present = [c for c in columns if c in frame.columns]
    if "control_id" in present:
        frame = with_control_titles(frame)
        present = [("control_title" if c == "control_id" else c) for c in present] + ["control_id"]
        columns = {**columns, "control_title": columns["control_id"], "control_id": CONTROL_ID_LABEL}
    out = _plain_cells(frame.select(present), keep=["control_id"]).rename({c: columns[c] for c in present})
    out = out.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M"),
    )
    return _empty_text_cells(out)


# --- safe rendering: data is text, never Markdown, HTML or a spreadsheet formula ----------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&\"'@^%;/?])")


def md_escape(text: Any) -> str:
    """`text` as literal characters inside Markdown: every ASCII punctuation mark backslash-escaped
    (CommonMark), so no link, image, HTML, emphasis, Streamlit directive (`:red[...]`, `:material/x:`)
    or LaTeX can form; line breaks become spaces. For data placed in a Markdown string or a label."""
    if text is None:
        return ""
    return _MD_SPECIAL.sub(r"\\\1", str(text).replace("\r", " ").replace("\n", " "))


def _is_scalar(dtype: pl.DataType) -> bool:
    return dtype.is_numeric() or dtype.is_temporal() or dtype in (pl.Boolean, pl.String)


def _literal_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells escaped for `st.table`, which renders its cells as Markdown (an empty cell as `None`,
    so missing values of every type become empty text)."""
    text = [n for n, d in frame.schema.items() if d == pl.String]
    missing = [c for c, d in frame.schema.items() if _is_scalar(d) and d != pl.String and frame[c].null_count()]
    filled = frame.with_columns(pl.col(c).cast(pl.String).fill_null("") for c in missing)
    return filled.with_columns(pl.col(c).map_elements(md_escape, return_dtype=pl.String).fill_null("") for c in text)


Columns = Mapping[str, str]  # a table's columns, source name -> readable label, in the order shown


def _labelled(frame: Any, columns: Columns | None) -> Any:
    return frame if columns is None else table(frame, columns)


def _label(columns: Columns | None, name: str | None) -> str | None:
    """The label `columns` shows the column `name` under (the name itself when not relabelled)."""
    return name if name is None or columns is None else columns.get(name, name)


def grid(
    frame: Any, columns: Columns | None = None, *, container: Any = None, wide: str | None = None, **options: Any
) -> Any:
    """`st.dataframe` (in `container`, default the page) of `frame` (reduced to `columns` and labelled by
    `table` when given), without the index, as every dashboard table; formula-leading text cells are
    neutralised: the grid's own "Download as CSV" writes cells as shown, and `=HYPERLINK(...)` would run in a
    spreadsheet. `wide` names the long-text column (a reason, a finding) that gets the most room: named by its
    source column, so a new label cannot leave the width behind."""
    if wide is not None:
        options["column_config"] = wide_text(_label(columns, wide) or wide) | dict(options.get("column_config") or {})
    frame = _labelled(frame, columns)
    if isinstance(frame, pl.DataFrame):
        frame = neutralise_frame(_empty_text_cells(frame))
        if CONTROL_ID_LABEL in frame.columns:  # say what the id column is for, in its header tooltip
            config = {CONTROL_ID_LABEL: st.column_config.TextColumn(help=CONTROL_ID_HELP)}
            options["column_config"] = config | dict(options.get("column_config") or {})
    return (container or st).dataframe(frame, **{"hide_index": True, **options})


def static_table(frame: pl.DataFrame, columns: Columns | None = None, *, container: Any = None, **options: Any) -> Any:
    """`st.table` (in `container`, default the page) of `frame` (reduced to `columns` and labelled by `table`
    when given), without the index, every text cell shown as literal text (st.table renders Markdown)."""
    return (container or st).table(_literal_cells(_labelled(frame, columns)), **{"hide_index": True, **options})


def show_table(
    shown: pl.DataFrame,
    columns: Columns | None = None,
    max_static: int = 30,
    wide: str | None = None,
    **grid_options: Any,
) -> None:
    """A readable table (of `columns`, when given): static when short, so long text wraps and reads in full;
    a scrollable, sortable grid when long (its `wide` column, see `grid`, given the most room)."""
    shown = _labelled(shown, columns)
    if shown.height <= max_static:
        static_table(shown)
    else:
        grid(shown, wide=_label(columns, wide), **grid_options)


def wide_text(label: str) -> dict[str, Any]:
    """Column config that gives a table's long-text column (a reason, a finding) the most room."""
    return {label: st.column_config.TextColumn(width="large")}


def show_findings(
    frame: pl.DataFrame, ids: Identities, columns: Mapping[str, str] | None = None, max_static: int = 30
) -> None:
    """Findings as a table with identifiers pseudonymised. A short list is a static table, so long
    reasons wrap and can be read in full; a long one is a scrollable, sortable grid."""
    shown = ids.findings(frame)
    if "evidence" in shown.columns:
        shown = shown.with_columns(pl.col("evidence").list.join(", "))
    show_table(shown, columns or PROBLEM_COLUMNS, max_static, wide="reason")


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

    def mentions_expr(self, column: str, values: Sequence[str]) -> pl.Expr:
        """True for rows whose text `column` (a list written out, e.g. "EU, UK") names any of `values`; true
        for every row when none is selected."""
        if not values:
            return pl.lit(True)
        return pl.any_horizontal([pl.col(column).str.contains(v, literal=True) for v in values])

    def alarms(
        self, findings: pl.DataFrame, prefixes: Sequence[str] = (), control_ids: Sequence[str] = ()
    ) -> pl.DataFrame:
        """Alarm rows of the controls with these id prefixes or ids (all when both are empty), by severity
        and period (of observed_at), most severe first, then newest first."""
        out = findings.filter(pl.col("status") == "alarm")
        if prefixes:
            out = out.filter(pl.any_horizontal([pl.col("control_id").str.starts_with(p) for p in prefixes]))
        if control_ids:
            out = out.filter(pl.col("control_id").is_in(list(control_ids)))
        out = out.filter(self.values_expr("severity", self.severities) & self.period_expr("observed_at"))
        return sort_findings(out)


def sort_findings(frame: pl.DataFrame) -> pl.DataFrame:
    """Most severe first and newest first within a severity; ties in the engine's reproducible order."""
    ranked = engine_order(frame).with_columns(
        pl.col("severity").replace_strict(SEVERITY_RANK, default=9).alias("_rank")
    )
    return ranked.sort(["_rank", "observed_at"], descending=[False, True], nulls_last=True, maintain_order=True).drop(
        "_rank"
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


def blank_grid(
    frame: pl.DataFrame,
    columns: Columns | None = None,
    *,
    container: Any = None,
    wide: str | None = None,
    **options: Any,
) -> Any:
    """`grid` (of `columns`, when given) for a frame whose cells may be empty: the grid prints a literal `None`
    in an empty cell of any type (a pandas Styler's blank display value does not reach it), so a number column
    with empty cells is shown as text, the numbers padded to one width plus one (they line up, sort in order
    when not negative, and never start with a spreadsheet formula's '-') and the empty cells blank; text
    columns' empty cells blank; number columns without gaps stay numbers."""
    frame = _labelled(frame, columns)
    gappy = [n for n, d in frame.schema.items() if d.is_numeric() and frame[n].null_count()]
    as_text = [
        pl.col(n)
        .round(1)
        .cast(pl.String)
        .str.replace(r"\.0$", "")
        .str.pad_start(_text_width(frame[n]) + 1, FIGURE_SPACE)
        for n in gappy
    ]
    return grid(no_none(frame.with_columns(as_text)), container=container, wide=_label(columns, wide), **options)


def _text_width(values: pl.Series) -> int:
    """The widest value of a number column as text (one decimal at most)."""
    text = values.drop_nulls().round(1).cast(pl.String).str.replace(r"\.0$", "")
    return int(text.str.len_chars().max() or 0)
