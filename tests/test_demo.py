"""The demo export generator: deterministic, contract-complete, and planted exactly as its ground truth says."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from compliance.catalog import load_catalog
from compliance.demo import DemoSummary, generate_demo
from compliance.demo.audit import BLOCK_DAYS, audit_blocks
from compliance.demo.clock import N_DAYS, day_of
from compliance.demo.planted import SPIKE_DAY
from compliance.schema import AUDIT, SOURCES, Source

SCALE = 10_000


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return generate_demo(tmp_path_factory.mktemp("demo") / "export", seed=7, scale=SCALE)


@pytest.fixture(scope="session")
def truth(bundle: DemoSummary) -> list[dict[str, object]]:
    return [json.loads(line) for line in bundle.truth_path.read_text().splitlines()]


def _digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _files(root: Path, source: Source) -> list[Path]:
    return sorted(p for p in (root / source.folder).rglob("*") if p.is_file())


def _text_lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8").splitlines()


def _rejected(truth: list[dict[str, object]]) -> set[tuple[str, int]]:
    return {(str(t["file"]), int(t["line"])) for t in truth if t["kind"] == "reject"}  # type: ignore[call-overload]


def _ts_ok(value: object) -> bool:
    if value is None or value == "":
        return True
    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def test_summary_and_layout(bundle: DemoSummary) -> None:
    assert bundle.truth_path == bundle.out_dir.parent / "export.truth.jsonl"
    assert not (bundle.out_dir / bundle.truth_path.name).exists()
    assert (bundle.period_start.isoformat(), bundle.period_end.isoformat(), bundle.as_of.isoformat()) == (
        "2025-01-01",
        "2025-12-31",
        "2025-12-31",
    )
    assert {s.folder for s in SOURCES} <= {p.name for p in bundle.out_dir.iterdir()}
    assert bundle.counts["tenants"] >= 1_000 and bundle.counts["subjects"] >= 10_000
    assert 200 <= bundle.counts["directory"] <= 500
    assert bundle.counts["audit"] >= SCALE
    audit = {p.name for p in (bundle.out_dir / "audit").iterdir()}
    assert "2025-03-04.jsonl" in audit and "2025-01-01.jsonl.gz" in audit and "overlap-2025-06-01.jsonl" in audit


def test_same_seed_same_bytes_other_seed_differs(bundle: DemoSummary, tmp_path: Path) -> None:
    again = generate_demo(tmp_path / "again" / "export", seed=7, scale=SCALE)
    assert _digests(again.out_dir) == _digests(bundle.out_dir)
    assert again.truth_path.read_bytes() == bundle.truth_path.read_bytes()
    other = generate_demo(tmp_path / "other" / "export", seed=8, scale=SCALE)
    a, b = _digests(bundle.out_dir), _digests(other.out_dir)
    assert a.keys() == b.keys()
    assert a["audit/2025-03-04.jsonl"] != b["audit/2025-03-04.jsonl"]
    assert a["subjects/subjects.parquet"] != b["subjects/subjects.parquet"]


def test_gzip_audit_changes_only_compression(bundle: DemoSummary, tmp_path: Path) -> None:
    """A compressed bundle (the default above 10M events) holds the same events and the same ground truth:
    only the file names gain .gz, and the days the truth names by file stay plain."""
    packed = generate_demo(tmp_path / "packed" / "export", seed=7, scale=SCALE, gzip_audit=True)
    assert packed.truth_path.read_bytes() == bundle.truth_path.read_bytes()
    plain = {p.name: p for p in _files(bundle.out_dir, AUDIT)}
    gz = {p.name: p for p in _files(packed.out_dir, AUDIT)}
    assert {n.removesuffix(".gz") for n in gz} == {n.removesuffix(".gz") for n in plain}
    named = {Path(str(t["file"])).name for t in _truth_rows(packed) if t["kind"] == "reject" and t["source"] == "audit"}
    assert len(named) == 3 and named <= plain.keys() & gz.keys()
    assert {n for n in gz if not n.endswith(".gz")} == named | {"overlap-2025-06-01.jsonl"}
    for name, path in plain.items():
        other = gz.get(name) or gz[name + ".gz"]
        assert _text_lines(other) == _text_lines(path), name
    assert {k: v for k, v in _digests(packed.out_dir).items() if not k.startswith("audit/")} == {
        k: v for k, v in _digests(bundle.out_dir).items() if not k.startswith("audit/")
    }


@pytest.mark.slow
def test_pool_writes_the_same_bundle(bundle: DemoSummary, tmp_path: Path) -> None:
    """Audit days written by two worker processes, in blocks, give the single process's bytes and ground truth."""
    pooled = generate_demo(tmp_path / "pooled" / "export", seed=7, scale=SCALE, workers=2)
    assert _digests(pooled.out_dir) == _digests(bundle.out_dir)
    assert pooled.truth_path.read_bytes() == bundle.truth_path.read_bytes()
    assert pooled.counts == bundle.counts and pooled.files == bundle.files


def test_audit_blocks_cover_the_year_and_isolate_the_spike_day() -> None:
    """Every UTC day is written by exactly one block, and one block alone generates the spike's local day."""
    blocks = audit_blocks(BLOCK_DAYS)
    days = [d for first, last in blocks for d in range(first, last + 1)]
    assert days == list(range(N_DAYS))
    assert [b for b in blocks if b[0] - 1 <= day_of(SPIKE_DAY) <= b[1] + 1] == [
        (day_of(SPIKE_DAY) - 1, day_of(SPIKE_DAY) + 1)
    ]
    assert all(last - first + 1 <= 1.5 * BLOCK_DAYS for first, last in blocks)


def _truth_rows(summary: DemoSummary) -> list[dict[str, object]]:
    return [json.loads(line) for line in summary.truth_path.read_text().splitlines()]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.folder)
