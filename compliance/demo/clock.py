"""Time of the demo: the period, day indexing, time-zone offsets, RFC 3339 text and seeded streams.

Times inside the generator are int64 milliseconds since the Unix epoch (UTC); a "day" is an index
from 2025-01-01 (day 0) so that per-day arrays stay plain numpy.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

PERIOD_START = date(2025, 1, 1)
PERIOD_END = date(2025, 12, 31)
AS_OF = PERIOD_END
SNAPSHOT_AT = datetime(2025, 12, 31, 23, 0, tzinfo=UTC)  # inventory snapshot time
N_DAYS = (PERIOD_END - PERIOD_START).days + 1  # 365
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
EPOCH0_MS = int(datetime.combine(PERIOD_START, time(), tzinfo=UTC).timestamp() * 1000)
# Local days -1..N_DAYS are generated so that the period's first and last UTC days are complete.
GEN_FIRST, GEN_LAST = -1, N_DAYS
N_GEN = GEN_LAST - GEN_FIRST + 1

# Independent random streams: each (seed, stream, key) gives the same numbers whatever ran before.
STREAM_TENANTS, STREAM_WORKFORCE, STREAM_DSR, STREAM_STAFF, STREAM_CUSTOMERS = 1, 2, 3, 4, 5
STREAM_SERVICES, STREAM_USAGE, STREAM_DIAG, STREAM_INVENTORY, STREAM_PLANTS = 6, 7, 8, 9, 10


def rng_for(seed: int, stream: int, key: int = 0) -> np.random.Generator:
    # Keys may be negative (day -1): shift them into the unsigned range SeedSequence wants.
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, key + 1000])))


def day_of(d: date) -> int:
    return (d - PERIOD_START).days


def date_of(day: int) -> date:
    return PERIOD_START + timedelta(days=day)


def day_start_ms(day: int) -> int:
    return EPOCH0_MS + day * DAY_MS


def ms_of(dt: datetime) -> int:
    return int(dt.astimezone(UTC).timestamp() * 1000)


def dt_of(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def rfc3339(dt: datetime | None) -> str | None:
    """UTC text with a Z, to the second (the contract's RFC 3339)."""
    if dt is None:
        return None
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local_dt(d: date, hour: float, tz: str) -> datetime:
    """A wall-clock time on a local date, as an aware UTC datetime."""
    seconds = round(hour * 3600)
    naive = datetime.combine(d, time()) + timedelta(seconds=seconds)
    return naive.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


@lru_cache(maxsize=64)
def tz_offsets(tz: str) -> np.ndarray:
    """UTC offset in seconds at local noon of each generated day (index day - GEN_FIRST)."""
    zone = ZoneInfo(tz)
    out = np.empty(N_GEN, dtype=np.int64)
    for i in range(N_GEN):
        noon = datetime.combine(date_of(GEN_FIRST + i), time(12), tzinfo=zone)
        off = noon.utcoffset()
        out[i] = 0 if off is None else int(off.total_seconds())
    return out


def offsets_matrix(tzs: list[str]) -> np.ndarray:
    """(len(tzs), N_GEN) offsets in seconds."""
    return np.stack([tz_offsets(t) for t in tzs]) if tzs else np.zeros((0, N_GEN), dtype=np.int64)


def local_to_ms(day: int, hours: np.ndarray, offset_s: np.ndarray) -> np.ndarray:
    """Local wall-clock hours on local day `day` -> epoch ms (vectorised)."""
    return (day_start_ms(day) + np.round(hours * HOUR_MS) - offset_s * 1000).astype(np.int64)


def ts_expr(col: str, millis: bool = False) -> pl.Expr:
    """RFC 3339 UTC text of an epoch-ms column."""
    fmt = "%Y-%m-%dT%H:%M:%S%.3fZ" if millis else "%Y-%m-%dT%H:%M:%SZ"
    return pl.from_epoch(pl.col(col), time_unit="ms").dt.strftime(fmt)
