"""`generate_demo`: write a realistic, deterministic Capantra export bundle and its ground truth."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from time import perf_counter

import numpy as np
import polars as pl

from compliance.config.bundle import load_policy
from compliance.demo.activity import Activity
from compliance.demo.audit import start_audit
from compliance.demo.clock import AS_OF, PERIOD_END, PERIOD_START
from compliance.demo.context import Ctx
from compliance.demo.diagnostic import write_diagnostic
from compliance.demo.dirty import dsr_dirty_rows
from compliance.demo.dsr import build_register
from compliance.demo.events import SubjectSampler
from compliance.demo.incidents import incidents_frame, notifications_frame
from compliance.demo.inventory import build_inventory, write_inventory
from compliance.demo.planted import mfa_truth
from compliance.demo.policy_view import PolicyView
from compliance.demo.sizes import sizes_for
from compliance.demo.tenants import build_world
from compliance.demo.truth import Truth
from compliance.demo.usage import assign_consent, write_usage
from compliance.demo.workforce import build_workforce
from compliance.demo.writer import csv_lines, write_csv, write_lines, write_parquet
from compliance.schema import DSR, SOURCES

Progress = Callable[[str, int], None]
# Above this scale every audit day is gzip-compressed by default (plain, 100M events are about 59 GB of
# JSON Lines; compressed about 6 GB). Up to it bundles keep their plain days, byte for byte as before.
PLAIN_AUDIT_MAX_SCALE = 10_000_000
# From this scale the audit days are written by a pool of AUDIT_WORKERS processes (2 cores here); below it,
# starting the workers costs more than it saves.
POOL_MIN_SCALE = 2_000_000
AUDIT_WORKERS = 2


@dataclass(frozen=True)
class DemoSummary:
    out_dir: Path
    truth_path: Path
    seed: int
    scale: int
    period_start: date
    period_end: date
    as_of: date
    counts: dict[str, int]  # rows written per source (audit: events, without dirty lines or re-exported duplicates)
    files: dict[str, int]
    planted: dict[str, int] = field(default_factory=dict)  # ground-truth findings per control
    seconds: float = 0.0


def default_truth_path(out_dir: Path) -> Path:
    """The ground truth sits beside the bundle, never inside it."""
    return out_dir.parent / f"{out_dir.name}.truth.jsonl"


def generate_demo(
    out_dir: Path,
    *,
    seed: int = 7,
    scale: int = 200_000,
    truth_path: Path | None = None,
    progress: Progress | None = None,
    gzip_audit: bool | None = None,
    workers: int | None = None,
) -> DemoSummary:
    """Write the export bundle for one calendar year (2025) into `out_dir` and the ground truth beside it.

    `scale` is the approximate number of audit events (10,000 to 100,000,000). The same seed and scale
    give byte-identical files. Existing contract sub-folders of `out_dir` are replaced.

    `gzip_audit` compresses every audit day, not only the first week (default: above
    PLAIN_AUDIT_MAX_SCALE events). The days holding planted dirty lines stay plain, so the ground truth
    and the decompressed events are the same either way.

    `workers` processes write the audit days (default: AUDIT_WORKERS from POOL_MIN_SCALE events, else one);
    the bundle is the same bytes whatever their number.
    """
    started = perf_counter()
    out_dir = Path(out_dir)
    truth_path = Path(truth_path) if truth_path is not None else default_truth_path(out_dir)
    say = progress or (lambda _stage, _n: None)
    sizes = sizes_for(scale)
    for source in SOURCES:
        shutil.rmtree(out_dir / source.folder, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)

    policy = load_policy()
    view = PolicyView(policy)
    truth = Truth()
    world = build_world(seed, sizes)
    say("tenants", world.n_tenants)
    register = build_register(seed, world, policy.dsr_rules, sizes.n_dsr, truth)
    say("dsr", len(register.requests))
    workforce = build_workforce(seed, sizes)
    say("directory", len(workforce.people))
    consent = assign_consent(seed, world, register)
    pools = {
        "contact": np.nonzero(world.subject_type > 0)[0],
        "user": np.nonzero(world.subject_type == 0)[0],
        "usage": np.nonzero(consent.tracked)[0],
    }
    ctx = Ctx(
        seed,
        sizes,
        view,
        world,
        workforce,
        register,
        Activity(view),
        SubjectSampler(world, pools),
        truth,
        pools["usage"],
    )
    mfa_truth(ctx)

    counts: dict[str, int] = {}
    files: dict[str, int] = {}
    if gzip_audit is None:
        gzip_audit = scale > PLAIN_AUDIT_MAX_SCALE
    if workers is None:
        workers = AUDIT_WORKERS if scale >= POOL_MIN_SCALE else 1
    audit_written = start_audit(ctx, out_dir, progress, gzip_all=gzip_audit, workers=workers)
    counts["usage"] = write_usage(seed, world, consent, register, sizes.usage_events, out_dir, truth)
    files["usage"] = 12
    say("usage", counts["usage"])
    counts["diagnostic"], files["diagnostic"] = write_diagnostic(seed, world, sizes.diag_lines_per_day, out_dir, truth)
    say("diagnostic", counts["diagnostic"])
    inventory = build_inventory(seed, view, world, register, sizes.inventory_factor, truth)
    per_system = write_inventory(inventory, world, out_dir)
    counts["inventory"], files["inventory"] = sum(per_system.values()), len(per_system)
    say("inventory", counts["inventory"])
    audit = audit_written()
    counts["audit"], files["audit"] = audit.events, audit.files

    directory = workforce.directory_frame()
    write_csv(out_dir / "directory" / "accounts.csv", directory)
    write_csv(out_dir / "tenants" / "tenants.csv", world.tenants_frame())
    write_parquet(out_dir / "subjects" / "subjects.parquet", world.subjects_frame())
    write_csv(out_dir / "incidents" / "incidents.csv", incidents_frame(truth))
    notifications = notifications_frame()
    write_csv(out_dir / "incident_notifications" / "notifications.csv", notifications)
    counts |= {
        "directory": directory.height,
        "tenants": world.n_tenants,
        "subjects": world.n_subjects,
        "incidents": len(incidents_frame(Truth())),
        "incident_notifications": notifications.height,
    }
    counts["dsr"] = _write_dsr(register.rows(world), out_dir, truth)
    files |= {"directory": 1, "tenants": 1, "subjects": 1, "incidents": 1, "incident_notifications": 1, "dsr": 1}
    say("reference", sum(counts.values()))

    truth.write(truth_path)
    return DemoSummary(
        out_dir=out_dir,
        truth_path=truth_path,
        seed=seed,
        scale=scale,
        period_start=PERIOD_START,
        period_end=PERIOD_END,
        as_of=AS_OF,
        counts=counts,
        files=files,
        planted=truth.per_control(),
        seconds=round(perf_counter() - started, 2),
    )


def _write_dsr(rows: list[dict[str, str | None]], out_dir: Path, truth: Truth) -> int:
    """The register as CSV, with two broken rows placed among the good ones."""
    schema = {c: pl.String for c in DSR.column_names}
    lines = csv_lines(pl.DataFrame(rows, schema=schema))
    for pos, row, field_name, word in dsr_dirty_rows(rows):
        lines.insert(1 + pos, csv_lines(pl.DataFrame([row], schema=schema))[1])
        truth.reject("dsr", "dsr/requests.csv", 2 + pos, field_name, word)
    write_lines(out_dir / "dsr" / "requests.csv", lines)
    return len(rows)
