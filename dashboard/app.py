"""The dashboard: `streamlit run dashboard/app.py` (or `compliance serve`).

This file is the router (`st.navigation` over `dashboard/views/`) and the sidebar: which database,
the as-of date, and the filters every page reads (`format.current_filters()`). The filters live in
the URL (`st.query_params`), so a link reproduces the view: the as-of date is always in it (a link
taken today still shows today's view after the next load), and the filters set inside a page (search,
tabs, states) are bound to the URL by Streamlit (`bind="query-params"`, keys in PAGE_URL_KEYS). A
value in a link that cannot be used is named in a warning, never silently changed or dropped.
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402

from compliance.audit_database import OutdatedDatabaseError  # noqa: E402
from compliance.catalog import HOME_PAGE, PAGES  # noqa: E402
from compliance.paths import DEMO_DB  # noqa: E402
from compliance.schema import JURISDICTIONS  # noqa: E402
from dashboard import auth, data  # noqa: E402
from dashboard.format import SEVERITIES_DESC, Filters, md_escape  # noqa: E402

SIDEBAR_URL_KEYS = {"as_of", "from", "to", "jur", "cat", "sys", "sev"}
# Filters inside pages, bound to the URL by Streamlit under their widget keys (bind="query-params").
PAGE_URL_KEYS = {
    "dsr_tab", "dsr_search", "dsr_states", "policy_tab", "health_source", "health_issues", "evidence_year",
    "log_users", "log_events", "actor",  # actor: the Access page's drill-down writes it itself
}  # fmt: skip
FALLBACK_DAY = date(2000, 1, 1)  # only for a database without any timestamp: every control skips

st.set_page_config(page_title="Capantra privacy audit", page_icon=":material/shield:", layout="wide")
user = auth.gate()  # the sign-in page and a stop until someone is signed in (open on 127.0.0.1 only)

pages = [st.Page(p.path, title=p.title, icon=p.icon, default=p == HOME_PAGE) for p in PAGES]
page = st.navigation(pages)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _url_day(name: str, text: str | None, lo: date, hi: date, problems: list[str]) -> date | None:
    """A date from the URL, or None; a bad or out-of-range one is reported in `problems`."""
    if not text:
        return None
    day = _day(text)
    if day is None:
        problems.append(f"'{name}={text}' is not a date (YYYY-MM-DD): ignored.")
        return None
    if not lo <= day <= hi:
        near = _clamp(day, lo, hi)
        problems.append(f"'{name}={text}' is outside the data's range ({lo} to {hi}): {near} is shown instead.")
        return near
    return day


def _url_values(name: str, allowed: list[str], problems: list[str]) -> list[str]:
    values = st.query_params.get_all(name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        problems.append(f"'{name}' value(s) {', '.join(map(repr, unknown))} not in this database: ignored.")
    return [v for v in values if v in allowed]


def _clamp(day: date, lo: date, hi: date) -> date:
    return min(max(day, lo), hi)


def _bounds() -> tuple[date | None, date | None]:
    """The span of the loaded event data (from a cached query)."""
    fresh = data.query("freshness_by_source")
    timed = fresh.filter(pl.col("source").is_in(["audit", "usage", "diagnostic", "dsr", "inventory", "incidents"]))
    lo, hi = timed["oldest_at"].min(), timed["newest_at"].max()
    return (lo.date() if lo else None, hi.date() if hi else None)


def _options(kind: str) -> list[str]:
    return data.query("filter_options").filter(pl.col("kind") == kind)["value"].to_list()


def _init_state(default_as_of: date, lo: date, hi: date, categories: list[str], systems: list[str]) -> None:
    """Widget state from the URL, once per session (later runs keep what the user chose); what the
    link asked for but cannot be shown goes to `_url_problems`, which the page shows as a warning."""
    if st.session_state.get("_filters_from_url"):
        return
    qp, problems = st.query_params, []
    as_of = _url_day("as_of", qp.get("as_of"), lo, hi, problems) or default_as_of
    start = _url_day("from", qp.get("from"), lo, hi, problems)
    end = _url_day("to", qp.get("to"), lo, hi, problems)
    if start and end and start > end:
        problems.append(f"'from={start}' is after 'to={end}': the period was swapped.")
        start, end = end, start
    st.session_state["f_as_of"] = as_of
    st.session_state["f_period"] = (start or lo, end or as_of)
    st.session_state["f_jur"] = _url_values("jur", JURISDICTIONS, problems)
    st.session_state["f_cat"] = _url_values("cat", categories, problems)
    st.session_state["f_sys"] = _url_values("sys", systems, problems)
    st.session_state["f_sev"] = _url_values("sev", SEVERITIES_DESC, problems)
    unknown = sorted(k for k in qp if k not in SIDEBAR_URL_KEYS | PAGE_URL_KEYS)
    if unknown:
        problems.append(f"Unknown link parameter(s) {', '.join(map(repr, unknown))}: ignored.")
    st.session_state["_url_problems"] = problems
    st.session_state["_page_url_values"] = {k: qp.get_all(k) for k in qp if k in PAGE_URL_KEYS}
    st.session_state["_filters_from_url"] = True


def _as_of_changed() -> None:
    """The Period follows the as-of date: an end that was the old as-of date moves with it, and no
    period runs past the as-of date (nothing after it is evaluated)."""
    new, old = st.session_state.get("f_as_of"), st.session_state.get("_previous_as_of")
    period = tuple(st.session_state.get("f_period") or ())
    if new and len(period) == 2:
        start, end = period
        end = new if end == old or end > new else end
        st.session_state["f_period"] = (min(start, end), end)
    st.session_state["_previous_as_of"] = new
    st.session_state["_url_problems"] = []  # the person has moved on from the link


def _typed_as_of(lo: date, hi: date) -> None:
    """A date typed in 'Type a date' applies on Enter (Streamlit's date field commits a typed date only
    when its calendar closes, so Enter did nothing); a bad one is named, never guessed."""
    text = (st.session_state.get("f_as_of_text") or "").strip()
    if not text:
        return
    day = _day(text)
    if day is None or not lo <= day <= hi:
        reason = "is not a date (YYYY-MM-DD)" if day is None else f"is outside {lo} to {hi}"
        st.session_state["_typed_problem"] = f"'{text}' {reason}: the as-of date is unchanged."
        return
    st.session_state["_typed_problem"] = None
    st.session_state["f_as_of"] = day
    st.session_state["f_as_of_text"] = ""
    _as_of_changed()


def _filters_changed() -> None:
    st.session_state["_url_problems"] = []


def _follow_database(default_as_of: date, lo: date, hi: date) -> None:
    """After a re-ingest: an as-of date left at the old default follows the new one, and every date
    stays within the new data's bounds (a date widget refuses a value outside them)."""
    previous = st.session_state.get("_default_as_of")
    if previous is not None and previous != default_as_of and st.session_state.get("f_as_of") == previous:
        st.session_state["f_as_of"] = default_as_of
    st.session_state["_default_as_of"] = default_as_of
    st.session_state["f_as_of"] = _clamp(st.session_state.get("f_as_of") or default_as_of, lo, hi)
    period = tuple(st.session_state.get("f_period") or (lo, default_as_of))
    st.session_state["f_period"] = tuple(_clamp(d, lo, hi) for d in period)


