"""The inventory snapshot (inventory/): stored personal-data records of every data-map store.

Each record's fate follows the retention rule that governs its category (the same resolution the
controls use): records past their period plus grace were deleted or de-identified on time, records
of completed erasures are gone, a few past-retention records sit on legal hold. Then the planted
exceptions: records kept past retention, and an erasure that missed some records.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from compliance.demo.clock import DAY_MS, MINUTE_MS, SNAPSHOT_AT, STREAM_INVENTORY, dt_of, ms_of, rfc3339, rng_for
from compliance.demo.dsr import Register
from compliance.demo.policy_view import PolicyView
from compliance.demo.tenants import NEVER, World
from compliance.demo.truth import Truth
from compliance.demo.writer import write_csv, write_parquet
from compliance.schema import INVENTORY

SNAP = ms_of(SNAPSHOT_AT)
# store -> (base row count at the reference scale, earliest creation)
VOLUME = {
    "sessions": (1_500, date(2025, 10, 15)),
    "call_records": (12_000, date(2023, 6, 1)),
    "call_recordings": (4_000, date(2025, 1, 1)),
    "usage_events": (6_000, date(2024, 6, 1)),
    "service_logs": (800, date(2025, 11, 5)),
    "tickets": (3_000, date(2022, 1, 1)),
    "invoices": (3_000, date(2019, 1, 1)),
    "audit_events": (1_500, date(2024, 8, 1)),
}
PREFIX = {
    "contacts": "ct_",
    "accounts": "acct_",
    "sessions": "ses_",
    "call_records": "call_",
    "call_recordings": "rec_",
    "usage_events": "ue_",
    "service_logs": "log_",
    "tickets": "tkt_",
    "invoices": "inv_",
    "dsr_cases": "case_",
    "audit_events": "ae_",
}
KEEPS_EVIDENCE = {"privacy-ops", "audit-log", "analytics"}  # an erasure de-identifies these instead of deleting
LEGAL_HOLDS = 5


def _ms(d: date) -> int:
    return ms_of(SNAPSHOT_AT.replace(year=d.year, month=d.month, day=d.day, hour=0))


def build_inventory(
    seed: int, view: PolicyView, world: World, register: Register, factor: float, truth: Truth
) -> pl.DataFrame:
    rng = rng_for(seed, STREAM_INVENTORY)
    contacts = np.nonzero(world.subject_type > 0)[0]
    users = np.nonzero(world.subject_type == 0)[0]
    recorders = users[world.tenant_records_calls[world.subject_tenant[users]]]
    frames = []
    for system in view.systems:
        for st in view.system_stores[system]:
            name = st.store
            if name == "contacts":
                subj = contacts
            elif name == "accounts":
                subj = users
            elif name == "dsr_cases":
                subj = np.array([r.subject for r in register.requests], dtype=np.int64)
            else:
                base, _ = VOLUME[name]
                n = int(base * factor)
                pool = contacts if name in ("call_records",) else recorders if name == "call_recordings" else users
                if name == "call_recordings":
                    pool = contacts[world.tenant_records_calls[world.subject_tenant[contacts]]]
                subj = pool[rng.integers(0, len(pool), n)]
            frames.append(_records(rng, view, world, register, system, name, subj))
    df = pl.concat(frames)
    df = _legal_holds(rng, df)
    df = _planted(rng, view, world, register, df, truth)
    return df.sort(["system", "store", "record_id"])


def _records(
    rng: np.random.Generator,
    view: PolicyView,
    world: World,
    register: Register,
    system: str,
    store: str,
    subj: np.ndarray,
) -> pl.DataFrame:
    n = len(subj)
    tenant = world.subject_tenant[subj]
    t_start = np.array([_ms(world.tenant_start[t]) for t in range(world.n_tenants)])[tenant]
    end_day = world.tenant_end_day[tenant]
    t_end = np.where(end_day >= NEVER, SNAP, np.array([_ms(e) if e else SNAP for e in world.tenant_end])[tenant])
    lo = np.maximum(world.subject_created_ms[subj], t_start)
    hi = np.minimum(t_end, SNAP) - 3_600_000
    if store in ("contacts", "accounts"):
        created = world.subject_created_ms[subj]
    elif store == "dsr_cases":
        created = np.array([ms_of(r.received) for r in register.requests], dtype=np.int64)
    else:
        lo = np.maximum(lo, _ms(VOLUME[store][1]))
        created = lo + (rng.random(n) * np.maximum(hi - lo, 0)).astype(np.int64)
    created = np.minimum(created, np.maximum(hi, lo))
    span = np.maximum(np.minimum(t_end, SNAP) - created, 0)
    last = created + (rng.random(n) ** 2 * span).astype(np.int64)
    cats = view.stores[next(rt for rt, s in view.stores.items() if s.store == store)].categories
    ci = rng.integers(0, len(cats), n)
    rules = [view.retention_rule(system, store, c) for c in cats]
    period = np.array([r.period_days for r in rules])[ci] * DAY_MS
    grace = np.array([r.grace_days for r in rules])[ci] * DAY_MS
    clock_kind = np.array([r.clock for r in rules])[ci]
    action = np.array([r.action for r in rules])[ci]
    ended = end_day < NEVER
    clock = np.where(clock_kind == "created_at", created, np.where(clock_kind == "last_activity_at", last, t_end))
    has_clock = (clock_kind != "contract_ended_at") | ended
    due = clock + period
    handled_at = np.full(n, -1, dtype=np.int64)
    overdue = has_clock & (due + grace <= SNAP)
    handled_at[overdue] = due[overdue] + (rng.uniform(0.05, 0.7, int(overdue.sum())) * grace[overdue]).astype(np.int64)
    in_grace = has_clock & (due <= SNAP) & ~overdue & (rng.random(n) < 0.5)
    handled_at[in_grace] = due[in_grace] + (rng.random(int(in_grace.sum())) * (SNAP - due[in_grace])).astype(np.int64)
    deleted = np.where((handled_at >= 0) & (action == "delete"), handled_at, -1)
    deidentified = np.where((handled_at >= 0) & (action == "deidentify"), handled_at, -1)
    # Completed erasures: gone (or de-identified where the record is kept as evidence) minutes before completion.
    erased_at = np.array([register.erasures.get(int(s), -1) for s in subj], dtype=np.int64)
    er = erased_at >= 0
    when = erased_at - rng.integers(5, 60, n) * MINUTE_MS
    if system in KEEPS_EVIDENCE or store == "call_records":
        deidentified = np.where(er & ((deidentified < 0) | (deidentified > when)), when, deidentified)
        deleted = np.where(er & (deleted > when), -1, deleted)
    else:
        deleted = np.where(er & ((deleted < 0) | (deleted > when)), when, deleted)
        deidentified = np.where(er & (deidentified > when), -1, deidentified)
    created = np.where(er, np.minimum(created, when - DAY_MS), created)
    done = np.where(deleted >= 0, deleted, np.where(deidentified >= 0, deidentified, SNAP))
    last = np.clip(last, created, done)
    prefix = PREFIX[store]
    if store in ("contacts", "accounts"):
        ids = [prefix + world.subject_ids[s][4:] for s in subj]
    else:
        ids = [f"{prefix}{i + 1:08d}" for i in range(n)]
    return pl.DataFrame(
        {
            "system": system,
            "store": store,
            "record_id": ids,
            "subject": subj,
            "tenant": tenant,
            "data_category": np.array(cats)[ci],
            "created": created,
            "last": last,
            "contract_end": np.where(ended, t_end, -1),
            "deleted": deleted,
            "deidentified": deidentified,
            "deadline": np.where(has_clock, due + grace, -1),
            "legal_hold": False,
        }
    )


def _legal_holds(rng: np.random.Generator, df: pl.DataFrame) -> pl.DataFrame:
    """Recordings of one tenant in litigation: past retention but held, which is not a finding."""
    cand = df.with_row_index("i").filter(
        (pl.col("store") == "call_recordings") & (pl.col("deleted") >= 0) & (pl.col("deadline") < SNAP)
    )
    if cand.height == 0:
        return df
    tenant = cand["tenant"][int(rng.integers(cand.height))]
    pick = cand.filter(pl.col("tenant") == tenant)["i"].head(LEGAL_HOLDS).to_list()
    if len(pick) < LEGAL_HOLDS:
        pick += cand.filter(~pl.col("i").is_in(pick))["i"].head(LEGAL_HOLDS - len(pick)).to_list()
    hold = pl.int_range(0, df.height).is_in(pick)
    return df.with_columns(
        pl.when(hold).then(True).otherwise(pl.col("legal_hold")).alias("legal_hold"),
        pl.when(hold).then(pl.lit(-1, dtype=pl.Int64)).otherwise(pl.col("deleted")).alias("deleted"),
    )


def _planted(
    rng: np.random.Generator, view: PolicyView, world: World, register: Register, df: pl.DataFrame, truth: Truth
) -> pl.DataFrame:
    erased = list(register.erasures)
    ok = (
        (~pl.col("legal_hold"))
        & (~pl.col("subject").is_in(erased))
        & (pl.col("deadline") >= 0)
        & (pl.col("deadline") < SNAP - 5 * DAY_MS)
    )
    picks: list[int] = []
    notes: dict[int, str] = {}
    base = df.with_row_index("i")
    for store, k, extra in (
        ("call_recordings", 5, pl.col("created") >= _ms(date(2025, 5, 1))),
        ("contacts", 3, pl.col("contract_end") >= 0),
        ("sessions", 2, pl.col("data_category") == "system.authentication"),
    ):
        cand = base.filter(
            ok & (pl.col("store") == store) & extra & ((pl.col("deleted") >= 0) | (pl.col("deidentified") >= 0))
        )
        for r in cand.head(k).iter_rows(named=True):
            picks.append(r["i"])
            notes[r["i"]] = (
                f"{r['data_category']} record of {r['system']}/{r['store']}: retention deadline (period + grace) {rfc3339(dt_of(r['deadline']))}, never deleted or de-identified, no legal hold."
            )
            truth.finding(
                "retention.record_past_retention",
                f"record:{r['system']}/{r['store']}/{r['record_id']}",
                dt_of(r["deadline"]),
                notes[r["i"]],
            )
    keep = pl.int_range(0, df.height).is_in(picks)
    df = df.with_columns(
        pl.when(keep).then(pl.lit(-1, dtype=pl.Int64)).otherwise(pl.col("deleted")).alias("deleted"),
        pl.when(keep).then(pl.lit(-1, dtype=pl.Int64)).otherwise(pl.col("deidentified")).alias("deidentified"),
    )
    # An erasure that missed the subject's CRM contact and two call records.
    req = register.planted["erasure_incomplete"]
    s = req.subject
    done = ms_of(req.completed) if req.completed else SNAP
    missed = df.filter((pl.col("subject") == s) & (pl.col("store") == "contacts"))
    extra = pl.DataFrame(
        {
            "system": "call-service",
            "store": "call_records",
            "record_id": ["call_99000001", "call_99000002"],
            "subject": [s, s],
            "tenant": [int(world.subject_tenant[s])] * 2,
            "data_category": "user.behavior.call_activity",
            "created": [done - 40 * DAY_MS, done - 12 * DAY_MS],
            "last": [done - 40 * DAY_MS, done - 12 * DAY_MS],
            "contract_end": -1,
            "deleted": -1,
            "deidentified": -1,
            "deadline": -1,
            "legal_hold": False,
        }
    ).cast(df.schema)  # type: ignore[arg-type]
    df = pl.concat(
        [
            df.filter(~((pl.col("subject") == s) & (pl.col("store") == "contacts"))),
            missed.with_columns(
                pl.lit(-1, dtype=pl.Int64).alias("deleted"), pl.lit(-1, dtype=pl.Int64).alias("deidentified")
            ),
            extra,
        ]
    )
    truth.finding(
        "retention.erasure_incomplete",
        f"dsr:{req.request_id}",
        dt_of(done + 30 * DAY_MS),
        f"Delete request completed {req.completed.date() if req.completed else None}; {missed.height + 2} records of the "
        f"subject (crm/contacts and 2 call-service/call_records) are still neither deleted nor de-identified.",
    )
    _ = view
    return df


def write_inventory(df: pl.DataFrame, world: World, out_dir: Path) -> dict[str, int]:
    """One file per system; call-service as Parquet (native types), the rest CSV (RFC 3339 text)."""
    subject_ids = pl.Series(world.subject_ids)
    tenant_ids = pl.Series(world.tenant_ids)

    def ts(col: str) -> pl.Expr:
        return (
            pl.when(pl.col(col) >= 0)
            .then(pl.from_epoch(pl.col(col), time_unit="ms").dt.truncate("1s"))
            .otherwise(None)
            .alias(col)
        )

    out = df.with_columns(
        pl.lit(SNAPSHOT_AT.replace(tzinfo=None)).alias("snapshot_at"),
        subject_ids.gather(df["subject"].to_numpy()).alias("subject_id"),
        tenant_ids.gather(df["tenant"].to_numpy()).alias("tenant_id"),
        ts("created").alias("created_at"),
        ts("last").alias("last_activity_at"),
        ts("contract_end").alias("contract_ended_at"),
        ts("deleted").alias("deleted_at"),
        ts("deidentified").alias("deidentified_at"),
    ).select(INVENTORY.column_names)
    counts: dict[str, int] = {}
    for system in out["system"].unique(maintain_order=True).to_list():
        part = out.filter(pl.col("system") == system)
        counts[system] = part.height
        if system == "call-service":
            write_parquet(out_dir / "inventory" / f"{system}.parquet", part)
        else:
            text = part.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
            write_csv(out_dir / "inventory" / f"{system}.csv", text)
    return counts
