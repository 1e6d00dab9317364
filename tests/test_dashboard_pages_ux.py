"""Issue 18 on the Overview, DSR and Retention pages, with AppTest: counts from one definition
(compliance.posture_counts) agree across the page and with the engine, a section drills into its controls and
alarms, stale sources are said where the numbers are, the DSR table and the Retention page show what matters.

Runs on the small demo (shared with test_dashboard_apptest) and on tests/stale_bundle.py, a database whose DSR
export ends 62 days before the as-of date and whose inventory holds a few records that matter among many that
do not.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

os.environ.setdefault("COMPLIANCE_DASHBOARD_PERSIST", "0")
os.environ.setdefault("COMPLIANCE_PSEUDONYM_KEY", "test-key-for-the-dashboard-tests-0123456789")

from apptest_support import assert_clean as _assert_clean
from apptest_support import number as _number
from apptest_support import plain as _plain
from apptest_support import table as _table
from dashboard_support import APP, TIMEOUT
from streamlit.testing.v1 import AppTest

from compliance.posture_counts import alarms_by_section, open_alarm_count
from dashboard.format import control_title

pytestmark = pytest.mark.xdist_group("dashboard")


def _open(db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("COMPLIANCE_DB", str(db))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.switch_page(page).run()
    _assert_clean(at)
    return at


def _texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in at.get(kind)]


def _all_cells(at: AppTest) -> list[str]:
    cells = []
    for df in [*at.dataframe, *at.table]:
        value = df.value
        value = value.data if hasattr(value, "data") else value
        cells += [str(v) for v in value.astype(str).to_numpy().ravel()]
    return cells


def _days(column: pl.Series) -> pl.Series:
    """A number column, shown as padded text when it has empty cells (dashboard.format.blank_grid), as numbers."""
    if column.dtype != pl.String:
        return column
    return column.str.replace_all("\u2007", "").cast(pl.Int64, strict=False)


# --- Overview -----------------------------------------------------------------------------------


def test_overview_counts_agree_everywhere(demo_db: Path, demo_findings: pl.DataFrame, monkeypatch) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    total = open_alarm_count(demo_findings)
    posture = _table(at, "Section", "Posture", "Alarms")
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    engine = dict(alarms_by_section(demo_findings).select("policy_section", "open_alarms").iter_rows())
    assert _number(at, "Open alarms") == total == posture["Alarms"].sum() == problems["Open alarms"].sum() > 0
    assert dict(problems.select("Section", "Open alarms").iter_rows()) == engine
    in_posture = dict(posture.select("Section", "Alarms").iter_rows())
    assert all(in_posture[s] == n for s, n in engine.items())
    assert set(problems["Section"]) == {s for s, n in in_posture.items() if n}  # grouped by section, not page


def test_overview_section_drills_into_its_controls_and_alarms(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    assert at.selectbox(key="overview_section").value == problems["Section"][0]  # the worst section first
    for section in ("6", "8"):
        at.selectbox(key="overview_section").set_value(section).run()
        _assert_clean(at)
        alarms = demo_findings.filter((pl.col("status") == "alarm") & (pl.col("policy_section") == section))
        per_control = _table(at, "Control", "Open alarms", "Share of the section")
        expected = {control_title(c): n for c, n in alarms.group_by("control_id").len().iter_rows()}  # shown by title
        assert dict(per_control.select("Control", "Open alarms").iter_rows()) == expected
        assert per_control["Open alarms"].to_list() == sorted(expected.values(), reverse=True)  # noisiest first
        assert per_control["Share of the section"].sum() == pytest.approx(100)  # per cent
        top, n = per_control.row(0)[:2]
        assert any(f"raises {n} of the section's {alarms.height} open alarms" in c for c in _texts(at, "caption"))
        shown = _table(at, "Severity", "Control", "Reason")
        assert shown.height == alarms.height and set(shown["Control"]) == set(expected)
        top_id = per_control.filter(pl.col("Control") == top)["Control id"][0]
        at.selectbox(key="overview_section_control").set_value(top_id).run()
        assert set(_table(at, "Severity", "Control", "Reason")["Control"]) == {top}


def test_overview_row_click_picks_the_section(demo_db: Path, monkeypatch) -> None:
    """A click on a section row (st.dataframe selection) drives the same drill-down as the picker."""
    from dashboard.problems_by_section import SECTION_KEY, TABLE_KEY, _select_row

    at = _open(demo_db, "views/overview.py", monkeypatch)
    order = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")["Section"].to_list()
    state = {TABLE_KEY: {"selection": {"rows": [2]}}}
    with monkeypatch.context() as m:
        m.setattr("streamlit.session_state", state)
        _select_row(order)()
    assert state[SECTION_KEY] == order[2]


def test_overview_filters_narrow_the_problems_and_say_so(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    at = _open(demo_db, "views/overview.py", monkeypatch)
    at.multiselect(key="f_sev").set_value(["critical"]).run()
    _assert_clean(at)
    critical = demo_findings.filter(pl.col("severity") == "critical")
    posture = _table(at, "Section", "Alarms", "Alarms matching the filters")
    problems = _table(at, "Section", "Open alarms", "Noisiest control (alarms)")
    assert posture["Alarms"].sum() == open_alarm_count(demo_findings)
    matching = dict(posture.select("Section", "Alarms matching the filters").iter_rows())
    assert dict(problems.select("Section", "Open alarms").iter_rows()) == {s: n for s, n in matching.items() if n}
    assert problems["Open alarms"].sum() == _number(at, "Open alarms") == open_alarm_count(critical)


def test_overview_names_stale_sources(stale_db: Path, monkeypatch) -> None:
    at = _open(stale_db, "views/overview.py", monkeypatch)
    warning = next(w for w in _texts(at, "warning") if "Stale or empty sources" in w)
    assert "dsr: ends 2025-03-31, 62 days before" in warning
    assert "usage: no rows" in warning and "audit" not in warning
    fresh = _table(at, "Source", "Days behind as-of", "Stale")
    assert dict(fresh.select("Source", "Stale").iter_rows())["dsr"] == "stale"
    assert "None" not in _all_cells(at)


def test_a_section_whose_controls_examined_nothing_is_not_a_green_ok(stale_db: Path, monkeypatch) -> None:
    """The stale bundle has no transfer and no incident: section 7's control ran over nothing. The Overview says
    'nothing to examine' instead of 'ok', and the policy map's controls say their result in words."""
    at = _open(stale_db, "views/overview.py", monkeypatch)
    posture = dict(_table(at, "Section", "Posture", "Alarms").select("Section", "Posture").iter_rows())
    assert posture["7"] == "nothing to examine"
    assert posture["6"] == "ALARM" and posture["2"] == "ok"  # OK rows were examined there
    at = _open(stale_db, "views/policy_map.py", monkeypatch)
    results = []
    for label in [t.label for t in at.tabs]:  # only the open section's tab is built: open each in turn
        at.query_params["policy_tab"] = label
        at.run()
        _assert_clean(at)
        results += [r for df in at.dataframe if "Result as of the date" in df.value.columns
                    for r in df.value["Result as of the date"]]  # fmt: skip
    assert "nothing to examine" in results and any(r.endswith("open alarm(s)") for r in results), results
    assert all(r.startswith(("ok (", "nothing", "no data", "control error")) or "alarm" in r for r in results)


