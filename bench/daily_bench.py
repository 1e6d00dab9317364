"""The daily cost (issue 17): loading one more day's files onto a database, against a full ingest.

For each scale, the bundle's files are split (hard links, no copy) into the history (every file but
the day files of the bundle's newest day: `audit/<day>.*`, `diagnostic/<day>.*`) and that day. The
history is ingested once (not timed here); then, side by side in one run, each in its own process:

- the daily load: the whole bundle ingested onto a copy of the history's database (only the new
  day's files are new: the others are skipped by SHA-256), stored findings refreshed incrementally;
- the full ingest of the whole bundle into an empty database;

each followed by what `compliance ingest` does after publishing: the run recorded into the history beside
the database (`record s`, counted in both sides' time and CPU).

The ratio daily / full is the issue's target (at most 15%, and about the same at every scale). The
stored findings of both databases are compared row for row.

A bundle's day grows with its scale (the demo spreads 10x the events over the same year), so a day of the
same size is loaded too, onto another copy of each history: one line in N of the newest day's audit and
diagnostic files (N = scale / the smallest scale asked for), alone in its export folder. What that costs at
each scale is what the history itself adds to a day ("about the same at both sizes"); its seconds include the
private copy of the database (the one step that follows its size on a filesystem without reflink clones), which
is also shown on its own. Unlike the daily row, the folder holds the new day alone (no history file to skip).
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

from compliance.ingest.load import HASH_SETTLE_SECONDS
from compliance.ingest.readers import file_kind

DAY_FOLDERS = ("audit", "diagnostic")
Measured = Callable[[str], tuple[dict, float, float]]


def split_last_day(export: Path, out: Path) -> str:
    """Hard-link every file of `export` under `out` except the day files of its newest day; returns the day."""
    days = sorted(p.name.split(".")[0] for p in (export / "audit").iterdir() if p.name[:4].isdigit())
    last = days[-1]
    if out.exists():
        shutil.rmtree(out)
    for f in sorted(p for p in export.rglob("*") if p.is_file()):
        rel = f.relative_to(export)
        if rel.parts[0] in DAY_FOLDERS and rel.name.split(".")[0] == last:
            continue
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(f.resolve(), dest)
        except OSError:
            shutil.copyfile(f, dest)
    return last


def sample_day(export: Path, day: str, out: Path, one_in: int) -> int:
    """Write one line in `one_in` of `day`'s files of the day folders under `out`, as bytes (a line that is not
    UTF-8 stays one for the load to reject; a CSV keeps its header); returns the audit lines written."""
    if out.exists():
        shutil.rmtree(out)
    audit_lines, found = 0, False
    for folder in DAY_FOLDERS:
        for f in sorted(p for p in (export / folder).glob(f"{day}.*") if p.is_file()):
            kind = file_kind(f)
            if kind not in ("jsonl", "csv"):
                raise ValueError(f"cannot sample {f}: only text day files (JSON Lines, CSV, gzipped or not) can be")
            found = True
            gzipped = f.name.lower().endswith(".gz")
            with (gzip.open if gzipped else open)(f, "rb") as lines:
                header = next(lines, b"") if kind == "csv" else b""
                kept = [line for n, line in enumerate(lines) if n % one_in == 0]
            dest = out / folder / (f.name[:-3] if gzipped else f.name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(header + b"".join(kept))
            audit_lines += len(kept) if folder == "audit" else 0
    if not found:
        raise ValueError(f"no day file named {day}.* in {', '.join(DAY_FOLDERS)} of {export}")
    return audit_lines


# As `compliance ingest` does: the load, then the run recorded into the history beside the database.
_INGEST = """
    import json, collections, resource, time
    from pathlib import Path
    from compliance.cli import _record_ingest
    from compliance.config.bundle import load_policy
    from compliance.ingest.load import ingest
    policy = load_policy()
    s = ingest([Path('{export}')], Path('{db}'), policy=policy, memory_limit='{memory}')
    started = time.perf_counter()
    if s.findings_as_of and s.published:
        _record_ingest(Path('{db}'), policy, s.findings_as_of)
    copy = s.working_copy
    print(json.dumps({{"seconds": s.seconds, "findings_seconds": s.findings_seconds,
                      "copy_seconds": copy.seconds if copy else 0.0, "cloned": bool(copy and copy.cloned),
                      "record_seconds": time.perf_counter() - started,
                      "files": sum(f.status == 'loaded' for f in s.files), "as_of": str(s.findings_as_of),
                      "modes": collections.Counter(s.findings_modes.values()),
                      "cpu": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_SAME_FINDINGS = """
    import duckdb, json
    cols = 'control_id, policy_section, resource, status, severity, reason, observed_at, evidence, as_of'
    def rows(db):
        con = duckdb.connect(db, read_only=True)
        try:
            return con.sql(f'select {{cols}} from findings order by all').fetchall()
        finally:
            con.close()
    a, b = rows('{daily}'), rows('{full}')
    print(json.dumps({{"rows": len(a), "same": a == b}}))
"""


def bench_daily(
    scales: list[int], work: Path, run_measured: Measured, bundle: Callable[[int], Path], memory: str
) -> None:
    print("\n## daily cost: one more day's files onto a database vs a full ingest of it (target <= 15%)")
    print(f"memory_limit {memory}; each step in its own process; loaded machine: compare the ratio, not the seconds")
    header = (
        f"{'events':>12} {'full s':>8} {'CPU s':>7} {'peak MB':>8} {'daily s':>8} {'load s':>7} {'findings s':>10}"
        f" {'record s':>8} {'CPU s':>7} {'peak MB':>8} {'ratio':>6} {'CPU ratio':>9}"
    )
    rows, same_day = [], []
    for scale in scales:
        export = bundle(scale)
        history = work / f"daily-{scale}" / "history"
        day = split_last_day(export, history)
        # Linking changes the files' ctime, and a load remembers the hash of settled files only
        # (compliance.ingest.load): the history's files were delivered days ago, not now.
        time.sleep(HASH_SETTLE_SECONDS + 0.5)
        before = work / f"daily-{scale}" / "history.duckdb"
        daily = work / f"daily-{scale}" / "daily.duckdb"
        full = work / f"daily-{scale}" / "full.duckdb"
        for p in (before, daily, full):
            p.unlink(missing_ok=True)
        prepared, _, _ = run_measured(_INGEST.format(export=history, db=before, memory=memory))
        shutil.copyfile(before, daily)
        one_day, t_daily, _ = run_measured(_INGEST.format(export=export, db=daily, memory=memory))
        whole, t_full, _ = run_measured(_INGEST.format(export=export, db=full, memory=memory))
        same, _, _ = run_measured(_SAME_FINDINGS.format(daily=daily, full=full))
        t_findings, t_record = float(one_day["findings_seconds"]), float(one_day["record_seconds"])
        m_daily, m_full = one_day["peak_mb"], whole["peak_mb"]  # each process's own peak RSS
        c_daily, c_full = one_day["cpu"], whole["cpu"]
        rows.append(
            f"{scale:>12,} {t_full:8.1f} {c_full:7.1f} {m_full:8.0f} {t_daily:8.1f} {t_daily - t_findings - t_record:7.1f}"
            f" {t_findings:10.1f} {t_record:8.1f} {c_daily:7.1f} {m_daily:8.0f} {t_daily / t_full:6.1%}"
            f" {c_daily / c_full:9.1%}"
        )
        print(
            f"  {scale:,}: new day {day} ({one_day['files']} files); as-of {prepared['as_of']} -> {one_day['as_of']};"
            f" controls {dict(one_day['modes'])}; stored findings equal to the full ingest's: {same['same']}"
            f" ({same['rows']:,} rows)"
        )
        # The issue's own measure, load plus stored findings: the ingest's seconds, without the process's start
        # (imports, the policy) and the run record, which the table's whole-command ratio counts on both sides.
        own_daily, own_full = float(one_day["seconds"]), float(whole["seconds"])
        print(
            f"  {scale:,}: load plus stored findings alone (the ingest's own seconds): daily {own_daily:.1f} s of"
            f" full {own_full:.1f} s = {own_daily / own_full:.1%}"
        )
        same_day.append(_same_sized_day(scale, min(scales), export, day, before, daily, run_measured, memory))
        for p in (before, daily, full):
            p.unlink(missing_ok=True)
    print(header)
    for row in rows:
        print(row)
    print("\n  a day of the same size onto each history (load plus stored findings: the ingest's own seconds)")
    print(f"{'events':>12} {'day events':>10} {'seconds':>8} {'findings s':>10} {'copy s':>7} {'copy':>6} {'CPU s':>7}")
    for row in same_day:
        print(row)


def _same_sized_day(
    scale: int, smallest: int, export: Path, day: str, before: Path, daily: Path, run_measured: Measured, memory: str
) -> str:
    """One line in scale/smallest of the newest day, alone in its folder, loaded onto a copy of the history."""
    folder = daily.with_name("same-sized-day")
    try:
        events = sample_day(export, day, folder, max(1, round(scale / smallest)))
        daily.unlink(missing_ok=True)
        shutil.copyfile(before, daily)
        loaded, _, _ = run_measured(_INGEST.format(export=folder, db=daily, memory=memory))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    copy = "clone" if loaded["cloned"] else "bytes"
    return (
        f"{scale:>12,} {events:>10,} {float(loaded['seconds']):8.1f} {float(loaded['findings_seconds']):10.1f}"
        f" {float(loaded['copy_seconds']):7.1f} {copy:>6} {float(loaded['cpu']):7.1f}"
    )
