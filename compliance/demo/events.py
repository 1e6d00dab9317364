"""Audit events as polars frames: the column set, filling and ordering, subject sampling, and the
JSON Lines rendering (fields in contract order, absent fields left out, all in polars expressions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from compliance.demo.clock import ts_expr
from compliance.demo.tenants import World
from compliance.schema import AUDIT

# Internal columns: occurred_at is epoch ms; data_categories and details are already JSON text.
SCHEMA: dict[str, pl.DataType] = {c: pl.String() for c in AUDIT.column_names}
SCHEMA |= {"occurred_at": pl.Int64(), "record_count": pl.Int64(), "geo_lat": pl.Float64(), "geo_lon": pl.Float64()}
EVENT_COLUMNS = [c for c in AUDIT.column_names if c != "event_id"]
RAW_JSON = {"data_categories", "details"}
NUMBERS = {"record_count", "geo_lat", "geo_lon"}


def take(values: Sequence[str | None], idx: np.ndarray) -> pl.Series:
    """values[idx] as a string Series; idx < 0 gives null."""
    s = pl.Series([*values, None], dtype=pl.String)
    return s.gather(np.where(idx < 0, len(values), idx))


def gather_text(values: np.ndarray, rows: np.ndarray) -> pl.Series:
    """values[rows] as a string Series: each of the (few) values is converted once, then gathered per row."""
    return pl.Series(values.tolist(), dtype=pl.String).gather(rows)


class Lookup:
    """A fixed list of strings to gather from by index (-1 gives null), built once."""

    def __init__(self, values: Sequence[str | None]) -> None:
        self.n = len(values)
        self.series = pl.Series([*values, None], dtype=pl.String)

    def get(self, idx: np.ndarray) -> pl.Series:
        return self.series.gather(np.where(idx < 0, self.n, idx))


def frame(n: int, **cols: object) -> pl.DataFrame:
    """An event frame of n rows: Series/arrays are taken as they are, scalars are broadcast, the rest null."""
    data: dict[str, pl.Series] = {}
    exprs: list[pl.Expr] = []
    for name in EVENT_COLUMNS:
        dtype = SCHEMA[name]
        v = cols.pop(name, None)
        if isinstance(v, pl.Series):
            data[name] = v.rename(name)
        elif isinstance(v, np.ndarray):
            data[name] = pl.Series(
                name, v.tolist() if v.dtype == object else v, dtype=dtype if v.dtype == object else None
            )
        elif isinstance(v, list):
            data[name] = pl.Series(name, v, dtype=dtype)
        else:
            exprs.append(pl.lit(v, dtype=dtype).alias(name))
            continue
        exprs.append(pl.col(name).cast(dtype))
    if cols:
        raise KeyError(f"unknown event columns: {sorted(cols)}")
    if not data:
        data["_n"] = pl.Series("_n", np.zeros(n, dtype=np.int8))
    return pl.DataFrame(data).select(exprs)


EMPTY = frame(0)


def rows_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """An event frame from a few hand-made rows (planted events, jobs)."""
    if not rows:
        return frame(0)
    keys = sorted({k for r in rows for k in r})
    return frame(len(rows), **{k: [r.get(k) for r in rows] for k in keys})


ESCAPED = ("\\", '"')  # what a JSON string must escape among the characters generated text can hold


def _value(name: str, raw: set[str], numbers: set[str], escape: bool) -> list[pl.Expr]:
    """The pieces of `"name":value`, null where the value is null."""
    col = pl.col(name)
    if name in raw:
        return [pl.lit(f'"{name}":'), col]
    if name in numbers:
        return [pl.lit(f'"{name}":'), col.cast(pl.String)]
    if name == "occurred_at":
        return [pl.lit(f'"{name}":"'), ts_expr(name, millis=True), pl.lit('"')]
    if escape:
        col = col.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
    return [pl.lit(f'"{name}":"'), col, pl.lit('"')]


def _escaped_columns(df: pl.DataFrame, columns: Sequence[str]) -> set[str]:
    """The text columns holding a quote or a backslash somewhere. Generated text never does except where
    planted on purpose, so only those columns pay for escaping (a scan costs a fraction of a replace)."""
    if not columns:
        return set()
    hits = df.select([pl.col(c).str.contains_any(list(ESCAPED)).any() for c in columns]).row(0)
    return {c for c, hit in zip(columns, hits, strict=True) if hit}


def render(
    df: pl.DataFrame, columns: Sequence[str] = AUDIT.column_names, raw: set[str] = RAW_JSON, numbers: set[str] = NUMBERS
) -> pl.Series:
    """One JSON object per row, keys in contract order, null fields omitted.

    `raw` columns already hold JSON text (lists, objects, booleans); `numbers` are written bare.
    """
    text = [c for c in columns if c not in raw and c not in numbers and c != "occurred_at"]
    escape = _escaped_columns(df, text)
    pieces = [pl.concat_str(_value(c, raw, numbers, c in escape)) for c in columns]
    line = pl.concat_str([pl.lit("{"), pl.concat_str(pieces, separator=",", ignore_nulls=True), pl.lit("}")])
    return df.select(line.alias("line")).to_series()


class SubjectSampler:
    """Draws subjects that may be touched on a given local day (exist, tenant still a customer, not erased)."""

    def __init__(self, world: World, pools: dict[str, np.ndarray]) -> None:
        self.first = world.first_valid_day()
        self.last = world.last_valid_day()
        self.pools = pools
        self.safe = {k: p[(self.first[p] <= -1) & (self.last[p] >= 366)] for k, p in pools.items()}
        # Contacts and prospects grouped by tenant (subjects are already sorted by tenant).
        contacts = pools["contact"]
        self.by_tenant = contacts
        t = world.subject_tenant[contacts]
        self.tenant_start = np.searchsorted(t, np.arange(world.n_tenants))
        self.tenant_count = np.searchsorted(t, np.arange(world.n_tenants), side="right") - self.tenant_start

    def valid(self, s: np.ndarray, day: int) -> np.ndarray:
        return (self.first[s] <= day) & (self.last[s] >= day)

    def sample(self, rng: np.random.Generator, pool: str, day: int, n: int) -> np.ndarray:
        p = self.pools[pool]
        s = p[rng.integers(0, len(p), n)]
        bad = ~self.valid(s, day)
        if bad.any():
            safe = self.safe[pool]
            s[bad] = safe[rng.integers(0, len(safe), int(bad.sum()))]
        return s

    def in_tenant(self, rng: np.random.Generator, tenants: np.ndarray, day: int, tries: int = 4) -> np.ndarray:
        """A contact of each given tenant, or -1 where none may be touched that day (after a few draws)."""
        out = np.full(len(tenants), -1, dtype=np.int64)
        todo = np.arange(len(tenants))
        for _ in range(tries):
            t = tenants[todo]
            count = self.tenant_count[t]
            pos = self.tenant_start[t] + (rng.random(len(t)) * count).astype(np.int64)
            s = np.where(count > 0, self.by_tenant[np.minimum(pos, len(self.by_tenant) - 1)], -1)
            ok = (s >= 0) & self.valid(np.maximum(s, 0), day)
            out[todo[ok]] = s[ok]
            todo = todo[~ok & (count > 0)]
            if not len(todo):
                break
        return out
