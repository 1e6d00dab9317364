"""The audit stream: generated local day by local day, buffered, and written as daily UTC files.

Events of local day g fall on UTC days g-1..g+1, so UTC day g-1 is complete once day g is
generated: it is then sorted, numbered, rendered and handed to a background writer, and leaves
memory. At most three days of events (and one day's text being written) are held at a time, whatever
the scale.

Large bundles are written by a pool of processes, each taking blocks of consecutive UTC days: a block
generates the local days one either side of it too (only for the events they put inside the block), so
every day is built exactly as in a single pass over the year. The few facts that cross days (the
volume-spike person's daily records, the dormant person's return, the re-exported overlap, per-system
counts, ground truth) come back as small per-day summaries; the one block that needs earlier days'
records (the spike's) starts once the blocks before it are done.

The first week is gzip-compressed at every scale. With `gzip_all` (large bundles), so is every other
day except the days carrying planted dirty lines: the ground truth names those files, and it stays the
same whether the bundle is compressed or not; plain, a year of 100M events would be about 59 GB.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl

from compliance.demo.audit_customers import Customers, build_customers, customer_day
from compliance.demo.audit_services import jobs_day, pipeline_day, pipeline_rates
from compliance.demo.audit_staff import staff_day
from compliance.demo.clock import DAY_MS, EPOCH0_MS, GEN_FIRST, GEN_LAST, N_DAYS, date_of, day_of
from compliance.demo.context import Ctx
from compliance.demo.dirty import AUDIT_DIRT, GZIP_DAYS, OVERLAP_CAP, OVERLAP_DAY, dirty_line, record_audit_dirt
from compliance.demo.events import render
from compliance.demo.planted import SPIKE_DAY, Plants, dormant_truth, gap_mask
from compliance.demo.truth import Truth
from compliance.demo.workforce import DORMANT_BACK
from compliance.demo.writer import BULK_GZIP_LEVEL, GZIP_LEVEL, BackgroundWriter, write_lines

DATA_ACTIONS = ("read", "search", "export", "create", "update", "delete", "deidentify", "share")
# Blocks of about this many days: each generates two local days outside itself (a few % more work),
# and the last block to finish leaves the other worker idle for part of one.
BLOCK_DAYS = 40
Progress = Callable[[str, int], None]


@dataclass
class AuditResult:
    events: int = 0
    files: int = 0
    per_system_day: dict[str, list[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class DaySummary:
    """What is kept of one written UTC day: its counts and the facts that cross days."""

    day: int
    events: int
    per_system: dict[str, int]
    spike_records: int | None  # the volume-spike person's records that day, as the control will see them
    dormant_first: int | None  # the dormant person's first event that day (epoch ms)
    overlap: pl.DataFrame | None  # lines near the re-exported midnight: line, t (epoch ms), id


@dataclass
class BlockResult:
    days: list[DaySummary]
    truth: Truth  # what the block recorded: its dirty lines, the volume spike


@dataclass
class AuditDays:
    """Everything a block of audit days is generated from: built once, and copied to each worker."""

    ctx: Ctx
    folder: Path
    gzip_all: bool
    customers: Customers
    rates: np.ndarray
    plants: Plants

    @classmethod
    def build(cls, ctx: Ctx, folder: Path, *, gzip_all: bool) -> AuditDays:
        exclude = {int(s) for s in ctx.dsr_subject}
        customers = build_customers(ctx.seed, ctx.world, ctx.sizes.customer_events, exclude)
        rates = pipeline_rates(ctx.world, ctx.sizes.service_events)
        return cls(ctx, folder, gzip_all, customers, rates, Plants(ctx))

    def run(self, first: int, last: int, history: dict[int, int], progress: Progress | None = None) -> BlockResult:
        """Write UTC days first..last. `history` holds the spike person's daily records before `first`, which
        the block needs only if it generates the spike day. Ground truth goes to the result, not to ctx."""
        ctx = self.ctx
        saved, ctx.truth = ctx.truth, Truth()
        records = dict(history)
        buffer: dict[int, list[pl.DataFrame]] = defaultdict(list)
        days: list[DaySummary] = []
        try:
            with BackgroundWriter() as writer:
                for g in range(max(first - 1, GEN_FIRST), min(last + 1, GEN_LAST) + 1):
                    df = self.local_day(g, records)
                    utc = (df["occurred_at"] - EPOCH0_MS) // DAY_MS
                    for d in (g - 1, g, g + 1):
                        if first <= d <= last:
                            buffer[d].append(df.filter(utc == d))
                    if first <= g - 1 <= last:
                        days.append(self.flush(g - 1, pl.concat(buffer.pop(g - 1)), writer))
                        if days[-1].spike_records is not None:
                            records[g - 1] = days[-1].spike_records
                        if progress is not None:
                            progress("audit", sum(s.events for s in days))
            return BlockResult(days, ctx.truth)
        finally:
            ctx.truth = saved

    def local_day(self, g: int, records: dict[int, int]) -> pl.DataFrame:
        """Every event of local day g; on the spike day the plant reads the person's earlier records."""
        ctx, plants = self.ctx, self.plants
        parts = [staff_day(ctx, g), customer_day(ctx, self.customers, g), pipeline_day(ctx, self.rates, g)]
        if 0 <= g < N_DAYS:
            parts.append(jobs_day(ctx, g))
            if g in plants.by_day:
                parts.append(plants.by_day[g])
        if g == day_of(SPIKE_DAY):
            start = day_of(SPIKE_DAY) - ctx.view.policy.settings.anomalies.volume_spike.baseline_days
            parts.append(plants.volume_spike([v for d, v in sorted(records.items()) if d >= start]))
        return pl.concat(parts)

    def flush(self, day: int, df: pl.DataFrame, writer: BackgroundWriter) -> DaySummary:
        """Sort, number, render and write one complete UTC day."""
        st = self.ctx.workforce.staff
        df = df.filter(gap_mask(df)).sort("occurred_at", maintain_order=True)
        stamp = date_of(day).strftime("%Y%m%d")
        df = df.with_columns(
            pl.concat_str([pl.lit(f"evt_{stamp}_"), pl.int_range(1, df.height + 1).cast(pl.String).str.zfill(7)]).alias(
                "event_id"
            )
        )
        mine = df.filter(
            (pl.col("actor_id") == st.actor_id[st.cast["volume_spike"]])
            & pl.col("action").is_in(DATA_ACTIONS)
            & (pl.col("outcome") == "success")
        )
        back = df.filter(pl.col("actor_id") == st.actor_id[st.cast["dormant"]])
        lines = render(df)
        gz = day < GZIP_DAYS or (self.gzip_all and day not in {day_of(d) for d, _, _ in AUDIT_DIRT})
        name = f"{date_of(day).isoformat()}.jsonl{'.gz' if gz else ''}"
        rel = f"audit/{name}"
        dirt = [(kind, pos) for d, kind, pos in AUDIT_DIRT if day_of(d) == day]
        # Python strings only where dirty lines go in; other days are written from the Series as they are.
        text: list[str] | pl.Series = lines
        if dirt:
            text = lines.to_list()
            for kind, pos in dirt:
                at = min(pos, len(text))
                text.insert(at, dirty_line(kind, text[max(at - 1, 0)], f"evt_{stamp}_9{len(text):06d}"))
                record_audit_dirt(self.ctx.truth, rel, at + 1, kind)
        overlap = None
        if day in (day_of(OVERLAP_DAY) - 1, day_of(OVERLAP_DAY)):
            edge = EPOCH0_MS + day_of(OVERLAP_DAY) * DAY_MS
            near = (df["occurred_at"] - edge).abs() <= 3_600_000
            pick = pl.DataFrame({"line": lines, "t": df["occurred_at"], "id": df["event_id"]}).filter(near)
            overlap = (
                pick.sort("t").tail(OVERLAP_CAP) if day < day_of(OVERLAP_DAY) else pick.sort("t").head(OVERLAP_CAP)
            )
        writer.write(self.folder / name, text, gz=gz, level=GZIP_LEVEL if day < GZIP_DAYS else BULK_GZIP_LEVEL)
        return DaySummary(
            day=day,
            events=df.height,
            per_system={str(system): int(n) for system, n in df.group_by("system").len().iter_rows()},
            spike_records=int(mine["record_count"].fill_null(1).sum()) if mine.height else None,
            dormant_first=int(back["occurred_at"].min()) if back.height else None,  # type: ignore[arg-type]
            overlap=overlap,
        )


