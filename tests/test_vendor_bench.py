"""The vendor benchmark compares like with like: each adapter's twin bundle (bench/vendor_bench.write_twin),
loaded through the contract's own `audit/` ingest, gives exactly the audit rows the adapter loaded."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from bench.vendor_bench import write_bundle, write_twin
from compliance.ingest.load import ingest

# The columns that say where a row came from (file, line, folder) differ by design; every other must match.
PROVENANCE = "source_file_id, source_line, log_source"


@pytest.mark.parametrize("source", ["okta", "google_workspace"])
def test_the_twin_bundle_loads_the_same_audit_rows_as_the_adapter(tmp_path: Path, source: str) -> None:
    vendor_db, twin_db = tmp_path / "vendor.duckdb", tmp_path / "twin.duckdb"
    ingest([write_bundle(tmp_path, source, 1000)], vendor_db, findings=False)
    twin = write_twin(tmp_path, source, 1000, vendor_db)
    assert sorted(p.name for p in (twin / "audit").iterdir()) == ["part-0000.jsonl"]
    ingest([twin], twin_db, findings=False)
    con = duckdb.connect()
    con.execute(f"attach '{vendor_db}' as v (read_only)")
    con.execute(f"attach '{twin_db}' as t (read_only)")
    rows = f"select * exclude ({PROVENANCE}) from {{}}.audit_events"
    assert con.execute("select count(*), count(distinct log_source) from t.audit_events").fetchall() == [(1000, 1)]
    assert con.execute(f"{rows.format('v')} except all {rows.format('t')}").fetchall() == []
    assert con.execute(f"{rows.format('t')} except all {rows.format('v')}").fetchall() == []
    assert con.execute("select count(*) from t.rejects").fetchall() == [(0,)]
