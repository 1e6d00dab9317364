"""Dates and sharing in the dashboard (AppTest): the as-of date is pinned in every link, the Period
follows it, a banner says when the view is not the newest, the filters inside a page are in the link,
a link's unusable values are named in a warning, and the sidebar offers the whole link to copy.

Typing a date and pressing Enter is a browser behaviour: tests/test_dashboard_browser.py covers it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from dashboard_support import APP, TIMEOUT
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.xdist_group("dashboard")


@pytest.fixture
def app(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("COMPLIANCE_DB", str(demo_db))
    yield AppTest.from_file(str(APP), default_timeout=TIMEOUT)


def _open(at: AppTest, page: str = "views/overview.py") -> AppTest:
    if page != "views/overview.py":
        at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _url(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def _newest(at: AppTest) -> dt.date:
    return at.session_state["_newest_as_of"]


def test_a_link_taken_at_the_default_date_pins_it(app: AppTest) -> None:
    at = _open(app)
    newest = _newest(at)
    assert at.date_input(key="f_as_of").value == newest
    assert _url(at, "as_of") == [newest.isoformat()]  # a later load cannot move this link's date
    assert not any("Viewing as of" in w for w in _warnings(at))  # the newest date needs no banner


def test_a_past_date_shows_the_banner_and_back_returns_to_the_newest(app: AppTest) -> None:
    at = _open(app)
    newest = _newest(at)
    past = newest - dt.timedelta(days=40)
    at.date_input(key="f_as_of").set_value(past).run()
    banner = [w for w in _warnings(at) if "Viewing as of" in w]
    assert banner and f"{past:%d %B %Y}" in banner[0] and "40 days before" in banner[0]
    assert _url(at, "as_of") == [past.isoformat()]
    at.button(key="back_to_newest").click().run()
    assert at.date_input(key="f_as_of").value == newest
    assert not any("Viewing as of" in w for w in _warnings(at))


def test_the_period_follows_the_as_of_date(app: AppTest) -> None:
    at = _open(app)
    newest = _newest(at)
    start, end = at.date_input(key="f_period").value
    assert end == newest
    earlier = newest - dt.timedelta(days=30)
    at.date_input(key="f_as_of").set_value(earlier).run()
    assert at.date_input(key="f_period").value == (start, earlier)
    # A period chosen by hand keeps its end, unless it runs past the new as-of date.
    custom_end = earlier - dt.timedelta(days=10)
    at.date_input(key="f_period").set_value((start, custom_end)).run()
    at.date_input(key="f_as_of").set_value(newest).run()
    assert at.date_input(key="f_period").value == (start, custom_end)
    at.date_input(key="f_as_of").set_value(custom_end - dt.timedelta(days=5)).run()
    assert at.date_input(key="f_period").value[1] == custom_end - dt.timedelta(days=5)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"as_of": "2025-13-45"}, "'as_of=2025-13-45' is not a date"),
        ({"as_of": "1999-01-01"}, "'as_of=1999-01-01' is outside the data's range"),
        ({"jur": ["EU", "XX"]}, "'jur' value(s) 'XX' not in this database"),
        ({"sev": "severe"}, "'sev' value(s) 'severe' not in this database"),
        ({"cat": "<b>x</b>"}, "'cat' value(s) '<b>x</b>' not in this database"),
        ({"from": "2025-06-01", "to": "2025-05-01"}, "is after 'to=2025-05-01': the period was swapped"),
        ({"bogus": "1"}, "Unknown link parameter(s) 'bogus'"),
    ],
    ids=[
        "bad-date",
        "out-of-range",
        "unknown-jurisdiction",
        "unknown-severity",
        "markup",
        "swapped-period",
        "unknown-key",
    ],
)
def test_a_links_unusable_values_are_named_in_a_warning(app: AppTest, params: dict, expected: str) -> None:
    app.query_params.update(params)
    at = _open(app)
    warnings = [w for w in _warnings(at) if w.startswith("This link")]
    assert len(warnings) == 1 and expected in warnings[0].replace("\\", ""), warnings
    if "jur" in params:
        assert at.multiselect(key="f_jur").value == ["EU"]  # the usable values are kept
    at.multiselect(key="f_sev").set_value(["high"]).run()  # moving on clears the warning
    assert not [w for w in _warnings(at) if w.startswith("This link")]


def test_filters_inside_a_page_are_in_the_link(app: AppTest) -> None:
    app.query_params.update({"dsr_search": "DSR-2025-00119", "dsr_states": "Overdue"})
    at = _open(app, "views/dsr.py")
    assert at.text_input(key="dsr_search").value == "DSR-2025-00119"
    assert at.multiselect(key="dsr_states").value == ["overdue"]
    assert not [w for w in _warnings(at) if w.startswith("This link")]
    link = at.sidebar.code[0].value
    assert "dsr_search=DSR-2025-00119" in link and f"as_of={_newest(at).isoformat()}" in link


def test_a_page_value_the_page_cannot_show_is_named(app: AppTest) -> None:
    app.query_params.update({"actor": "A-0000000000000000"})
    at = _open(app, "views/access.py")
    assert any("actor=A-0000000000000000" in w.replace("\\", "") for w in _warnings(at)), _warnings(at)


def test_the_copy_link_holds_the_date_and_every_filter(app: AppTest) -> None:
    at = _open(app, "views/security.py")
    at.multiselect(key="f_jur").set_value(["EU", "UK"]).run()
    link = at.sidebar.code[0].value
    assert f"as_of={_newest(at).isoformat()}" in link and "jur=EU&jur=UK" in link


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("2025-11-20", None), ("20/11/2025", "is not a date"), ("1999-01-01", "is outside")],
    ids=["iso-date", "other-format", "out-of-range"],
)
def test_a_typed_date_applies_on_enter(app: AppTest, typed: str, problem: str | None) -> None:
    at = _open(app)
    newest = _newest(at)
    at.text_input(key="f_as_of_text").input(typed).run()  # a text field commits on Enter
    if problem is None:
        assert at.date_input(key="f_as_of").value == dt.date.fromisoformat(typed)
        assert at.date_input(key="f_period").value[1] == dt.date.fromisoformat(typed)
        assert _url(at, "as_of") == [typed]
    else:
        assert at.date_input(key="f_as_of").value == newest
        assert any(problem in w for w in [w.value for w in at.sidebar.warning]), at.sidebar.warning