def start_audit(
    ctx: Ctx, out_dir: Path, progress: Progress | None = None, *, gzip_all: bool = False, workers: int = 1
) -> Callable[[], AuditResult]:
    """Start writing the year's audit files; the call returned waits for them and records what they hold.

    With `workers` > 1, blocks of days run in that many processes while the caller goes on (with the other
    sources, which then share the cores with the audit instead of waiting for it); with one, the files are
    written before this returns."""
    folder = out_dir / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    stream = AuditDays.build(ctx, folder, gzip_all=gzip_all)
    if workers > 1:
        # Pickled here, before the caller goes on changing the context's ground truth (the workers record theirs apart).
        frozen = pickle.dumps(stream, protocol=pickle.HIGHEST_PROTOCOL)
        driver = ThreadPoolExecutor(1, thread_name_prefix="demo-audit-pool")
        pending = driver.submit(_in_pool, frozen, audit_blocks(BLOCK_DAYS), workers, progress)
        driver.shutdown(wait=False)  # its one thread ends when the pool is done
        return lambda: _record(ctx, folder, pending.result())
    blocks = [stream.run(0, N_DAYS - 1, {}, progress)]
    return lambda: _record(ctx, folder, blocks)


def _record(ctx: Ctx, folder: Path, blocks: list[BlockResult]) -> AuditResult:
    """Counts and ground truth from the blocks' summaries, in day order, and the re-exported overlap file."""
    result = AuditResult()
    overlap: list[pl.DataFrame] = []
    dormant_first: dict[int, int] = {}
    for block in blocks:
        ctx.truth.extend(block.truth)
        for s in block.days:
            result.events += s.events
            result.files += 1
            for system, n in s.per_system.items():
                result.per_system_day.setdefault(system, [0] * N_DAYS)[s.day] = n
            if s.dormant_first is not None:
                dormant_first[s.day] = s.dormant_first
            if s.overlap is not None:
                overlap.append(s.overlap)
    merged = pl.concat(overlap).sort("t", maintain_order=True)
    write_lines(folder / f"overlap-{OVERLAP_DAY.isoformat()}.jsonl", merged["line"].to_list())
    result.files += 1
    for event_id in merged["id"].to_list():
        ctx.truth.duplicate("audit", event_id)
    back = [d for d in sorted(dormant_first) if d >= day_of(DORMANT_BACK) - 1]
    dormant_truth(ctx, dormant_first[back[0]] if back else None)
    return result


