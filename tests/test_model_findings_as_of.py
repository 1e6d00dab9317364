"""findings_as_of on hand-made stored findings: only the rows of the asked as-of date and controls, all columns."""

from __future__ import annotations

import datetime as dt

from rows import finding_row

from compliance.queries import run_query

D, OLD = dt.date(2025, 3, 10), dt.date(2025, 3, 9)


def _f(control: str, resource: str, as_of: dt.date = D) -> dict:
    return finding_row(control, resource, "ok", "info", reason=f"{resource} is fine.",
                       observed_at=dt.datetime(2025, 3, 1, 9), evidence=[resource], as_of=as_of)  # fmt: skip


def test_findings_as_of(make_db, policy) -> None:
    con = make_db({"findings": [_f("c.one", "actor:a"), _f("c.two", "dsr:1"), _f("c.one", "actor:z", as_of=OLD)]})
    out = run_query(con, "findings_as_of", {"as_of": D, "control_ids": ["c.one", "c.three"]}, policy)
    assert out.rows() == [
        ("c.one", "5", "actor:a", "ok", "info", "actor:a is fine.", dt.datetime(2025, 3, 1, 9), ["actor:a"])
    ]  # c.two not asked for; actor:z stored as of another day
    assert run_query(con, "findings_as_of", {"as_of": D, "control_ids": []}, policy).is_empty()