# --- DSR -------------------------------------------------------------------------------------------


def test_dsr_on_stale_data_says_so_instead_of_good_news(stale_db: Path, monkeypatch) -> None:
    at = _open(stale_db, "views/dsr.py", monkeypatch)
    assert _number(at, "Open") == 0
    warning = next(w for w in _texts(at, "warning") if "data subject request export" in w)
    assert "ends on 2025-03-31, 62 days before the as-of date 2025-06-01" in warning
    assert not _texts(at, "success"), "no green good news drawn from a stale export"
    assert any(i.startswith("No request is open") and "stale" in i for i in _texts(at, "info"))


def test_dsr_on_current_data_keeps_its_good_news(demo_db: Path, monkeypatch) -> None:
    at = _open(demo_db, "views/dsr.py", monkeypatch)
    assert not [w for w in _texts(at, "warning") if "data subject request export" in w]
    assert not [i for i in _texts(at, "info") if "stale" in i]  # nothing on the page is called stale


def test_dsr_table_shows_closing_date_and_margin(stale_db: Path, monkeypatch) -> None:
    at = _open(stale_db, "views/dsr.py", monkeypatch)
    rows = {r["Request"]: r for r in _table(at, "Request", "Closed", "Closed vs deadline").iter_rows(named=True)}
    # Worked by hand: EU access received 2025-01-06, due a month later (Thu 2025-02-06), closed 2025-01-20.
    assert (rows["R-ONTIME"]["Closed"], rows["R-ONTIME"]["Closed vs deadline"]) == ("2025-01-20", "17 days early")
    # EU delete received 2025-01-10, due Mon 2025-02-10, completed 2025-03-31: 49 days late.
    assert rows["R-LATE"]["Closed vs deadline"] == "49 days late"
    assert rows["R-LAST"]["Closed vs deadline"] == "withdrawn"
    assert all(r["Days left"] == "" for r in rows.values())  # closed requests have no days left: blank
    assert "None" not in _all_cells(at)


