"""`compliance check` on DuckDB vs Spark local mode, side by side (issue 16).

Both run the whole catalogue on the same data as of the same date, each in its own process: DuckDB on
the audit database, Spark (PySpark local mode, `local[2]`) on its `export-parquet` export. Spark's
session start is timed apart from the check itself. On one machine Spark is expected to be slower (JVM,
planning and task overhead per query); it is there to scale out over a cluster, not to win here.
"""

from __future__ import annotations

from pathlib import Path

# Peak memory of the whole process tree (Spark's JVM is a child of the Python process, and getrusage of
# children counts only children that were waited for), sampled from /proc every 0.2 s.
TREE_PEAK = """
import os, threading
def _tree_rss_mb(pid):
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(ln.split()[1]) for ln in f if ln.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass  # the process ended between two reads
    return total / 1024
_peak = [0.0]
def _sample():
    while True:
        _peak[0] = max(_peak[0], _tree_rss_mb(os.getpid()))
        threading.Event().wait(0.2)
threading.Thread(target=_sample, daemon=True).start()
"""

ENGINE_CHECK = """
import json, time
t0 = time.perf_counter()
from compliance.check import run_check
from compliance.config.bundle import load_policy
policy = load_policy()
start = 0.0
if {engine!r} == "spark":
    from compliance.spark.connection import local_session
    t1 = time.perf_counter(); local_session(); start = time.perf_counter() - t1
t2 = time.perf_counter()
result = run_check({source!r}, as_of=__import__("datetime").date.fromisoformat({as_of!r}), policy=policy,
                   engine={engine!r})
check = time.perf_counter() - t2
f = result.findings
print(json.dumps({{"check": check, "start": start, "rows": f.height,
                  "alarms": f.filter(f["status"] == "alarm").height,
                  "errors": f.filter(f["status"] == "error").height,
                  "tree_peak_mb": max(_peak[0], _tree_rss_mb(__import__("os").getpid()))}}))
"""


def bench_spark(scales: list[int]) -> None:
    from bench.benchmark import WORK, database, run_measured
    from compliance.export_parquet import export_parquet

    for scale in scales:
        db: Path = database(scale)
        data = WORK / f"parquet-{scale}"
        if not (data / "_export.json").exists():
            export_parquet(db, data)
        with __import__("duckdb").connect(str(db), read_only=True) as con:
            as_of = str(con.sql("select max(event_date) from audit_events").fetchall()[0][0])
            events = con.sql("select count(*) from audit_events").fetchall()[0][0]
        duck, t_duck, _ = run_measured(TREE_PEAK + ENGINE_CHECK.format(engine="duckdb", source=str(db), as_of=as_of))
        spark, t_spark, _ = run_measured(TREE_PEAK + ENGINE_CHECK.format(engine="spark", source=str(data), as_of=as_of))
        m_duck, m_spark = duck["tree_peak_mb"], spark["tree_peak_mb"]
        print(f"\n## check on DuckDB vs Spark local mode, {events:,} audit events, as of {as_of}")
        print(
            f"{'engine':28} {'check s':>8} {'session s':>10} {'process s':>10} {'peak MB':>8} {'rows':>7} {'errors':>6}"
        )
        for name, r, wall, peak in (("DuckDB (database file)", duck, t_duck, m_duck),
                                    ("Spark local[2] (Parquet)", spark, t_spark, m_spark)):  # fmt: skip
            print(
                f"{name:28} {r['check']:8.2f} {r['start']:10.2f} {wall:10.2f} {peak:8.0f} {r['rows']:7} {r['errors']:6}"
            )
        same = (duck["rows"], duck["alarms"]) == (spark["rows"], spark["alarms"])
        print(
            f"Spark/DuckDB check time: {spark['check'] / duck['check']:.1f}x; findings rows {duck['rows']} vs "
            f"{spark['rows']}, alarms {duck['alarms']} vs {spark['alarms']} ({'same counts' if same else 'DIFFERENT'};"
            " row-for-row parity is tests/test_spark_parity.py). Peak MB is the whole process tree"
            " (Python and, for Spark, its JVM), sampled every 0.2 s."
        )