def audit_blocks(size: int) -> list[tuple[int, int]]:
    """UTC day ranges of about `size` days covering the year; the spike day's block starts the day before it, so
    that it alone generates the spike day and every day whose records the spike plant reads lies before it."""
    spike = day_of(SPIKE_DAY)
    blocks = [(spike - 1, spike + 1)]
    for lo, hi in ((0, spike - 2), (spike + 2, N_DAYS - 1)):
        n = max(1, round((hi - lo + 1) / size))
        edges = np.linspace(lo, hi + 1, n + 1).round().astype(int)
        blocks += [(int(a), int(b) - 1) for a, b in pairwise(edges)]
    return sorted(blocks)


_WORKER_DAYS: AuditDays | None = None


def _start_worker(frozen: bytes) -> None:
    global _WORKER_DAYS
    _WORKER_DAYS = pickle.loads(frozen)


def _run_block(first: int, last: int, history: dict[int, int]) -> BlockResult:
    if _WORKER_DAYS is None:
        raise RuntimeError("the audit pool's initializer did not run")
    return _WORKER_DAYS.run(first, last, history)


def _in_pool(
    frozen: bytes, blocks: list[tuple[int, int]], workers: int, progress: Progress | None
) -> list[BlockResult]:
    """Run the blocks in a process pool and return their results in day order.

    Workers are spawned, not forked: polars' thread pool does not survive a fork (a forked child that runs a
    polars query after the parent has run one waits forever). The stream they are sent pickles to a few tens
    of MB at 100M events, against seconds to build it again."""
    done: dict[tuple[int, int], BlockResult] = {}
    waiting = [b for b in blocks if _generates_spike_day(*b)]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn, initializer=_start_worker, initargs=(frozen,)) as pool:
        running = {pool.submit(_run_block, *b, {}): b for b in blocks if b not in waiting}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                done[running.pop(future)] = future.result()
            if progress is not None:
                progress("audit", sum(s.events for r in done.values() for s in r.days))
            for b in [b for b in waiting if all(x in done for x in blocks if x[1] < b[0])]:
                waiting.remove(b)
                earlier = [s for x, r in done.items() if x[1] < b[0] for s in r.days]
                history = {s.day: s.spike_records for s in earlier if s.spike_records is not None}
                running[pool.submit(_run_block, *b, history)] = b
    return [done[b] for b in blocks]


def _generates_spike_day(first: int, last: int) -> bool:
    """Whether a block of UTC days generates the spike's local day (one either side of its own days)."""
    return first - 1 <= day_of(SPIKE_DAY) <= last + 1