def _reset(default_as_of: date, lo: date) -> None:
    st.session_state["_url_problems"] = []
    st.session_state["_previous_as_of"] = default_as_of
    st.session_state["f_as_of"] = default_as_of
    st.session_state["f_period"] = (lo, default_as_of)
    for key in ("f_jur", "f_cat", "f_sys", "f_sev"):
        st.session_state[key] = []


def _write_url(filters: Filters) -> None:
    """The as-of date always (a link pins the view it was taken on, even at today's default), the
    other filters when set."""
    values: dict[str, str | list[str] | None] = {
        "as_of": filters.as_of.isoformat(),
        "from": filters.start.isoformat() if filters.start else None,
        "to": filters.end.isoformat() if filters.end else None,
        "jur": list(filters.jurisdictions) or None,
        "cat": list(filters.categories) or None,
        "sys": list(filters.systems) or None,
        "sev": list(filters.severities) or None,
    }
    for key, value in values.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        elif st.query_params.get_all(key) != (value if isinstance(value, list) else [value]):
            st.query_params[key] = value


def sidebar() -> Filters:
    try:
        if not os.environ.get(data.DB_ENV) and not DEMO_DB.exists():
            with st.spinner("Building the demo database (first run only, a minute or two)..."):
                db = data.database()
        else:
            db = data.database()
    except FileNotFoundError as exc:
        st.error(f"No audit database at {exc.filename}. Build one with `compliance ingest EXPORT_DIR --db PATH`.")
        st.stop()
    try:
        default_as_of = data.as_of_default()
    except OutdatedDatabaseError as exc:
        st.error(md_escape(exc))  # the path is text, not Markdown
        st.stop()
    lo, newest = _bounds()
    if default_as_of is None or lo is None or newest is None:
        st.sidebar.warning("The database holds no timestamped data: every control will skip.")
        default_as_of = lo = newest = FALLBACK_DAY
    # As-of dates after the data let a lead see what falls due next; a year is plenty.
    hi = max(newest, default_as_of) + timedelta(days=366)
    categories, systems = _options("category"), _options("system")
    _init_state(default_as_of, lo, hi, categories, systems)
    _follow_database(default_as_of, lo, hi)

    sb = st.sidebar
    sb.markdown(f"**Database** {md_escape(db.name)}  \n{db.size / 1e6:,.1f} MB · data {lo} to {newest}")
    st.session_state.setdefault("_previous_as_of", st.session_state["f_as_of"])
    sb.date_input(
        "As of",
        key="f_as_of",
        min_value=lo,
        max_value=hi,
        format="YYYY-MM-DD",
        on_change=_as_of_changed,
        help="Controls are evaluated as of the end of this day. Default: the newest date in the data. "
        "Type a date and press Enter, or pick one.",
    )
    sb.text_input(
        "Type a date",
        key="f_as_of_text",
        placeholder="YYYY-MM-DD, then Enter",
        on_change=_typed_as_of,
        args=(lo, hi),
        label_visibility="collapsed",
        help="Type an as-of date and press Enter.",
    )
    if st.session_state.get("_typed_problem"):
        sb.warning(md_escape(st.session_state["_typed_problem"]))
    period = sb.date_input(
        "Period",
        key="f_period",
        min_value=lo,
        max_value=hi,
        format="YYYY-MM-DD",
        on_change=_filters_changed,
        help="Narrows event-based views (alarms by the day observed, requests by receipt, activity by day). "
        "Follows the as-of date.",
    )
    sb.multiselect(
        "Jurisdiction", JURISDICTIONS, key="f_jur", placeholder="All jurisdictions", on_change=_filters_changed
    )
    sb.multiselect("Data category", categories, key="f_cat", placeholder="All categories", on_change=_filters_changed)
    sb.multiselect("System", systems, key="f_sys", placeholder="All systems", on_change=_filters_changed)
    sb.multiselect("Severity", SEVERITIES_DESC, key="f_sev", placeholder="All severities", on_change=_filters_changed)
    sb.button("Reset filters", on_click=_reset, args=(default_as_of, lo), width="stretch")
    st.session_state["_link_slot"] = sb.container()  # filled after the page ran, with its own filters too

    as_of = st.session_state["f_as_of"] or default_as_of
    start, end = (*tuple(period), None, None)[:2] if period else (None, None)  # mid-selection: one date
    filters = Filters(
        as_of=as_of,
        start=start if start and start > lo else None,
        end=end if end and end < newest else None,
        jurisdictions=tuple(st.session_state["f_jur"]),
        categories=tuple(st.session_state["f_cat"]),
        systems=tuple(st.session_state["f_sys"]),
        severities=tuple(st.session_state["f_sev"]),
    )
    _write_url(filters)
    st.session_state["_newest_as_of"] = default_as_of
    sb.caption(
        f"Identifiers of people are pseudonymised. Queries {data.queries_digest()}, policy {data.policy().version}."
    )
    return filters


