"""A check's findings come out in an order that depends on the rows alone, never on how the controls ran.

The controls run two at a time and each returns its rows in its own order; the file is reproducible only because
`sort_findings` orders them and no two rows tie on its keys. A control that emitted two rows for one resource
(the same control, resource and status, differing in severity or evidence) would make the order of those rows
depend on the run: these tests catch that on the demo."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
from conftest import DemoBuild

from compliance.config.bundle import Policy
from compliance.controls import run_controls, sort_findings

AS_OF = dt.date(2025, 12, 31)


def _demo_findings(demo_build: DemoBuild, policy: Policy) -> pl.DataFrame:
    con = duckdb.connect(str(demo_build.db), read_only=True)
    try:
        return run_controls(con, policy, AS_OF)
    finally:
        con.close()


def test_each_resource_has_one_row_per_control(demo_build: DemoBuild, policy: Policy) -> None:
    findings = _demo_findings(demo_build, policy)
    assert findings.height > 1000  # the demo plants findings in every section
    repeated = findings.group_by("control_id", "resource").len().filter(pl.col("len") > 1)
    assert repeated.is_empty(), repeated.head(5)


def test_the_order_does_not_depend_on_the_order_rows_arrive_in(demo_build: DemoBuild, policy: Policy) -> None:
    findings = _demo_findings(demo_build, policy)
    for seed in (1, 2, 3):
        shuffled = findings.sample(fraction=1.0, shuffle=True, seed=seed)
        assert not shuffled.equals(findings)  # the shuffle did move rows
        assert sort_findings(shuffled).equals(findings)


def test_rows_sharing_a_resource_are_ordered_by_the_remaining_keys() -> None:
    # Stored findings of several runs, or a control that broke the one-row rule, tie on (control_id, resource):
    # the later keys (status, severity, observed_at, reason) must still decide their order.
    at = dt.datetime(2025, 12, 31, 9)
    rows = [
        ("c.b", "r1", "ok", "info", at, "second"),
        ("c.a", "r2", "alarm", "high", at, "only"),
        ("c.b", "r1", "ok", "info", at, "first"),
        ("c.b", "r1", "alarm", "high", None, "alarm"),
    ]
    keys = ["control_id", "resource", "status", "severity", "observed_at", "reason"]
    frame = pl.DataFrame(rows, schema=keys, orient="row")
    assert sort_findings(frame).rows() == [rows[1], rows[3], rows[2], rows[0]]