def test_every_contract_field_is_present(bundle: DemoSummary, source: Source) -> None:
    files = _files(bundle.out_dir, source)
    assert files, f"no files in {source.folder}/"
    seen: set[str] = set()
    for path in files:
        name = path.name.removesuffix(".gz")
        if name.endswith(".parquet"):
            cols = set(pl.read_parquet_schema(path))
            assert cols == set(source.column_names), path
        elif name.endswith(".csv"):
            cols = set(_text_lines(path)[0].split(","))
            assert cols == set(source.column_names), path
        else:
            for line in _text_lines(path):
                try:
                    seen.update(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the planted truncated line
            continue
        seen |= cols
    assert seen == set(source.column_names)


def test_every_catalog_control_has_a_planted_finding(truth: list[dict[str, object]]) -> None:
    catalog = list(load_catalog())
    assert len(catalog) >= 28
    planted = {t["control_id"] for t in truth if t["kind"] == "finding"}
    assert set(catalog) <= planted, sorted(set(catalog) - planted)
    for t in truth:
        if t["kind"] == "finding":
            assert set(t) == {"kind", "control_id", "resource", "observed_at", "note"}
            assert t["observed_at"] is None or _ts_ok(t["observed_at"])
            assert re.match(
                r"^(dsr|record|actor|incident|recipient|category|source|service|system|subject|ip):", str(t["resource"])
            )


def test_dirty_input_is_in_the_ground_truth(bundle: DemoSummary, truth: list[dict[str, object]]) -> None:
    rejects = [t for t in truth if t["kind"] == "reject"]
    expect = {
        ("audit", None, "unparseable"),
        ("audit", "occurred_at", "bad timestamp"),
        ("audit", "action", "unknown value"),
        ("dsr", "received_at", "bad timestamp"),
        ("dsr", "jurisdiction", "unknown value"),
    }
    assert {(r["source"], r["field"], r["reason_contains"]) for r in rejects} == expect
    for r in rejects:
        line = _text_lines(bundle.out_dir / str(r["file"]))[int(r["line"]) - 1]  # type: ignore[call-overload]
        if r["field"] is None:
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        elif r["source"] == "audit":
            value = json.loads(line)[r["field"]]
            assert value in ("2025-13-45T99:00:00Z", "teleport")
        else:
            assert "2025-02-30" in line or ",US-NY," in line
    dupes = {str(t["key"]) for t in truth if t["kind"] == "duplicate"}
    assert dupes
    overlap = {json.loads(x)["event_id"] for x in _text_lines(bundle.out_dir / "audit" / "overlap-2025-06-01.jsonl")}
    assert overlap == dupes
    days = _text_lines(bundle.out_dir / "audit" / "2025-05-31.jsonl") + _text_lines(
        bundle.out_dir / "audit" / "2025-06-01.jsonl"
    )
    assert dupes <= {json.loads(x)["event_id"] for x in days}


def test_audit_enums_and_timestamps_are_valid(bundle: DemoSummary, truth: list[dict[str, object]]) -> None:
    audit = next(s for s in SOURCES if s.folder == "audit")
    enums = {c.name: set(c.enum) for c in audit.columns if c.enum}
    rejected = _rejected(truth)
    ids: set[str] = set()
    n = 0
    for path in _files(bundle.out_dir, audit):
        rel = str(path.relative_to(bundle.out_dir))
        for i, line in enumerate(_text_lines(path), start=1):
            if (rel, i) in rejected:
                continue
            e = json.loads(line)
            n += 1
            for name, allowed in enums.items():
                assert e[name] in allowed, (rel, i, name)
            assert _ts_ok(e["occurred_at"]) and e["occurred_at"].startswith("2025-"), (rel, i)
            assert e.get("record_count", 1) >= 0
            if e["action"] in ("share", "export"):
                assert e.get("recipient"), (rel, i)
            if e["action"] in ("role_grant", "role_revoke"):
                assert e.get("target_actor_id") and e.get("role"), (rel, i)
            if not rel.startswith("audit/overlap"):
                assert e["event_id"] not in ids
                ids.add(e["event_id"])
    assert n == bundle.counts["audit"] + len({t["key"] for t in truth if t["kind"] == "duplicate"})


@pytest.mark.parametrize(
    "folder", ["dsr", "directory", "tenants", "subjects", "incidents", "inventory", "usage", "diagnostic"]
)
def test_other_sources_have_valid_enums_and_timestamps(
    bundle: DemoSummary, truth: list[dict[str, object]], folder: str
) -> None:
    source = next(s for s in SOURCES if s.folder == folder)
    rejected = _rejected(truth)
    for path in _files(bundle.out_dir, source):
        rel = str(path.relative_to(bundle.out_dir))
        if path.suffix == ".parquet":
            rows = pl.read_parquet(path).with_row_index("_line", offset=1)
        elif path.suffix == ".csv":
            rows = pl.read_csv(path, infer_schema=False).with_row_index("_line", offset=2)
        else:
            rows = pl.DataFrame([json.loads(x) for x in _text_lines(path)], infer_schema_length=None).with_row_index(
                "_line", offset=1
            )
        rows = rows.filter(~pl.col("_line").is_in([line for f, line in rejected if f == rel]))
        for c in source.columns:
            if c.name not in rows.columns:
                continue
            values = rows[c.name].drop_nulls().cast(pl.String).unique().to_list()
            if c.enum:
                assert set(values) <= set(c.enum), (rel, c.name, set(values) - set(c.enum))
            if c.type in ("TIMESTAMP", "DATE"):
                assert all(_ts_ok(v) for v in values), (rel, c.name)
            if c.type == "BOOLEAN":
                assert set(values) <= {"true", "false"}, (rel, c.name)