def _back_to_newest(newest: date) -> None:
    st.session_state["f_as_of"] = newest
    _as_of_changed()


def _notices(filters: Filters) -> Any:
    """The as-of banner and the link's problems, above every page; returns a slot for problems that
    only show once the page ran (an in-page filter value the page could not use)."""
    newest = st.session_state.get("_newest_as_of")
    if newest and filters.as_of != newest:
        text, back = st.columns([6, 1], vertical_alignment="center")
        later = "after" if filters.as_of > newest else "before"
        text.warning(
            f"Viewing as of {filters.as_of:%A %d %B %Y}, {abs((newest - filters.as_of).days)} days {later} the newest "
            f"data ({newest:%d %B %Y}). Every control, deadline and count here is evaluated as of that day.",
            icon=":material/history:",
        )
        back.button("Back to the newest date", on_click=_back_to_newest, args=(newest,), key="back_to_newest")
    for problem in st.session_state.get("_url_problems", []):
        st.warning(
            md_escape(f"This link asked for something that cannot be shown. {problem}"), icon=":material/link_off:"
        )
    return st.container()


def _page_link() -> str:
    """The address of this view: page, as-of date, sidebar filters and the page's own filters."""
    base = (st.context.url or "").split("?")[0]
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return f"{base}?{urlencode(pairs)}" if pairs else base


