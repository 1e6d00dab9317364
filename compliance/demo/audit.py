"""The audit stream: generated local day by local day, buffered, and written as daily UTC files.

Events of local day g fall on UTC days g-1..g+1, so UTC day g-1 is complete once day g is
generated: it is then sorted, numbered, rendered and handed to a background writer, and leaves
memory. At most three days of events (and one day's text being written) are held at a time, whatever
the scale.

The first week is gzip-compressed at every scale. With `gzip_all` (large bundles), so is every other
day except the days carrying planted dirty lines: the ground truth names those files, and it stays the
same whether the bundle is compressed or not; plain, a year of 100M events would be about 59 GB.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from compliance.demo.audit_customers import build_customers, customer_day
from compliance.demo.audit_services import jobs_day, pipeline_day, pipeline_rates
from compliance.demo.audit_staff import staff_day
from compliance.demo.clock import DAY_MS, EPOCH0_MS, GEN_FIRST, GEN_LAST, N_DAYS, date_of, day_of
from compliance.demo.context import Ctx
from compliance.demo.dirty import AUDIT_DIRT, GZIP_DAYS, OVERLAP_CAP, OVERLAP_DAY, dirty_line, record_audit_dirt
from compliance.demo.events import render
from compliance.demo.planted import SPIKE_DAY, Plants, dormant_truth, gap_mask
from compliance.demo.workforce import DORMANT_BACK
from compliance.demo.writer import BULK_GZIP_LEVEL, GZIP_LEVEL, BackgroundWriter, write_lines

DATA_ACTIONS = ("read", "search", "export", "create", "update", "delete", "deidentify", "share")


@dataclass
class AuditResult:
    events: int = 0
    files: int = 0
    per_system_day: dict[str, list[int]] = field(default_factory=dict)


def write_audit(
    ctx: Ctx, out_dir: Path, progress: Callable[[str, int], None] | None = None, *, gzip_all: bool = False
) -> AuditResult:
    folder = out_dir / "audit"
    dirt_days = {day_of(d) for d, _, _ in AUDIT_DIRT}
    writer = BackgroundWriter()
    folder.mkdir(parents=True, exist_ok=True)
    exclude = {int(s) for s in ctx.dsr_subject}
    customers = build_customers(ctx.seed, ctx.world, ctx.sizes.customer_events, exclude)
    rates = pipeline_rates(ctx.world, ctx.sizes.service_events)
    plants = Plants(ctx)
    st = ctx.workforce.staff
    spike_actor = st.actor_id[st.cast["volume_spike"]]
    dormant_actor = st.actor_id[st.cast["dormant"]]
    daily_records: dict[int, int] = {}  # the spike person's own history, as the control will see it
    dormant_first: dict[int, int] = {}
    overlap: list[pl.DataFrame] = []
    buffer: dict[int, list[pl.DataFrame]] = defaultdict(list)
    result = AuditResult()

    def flush(day: int) -> None:
        df = pl.concat(buffer.pop(day))
        df = df.filter(gap_mask(df)).sort("occurred_at", maintain_order=True)
        stamp = date_of(day).strftime("%Y%m%d")
        df = df.with_columns(
            pl.concat_str([pl.lit(f"evt_{stamp}_"), pl.int_range(1, df.height + 1).cast(pl.String).str.zfill(7)]).alias(
                "event_id"
            )
        )
        mine = df.filter(
            (pl.col("actor_id") == spike_actor)
            & pl.col("action").is_in(DATA_ACTIONS)
            & (pl.col("outcome") == "success")
        )
        if mine.height:
            daily_records[day] = int(mine["record_count"].fill_null(1).sum())
        back = df.filter(pl.col("actor_id") == dormant_actor)
        if back.height:
            dormant_first[day] = int(back["occurred_at"].min())  # type: ignore[arg-type]
        lines = render(df)
        name = f"{date_of(day).isoformat()}.jsonl"
        gz = day < GZIP_DAYS or (gzip_all and day not in dirt_days)
        rel = f"audit/{name}{'.gz' if gz else ''}"
        dirt = [(kind, pos) for d, kind, pos in AUDIT_DIRT if day_of(d) == day]
        # Python strings only where dirty lines go in; other days are written from the Series as they are.
        text: list[str] | pl.Series = lines
        if dirt:
            text = lines.to_list()
            for kind, pos in dirt:
                at = min(pos, len(text))
                text.insert(at, dirty_line(kind, text[max(at - 1, 0)], f"evt_{stamp}_9{len(text):06d}"))
                record_audit_dirt(ctx.truth, rel, at + 1, kind)
        if day in (day_of(OVERLAP_DAY) - 1, day_of(OVERLAP_DAY)):
            edge = EPOCH0_MS + day_of(OVERLAP_DAY) * DAY_MS
            near = (df["occurred_at"] - edge).abs() <= 3_600_000
            pick = pl.DataFrame({"line": lines, "t": df["occurred_at"], "id": df["event_id"]}).filter(near)
            pick = pick.sort("t").tail(OVERLAP_CAP) if day < day_of(OVERLAP_DAY) else pick.sort("t").head(OVERLAP_CAP)
            overlap.append(pick)
        writer.write(
            folder / (name + (".gz" if gz else "")),
            text,
            gz=gz,
            level=GZIP_LEVEL if day < GZIP_DAYS else BULK_GZIP_LEVEL,
        )
        result.events += df.height
        result.files += 1
        for system, n in df.group_by("system").len().iter_rows():
            result.per_system_day.setdefault(str(system), [0] * N_DAYS)[day] = int(n)
        if progress is not None:
            progress("audit", result.events)

    def generate_local_day(g: int) -> None:
        """Generate local day g; UTC day g-1 is then complete and is flushed."""
        parts = [staff_day(ctx, g), customer_day(ctx, customers, g), pipeline_day(ctx, rates, g)]
        if 0 <= g < N_DAYS:
            parts.append(jobs_day(ctx, g))
            if g in plants.by_day:
                parts.append(plants.by_day[g])
        if g == day_of(SPIKE_DAY):
            start = day_of(SPIKE_DAY) - ctx.view.policy.settings.anomalies.volume_spike.baseline_days
            parts.append(plants.volume_spike([v for d, v in sorted(daily_records.items()) if d >= start]))
        df = pl.concat(parts)
        utc = (df["occurred_at"] - EPOCH0_MS) // DAY_MS
        for d in (g - 1, g, g + 1):
            if 0 <= d < N_DAYS:
                buffer[d].append(df.filter(utc == d))
        if 0 <= g - 1 < N_DAYS:
            flush(g - 1)

    with writer:
        for g in range(GEN_FIRST, GEN_LAST + 1):
            generate_local_day(g)

    merged = pl.concat(overlap).sort("t", maintain_order=True)
    write_lines(folder / f"overlap-{OVERLAP_DAY.isoformat()}.jsonl", merged["line"].to_list())
    result.files += 1
    for event_id in merged["id"].to_list():
        ctx.truth.duplicate("audit", event_id)
    back = [d for d in sorted(dormant_first) if d >= day_of(DORMANT_BACK) - 1]
    dormant_truth(ctx, dormant_first[back[0]] if back else None)
    return result