def test_dsr_open_requests_keep_days_left_and_due_within_7_days(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    at = _open(demo_db, "views/dsr.py", monkeypatch)
    due_soon = demo_findings.filter((pl.col("control_id") == "dsr.due_soon") & (pl.col("status") == "info"))
    assert _number(at, "Due within 7 days") == due_soon.height
    table = _table(at, "Request", "Status", "Days left", "Closed vs deadline")
    open_rows = table.filter(pl.col("Status") == "open")
    assert _days(open_rows["Days left"]).null_count() == 0 and open_rows["Closed vs deadline"].eq("").all()
    closed = table.filter(pl.col("Status").is_in(["completed", "rejected"]))
    assert closed["Closed vs deadline"].str.contains(r"^\d+ days? (early|late)$|^on the due date$").all()
    at.multiselect(key="dsr_states").set_value(["due_soon"]).run()
    shown = _table(at, "Request", "Status", "Days left")
    assert shown.height == due_soon.height and _days(shown["Days left"]).is_between(0, 7).all()


def test_dsr_row_click_explains_that_request(stale_db: Path, monkeypatch) -> None:
    from dashboard.dsr_table import EXPLAIN_KEY, TABLE_KEY, explain_row_click

    at = _open(stale_db, "views/dsr.py", monkeypatch)
    ids = _table(at, "Request", "Closed vs deadline")["Request"].to_list()
    state = {TABLE_KEY: {"selection": {"rows": [ids.index("R-LATE")]}}}
    with monkeypatch.context() as m:
        m.setattr("streamlit.session_state", state)
        explain_row_click(ids)()
    assert state[EXPLAIN_KEY] == "R-LATE"
    at.selectbox(key=EXPLAIN_KEY).set_value("R-LATE").run()
    _assert_clean(at)
    assert any(_plain(m.value).startswith("**R-LATE** · delete · EU") for m in at.markdown)


def test_dsr_turnaround_table_is_complete(demo_db: Path, monkeypatch) -> None:
    at = _open(demo_db, "views/dsr.py", monkeypatch)
    turnaround = _table(at, "Type", "Received", "Closed", "Median days", "Closed on time")
    assert turnaround.height > 0 and turnaround["Closed on time"].str.ends_with("%").all()
    assert not turnaround["Median days"].str.ends_with(".0").any()  # 17, not 17.0 (17.5 stays)


# --- Retention --------------------------------------------------------------------------------------


def test_retention_puts_the_records_that_matter_first(stale_db: Path, monkeypatch) -> None:
    at = _open(stale_db, "views/retention.py", monkeypatch)
    assert at.subheader[0].value == "Records that need action"
    table = _table(at, "Severity", "Days overdue", "Record", "Why")
    # Worked by hand (as of 2025-06-01): t_old_1 due 2025-01-31 (121 days), t_name due 2025-03-01 (92), the two
    # tickets of sub_gone left when R-LATE was reported complete on 2025-03-31 (62), t_old_2 due 2025-04-19 (43).
    assert table.select("Record", "Days overdue").rows() == [
        ("support-desk/tickets/t_old_1", 121),
        ("support-desk/tickets/t_name", 92),
        ("support-desk/tickets/t_gone_1", 62),
        ("support-desk/tickets/t_gone_2", 62),
        ("support-desk/tickets/t_old_2", 43),
    ]
    assert _number(at, "Need action") == 5  # the headline counts the erasure's leftovers too
    assert _number(at, "Left by erasures") == 2
    assert _number(at, "Past retention") == 3  # t_hold is on legal hold: exempt, not at issue
    assert "None" not in _all_cells(at)


def test_retention_headline_equals_the_engine(demo_db: Path, demo_findings: pl.DataFrame, monkeypatch) -> None:
    at = _open(demo_db, "views/retention.py", monkeypatch)
    alarms = demo_findings.filter(pl.col("status") == "alarm")
    past = alarms.filter(pl.col("control_id") == "retention.record_past_retention")["resource"].str.strip_prefix(
        "record:"
    )
    left = alarms.filter(pl.col("control_id") == "retention.erasure_incomplete")["evidence"].explode()
    left = left.filter(left.str.count_matches("/") >= 2)
    assert _number(at, "Need action") == pl.concat([past, left]).n_unique() > 0
    assert _number(at, "Left by erasures") == left.n_unique() > 0
    assert _table(at, "Severity", "Days overdue", "Record")["Days overdue"].is_sorted(descending=True)


def test_access_page_counts_flagged_actors_by_the_one_definition(
    demo_db: Path, demo_findings: pl.DataFrame, monkeypatch
) -> None:
    from compliance.posture_counts import flagged_actor_count, flagged_actors

    at = _open(demo_db, "views/access.py", monkeypatch)
    assert _number(at, "Actors flagged") == flagged_actor_count(demo_findings) > 0
    assert _table(at, "Actor", "Detectors").height == flagged_actors(demo_findings).height


def test_overview_tables_have_no_placeholder_cells(stale_db: Path, monkeypatch) -> None:
    """Empty cells are blank: no literal None, and no neutralised '-' left where a dash was meant."""
    at = _open(stale_db, "views/overview.py", monkeypatch)
    at.session_state["overview_every_control"] = True  # the expander of every control's result, opened
    at.run()
    cells = _all_cells(at)
    assert "None" not in cells and "'-" not in cells
    controls = _table(at, "Control", "Why it proves nothing (skip or error)")
    assert controls["Why it proves nothing (skip or error)"].eq("").any()  # controls that ran: blank, not None


def test_security_incident_clocks_blank_not_none_and_units_said(demo_db: Path, monkeypatch) -> None:
    """An incident outside a clock has no hours or days: its cell is blank (the grid printed 'None'), and the
    charts' sentences give the longest time with its unit."""
    at = _open(demo_db, "views/security.py", monkeypatch)
    incidents = _table(at, "Incident", "Hours to notify", "Days to assess")
    assert incidents.height > 0
    assert "None" not in [str(v) for c in ("Hours to notify", "Days to assess") for v in incidents[c]]
    assert incidents["Hours to notify"].str.strip_chars().eq("").any()  # some incident is outside the 72 h clock
    captions = [c for c in _texts(at, "caption") if "the longest took" in c]
    assert captions and all(c.endswith((" hours.", " days.")) for c in captions), captions


@pytest.mark.parametrize("page", ["views/access.py", "views/triage.py"])
def test_working_days_are_named_in_words(demo_db: Path, page: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The off-hours reason names business days as words ("Monday to Friday"), not as ISO weekday numbers."""
    from plain_language import shown_text

    text = shown_text(_open(demo_db, page, monkeypatch))
    assert "business hours" in text and "ISO weekdays" not in text
    assert "Monday to Friday" in text


def test_policy_map_builds_only_the_open_section(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18's first load: a closed section's grids are not built (the browser drew 17 grids for one visible),
    and opening a section (its tab, or a link naming it) shows that section's text and data-map entries."""
    at = _open(demo_db, "views/policy_map.py", monkeypatch)
    labels = [t.label for t in at.tabs]
    assert len(labels) > 5 and all(len(tab.children) == 0 for tab in at.tabs[1:]), "closed tabs stay empty"
    at.query_params["policy_tab"] = label = next(lab for lab in labels if lab.endswith("Retention"))
    at.run()
    _assert_clean(at)
    built = [i for i, tab in enumerate(at.tabs) if len(tab.children)]
    assert built == [labels.index(label)]
    assert "#### Retention" in _texts(at, "markdown")
    assert any("System" in df.value.columns and "Retention rule" in df.value.columns for df in at.dataframe)


def test_dsr_builds_only_the_open_tab(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadline tabs are built on demand: the open one (first, or the one the link names) and no other."""
    at = _open(demo_db, "views/dsr.py", monkeypatch)
    assert len(at.tabs[0].children) and all(len(tab.children) == 0 for tab in at.tabs[1:])
    at.query_params["dsr_tab"] = "Extensions"
    at.run()
    _assert_clean(at)
    assert [t.label for t in at.tabs if len(t.children)] == ["Extensions"]
    assert any(c.startswith("Extension status of the requests in scope") for c in _texts(at, "caption"))


def test_evidence_builds_a_processing_record_when_opened(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The record of processing: the first activity open and built, the closed ones empty until opened."""
    at = _open(demo_db, "views/evidence.py", monkeypatch)
    assert len(at.expander) > 3 and len(at.expander[0].children) and not any(e.children for e in at.expander[1:])
    at.session_state["ropa_1"] = True  # what a click on the second activity sets
    at.run()
    _assert_clean(at)
    assert len(at.expander[1].children) and not any(e.children for e in at.expander[2:])
    assert any("Purposes and legal basis" in m for m in _texts(at, "markdown"))
    at.session_state["ropa_security"] = True
    at.run()
    assert len(at.expander[-1].children) and all(m.startswith("- ") for m in _texts(at.expander[-1], "markdown"))