def _applied(key: str, values: list[str]) -> bool:
    """Whether the page's widget `key` holds what the link asked for (Streamlit drops a bound value
    from the URL when it equals the widget's default, too)."""
    current = st.session_state.get(key)
    if isinstance(current, list | tuple):
        return [str(c) for c in current] == values
    if isinstance(current, bool):
        return values == [str(current).lower()] or values == [str(current)]
    return current is not None and [str(current)] == values


def _after_page(late_notices: Any) -> None:
    # In-page values from the link that the page's widget refused (Streamlit drops them from the URL).
    first = st.session_state.pop("_page_url_values", {})
    dropped = {k: v for k, v in first.items() if st.query_params.get_all(k) != v and not _applied(k, v)}
    for key, values in dropped.items():
        late_notices.warning(
            md_escape(f"This link asked for {key}={', '.join(values)}, which this page cannot show: ignored."),
            icon=":material/link_off:",
        )
    slot = st.session_state.get("_link_slot")
    if slot is not None:
        # In a popover: the browser loads Streamlit's code highlighter (2.7 s of script in Chromium, more
        # than the rest of a page) only when someone opens it, not on every page of every session.
        with slot.popover("Copy link to this view", icon=":material/link:", width="stretch"):
            st.caption("This view's address: page, as-of date, sidebar filters and the page's own filters.")
            st.code(_page_link(), language=None, wrap_lines=True)


auth.banner(user)
filters = sidebar()
st.session_state["filters"] = filters
st.session_state["_page"] = page.url_path or "overview"
auth.log_page_view(
    st.session_state["_page"],
    {
        "as_of": filters.as_of,
        "from": filters.start,
        "to": filters.end,
        "jur": list(filters.jurisdictions),
        "cat": list(filters.categories),
        "sys": list(filters.systems),
        "sev": list(filters.severities),
        "query": {k: st.query_params.get_all(k) for k in st.query_params},
    },
)
late_notices = _notices(filters)
try:
    page.run()
finally:  # also after a page's st.stop()
    _after_page(late_notices)
