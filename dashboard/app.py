"""The dashboard: `streamlit run dashboard/app.py` (or `compliance serve`).

This file is the router (`st.navigation` over `dashboard/views/`) and the sidebar: which database,
the as-of date, and the filters every page reads (`format.current_filters()`). The filters live in
the URL (`st.query_params`), so a link reproduces the view.
"""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402
import streamlit as st  # noqa: E402

from compliance.catalog import HOME_PAGE, PAGES  # noqa: E402
from compliance.paths import DEMO_DB  # noqa: E402
from compliance.schema import JURISDICTIONS  # noqa: E402
from dashboard import auth, data  # noqa: E402
from dashboard.format import SEVERITIES_DESC, Filters, md_escape  # noqa: E402

FALLBACK_DAY = date(2000, 1, 1)  # only for a database without any timestamp: every control skips

st.set_page_config(page_title="Capantra privacy audit", page_icon=":material/shield:", layout="wide")
user = auth.gate()  # the sign-in page and a stop until someone is signed in (open on 127.0.0.1 only)

pages = [st.Page(p.path, title=p.title, icon=p.icon, default=p == HOME_PAGE) for p in PAGES]
page = st.navigation(pages)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None  # a hand-edited URL with a bad date falls back to the default


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
    """Widget state from the URL, once per session (later runs keep what the user chose)."""
    if st.session_state.get("_filters_from_url"):
        return
    qp = st.query_params
    st.session_state["f_as_of"] = _clamp(_day(qp.get("as_of")) or default_as_of, lo, hi)
    start, end = _day(qp.get("from")), _day(qp.get("to"))
    st.session_state["f_period"] = (_clamp(start or lo, lo, hi), _clamp(end or default_as_of, lo, hi))
    st.session_state["f_jur"] = [j for j in qp.get_all("jur") if j in JURISDICTIONS]
    st.session_state["f_cat"] = [c for c in qp.get_all("cat") if c in categories]
    st.session_state["f_sys"] = [s for s in qp.get_all("sys") if s in systems]
    st.session_state["f_sev"] = [s for s in qp.get_all("sev") if s in SEVERITIES_DESC]
    st.session_state["_filters_from_url"] = True


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
    st.session_state["f_as_of"] = default_as_of
    st.session_state["f_period"] = (lo, default_as_of)
    for key in ("f_jur", "f_cat", "f_sys", "f_sev"):
        st.session_state[key] = []


def _write_url(filters: Filters, default_as_of: date) -> None:
    """Only what differs from the defaults goes in the URL, so a plain link stays plain."""
    values: dict[str, str | list[str] | None] = {
        "as_of": filters.as_of.isoformat() if filters.as_of != default_as_of else None,
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
    default_as_of = data.as_of_default()
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
    sb.date_input(
        "As of",
        key="f_as_of",
        min_value=lo,
        max_value=hi,
        help="Controls are evaluated as of the end of this day. Default: the newest date in the data.",
    )
    period = sb.date_input(
        "Period",
        key="f_period",
        min_value=lo,
        max_value=hi,
        help="Narrows event-based views (alarms by the day observed, requests by receipt, activity by day).",
    )
    sb.multiselect("Jurisdiction", JURISDICTIONS, key="f_jur", placeholder="All jurisdictions")
    sb.multiselect("Data category", categories, key="f_cat", placeholder="All categories")
    sb.multiselect("System", systems, key="f_sys", placeholder="All systems")
    sb.multiselect("Severity", SEVERITIES_DESC, key="f_sev", placeholder="All severities")
    sb.button("Reset filters", on_click=_reset, args=(default_as_of, lo), width="stretch")

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
    _write_url(filters, default_as_of)
    sb.caption(
        f"Identifiers of people are pseudonymised. Queries {data.queries_digest()}, policy {data.policy().version}."
    )
    return filters


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
page.run()
