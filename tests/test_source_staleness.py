"""compliance.source_staleness: one rule for "a source ends well before the as-of date", worked by hand."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest
from policy_support import policy_copy

from compliance.config.bundle import load_policy
from compliance.source_staleness import source_coverage, stale_sources

AS_OF = date(2025, 6, 2)


def _freshness(**newest: tuple[int, datetime | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [{"source": s, "row_count": n, "newest_at": at} for s, (n, at) in newest.items()],
        schema={"source": pl.String, "row_count": pl.Int64, "newest_at": pl.Datetime("us")},
    )


@pytest.mark.parametrize(
    ("newest", "stale", "behind"),
    [
        (datetime(2025, 6, 1, 23, 59), False, 1),
        (datetime(2025, 5, 19, 0, 0), False, 14),  # exactly the limit: still current
        (datetime(2025, 5, 18, 23, 0), True, 15),
        (datetime(2025, 3, 31, 9, 0), True, 63),  # the DSR export: 63 days before
        (datetime(2025, 7, 1), False, -29),  # data reaching past a past as-of date
    ],
)
def test_stale_after_the_setting(newest: datetime, stale: bool, behind: int) -> None:
    c = source_coverage(_freshness(dsr=(10, newest)), AS_OF, 14, "dsr")
    assert (c.stale, c.days_behind) == (stale, behind)
    assert bool(c.sentence()) == stale
    if stale:
        assert f"{behind} days before the as-of date {AS_OF}" in c.sentence()
        assert "data subject request export ends on" in c.sentence()


def test_empty_and_absent_sources_are_stale() -> None:
    fresh = _freshness(dsr=(0, None), audit=(5, datetime(2025, 6, 1)))
    assert [c.source for c in stale_sources(fresh, AS_OF, 14, ("dsr", "audit", "inventory"))] == ["dsr", "inventory"]
    assert "holds no rows" in source_coverage(fresh, AS_OF, 14, "inventory").sentence()


def test_the_setting_has_a_default_and_is_read_from_settings_yaml() -> None:
    from compliance.config.models import FreshnessSettings

    assert FreshnessSettings().stale_after_days == 14
    assert load_policy().settings.freshness.stale_after_days == 14
    c = source_coverage(_freshness(dsr=(3, datetime(2025, 5, 1))), AS_OF, 60, "dsr")
    assert not c.stale  # 32 days behind, within a 60-day setting


def test_the_setting_does_not_change_the_policy_digest(tmp_path) -> None:
    """The warning changes no finding: editing it must not make stored findings stale."""
    policy = load_policy()
    copy = policy_copy(tmp_path / "policy", {"settings.yaml": ("stale_after_days: 14", "stale_after_days: 30")})
    edited = load_policy(copy)
    assert edited.settings.freshness.stale_after_days == 30
    assert edited.digest == policy.digest


def _dsr_coverage(db) -> object:
    import duckdb

    from compliance.queries import run_query

    con = duckdb.connect(str(db), read_only=True)
    try:
        freshness = run_query(con, "freshness_by_source", {}, load_policy())
    finally:
        con.close()
    return source_coverage(freshness, AS_OF, 14, "dsr")


def test_a_dsr_export_of_old_requests_with_recent_steps_is_not_stale(tmp_path) -> None:
    """Judged by its newest step of any kind, not its newest receipt: the stale bundle's requests (newest received
    2025-03-31, 63 days before the as-of date) plus one received in January whose extension was notified in April
    and which was completed on 2025-05-28: the export reaches 5 days before the as-of date."""
    import csv

    from compliance.ingest.load import ingest
    from tests.stale_bundle import write_stale_bundle

    export = write_stale_bundle(tmp_path / "export")
    with (export / "dsr" / "requests.csv").open("a", newline="") as f:
        csv.writer(f).writerow([
            "R-SLOW", "sub_f", "EU", "access", "email", "2025-01-20T09:00:00Z", "2025-01-21T09:00:00Z",
            "2025-01-22T09:00:00Z", "2025-02-15T09:00:00Z", "complex request", "2025-05-28T10:00:00Z", "completed",
            "fulfilled",
        ])  # fmt: skip
    ingest([export], tmp_path / "audit.duckdb")
    coverage = _dsr_coverage(tmp_path / "audit.duckdb")
    assert (coverage.newest, coverage.days_behind, coverage.stale) == (date(2025, 5, 28), 5, False)
    assert coverage.sentence() == ""


def test_the_stale_bundle_stays_stale_when_judged_by_every_step(stale_db) -> None:
    # Its newest step of any kind (R-LAST withdrawn 2025-03-31 17:00) is also 63 days before the as-of date.
    coverage = _dsr_coverage(stale_db)
    assert (coverage.newest, coverage.days_behind, coverage.stale) == (date(2025, 3, 31), 63, True)
