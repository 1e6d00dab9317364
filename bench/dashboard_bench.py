"""Dashboard benchmark: every page's server-side render time (AppTest), cold and warm, on each
database, and the peak memory of a real `streamlit run` server after a browser visited every page.

    from bench.dashboard_bench import bench_dashboard
    bench_dashboard([Path("data/demo/demo.duckdb"), Path("bench/results/10M.duckdb")])

Cold: every Streamlit cache cleared before the page's first run (so it runs its queries and
controls). Warm: the median of three reruns of the same page. Targets at 10 million events: warm
under 0.5 s, cold under 3 s, server memory under 2 GB. A figure, not a test: machines are shared.

`bench_pages` (benchmark.py --only pages) measures what a person waits for in headless Chromium: per
page, a freshly started `compliance serve` server (dashboard/server.py) visited at once (cold), then
three new sessions (warm, median), until the script run is over and every chart has drawn; then three
new tabs of a browser that has the page's scripts cached (cached, median). The floor: a bare Streamlit
page and one with a dataframe and a chart, measured the same way. The load average is printed with the
figures: on a shared machine they say more about the neighbours.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from compliance.catalog import PAGES as CATALOG_PAGES

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "dashboard" / "app.py"
PAGES = [page.path for page in CATALOG_PAGES]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
TIMEOUT = 3600.0  # a cold Overview on big data runs every control
VISIT_SECONDS = 600.0  # a browser visit that is not ready by then is printed as nan (never settled)


def _render_times(db: Path) -> list[tuple[str, float, float, str]]:
    """(page, cold seconds, warm seconds, problem) for each page, in this process (AppTest)."""
    from streamlit.testing.v1 import AppTest

    from dashboard import data

    os.environ["COMPLIANCE_DB"] = str(db)
    rows = []
    for page in PAGES:
        data.clear_caches()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        t0 = time.perf_counter()
        at.switch_page(page).run()
        cold = time.perf_counter() - t0
        warm_runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            at.run()
            warm_runs.append(time.perf_counter() - t0)
        problem = "; ".join(str(e.value)[:80] for e in [*at.exception, *at.error])
        rows.append((Path(page).stem, cold, statistics.median(warm_runs), problem))
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident set (VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _visit_every_page(url: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            for path in PAGES:
                name = Path(path).stem
                page.goto(f"{url}/{'' if name == 'overview' else name}", timeout=TIMEOUT * 1000)
                deadline = time.monotonic() + TIMEOUT
                while time.monotonic() < deadline:  # until the script run is over
                    state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
                    if state == "notRunning" and not page.locator('[data-testid="stSkeleton"]').count():
                        break
                    page.wait_for_timeout(250)
        finally:
            browser.close()


@contextmanager
def _server(db: Path, script: Path = APP, root: Path = ROOT) -> Iterator[tuple[str, subprocess.Popen[bytes]] | None]:
    """A `streamlit run script` server on 127.0.0.1 over `db`, run from `root` (a checkout): (its URL, its
    process), or None if it did not start."""
    port = _free_port()
    env = dict(os.environ, COMPLIANCE_DB=str(db.resolve()), COMPLIANCE_DASHBOARD_PERSIST="0", PYTHONPATH=str(root))
    # The access log goes beside the database by default: never write into a shared (read-only) demo folder.
    env["COMPLIANCE_ACCESS_LOG"] = os.path.join(
        tempfile.gettempdir(), f"dashboard-bench-{os.getpid()}.access-log.jsonl"
    )
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    yield None
                    return
                time.sleep(0.1)
        yield url, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _server_peak_mb(db: Path) -> str:
    """Peak memory of a `streamlit run` server that served every page once, or why it was not measured."""
    if not CHROMIUM.exists():
        return "n/a (no /usr/bin/chromium)"
    with _server(db) as started:
        if started is None:
            return "n/a (server did not start)"
        url, proc = started
        _visit_every_page(url)
        return f"{_peak_rss_mb(proc.pid):,.0f} MB"


# A page is ready when its script run is over (the app went from running to notRunning), no skeleton
# or spinner is left and every chart has drawn: what a person waits for, measured from navigation start.
_RECORD_RUNS = """
window.__runs = [];
new MutationObserver((ms) => { for (const m of ms) window.__runs.push(m.target.getAttribute(m.attributeName)); })
  .observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
_READY = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (!window.__runs.includes('running')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stSpinner"]')) return false;
  // Charts on screen (one in a closed expander or tab has no size and is drawn only when opened).
  const charts = [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].filter((c) => c.offsetWidth > 0);
  if (!charts.every((c) => c.querySelector('canvas, svg'))) return false;
  return performance.now();
}"""


def _page_url(url: str, path: str) -> str:
    name = Path(path).stem
    return f"{url}/{'' if name == 'overview' else name}"


@dataclass(frozen=True)
class Visit:
    """One page visit in a new browser session: seconds until ready, and the CPU seconds the dashboard's
    server and the browser spent meanwhile (on a loaded machine, CPU says more than the clock)."""

    seconds: float
    server_cpu: float
    browser_cpu: float


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for proc in processes:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.Error:  # a renderer that ended meanwhile
            pass
    return total


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _chromium() -> list[psutil.Process]:
    """This process's Chromium processes (browser, renderers, GPU and utility processes)."""
    found = []
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name().lower():
                found.append(proc)
        except psutil.Error:  # a renderer of a closed tab, ended since the listing
            pass
    return found


def _time_visit(browser: object, url: str, server_pid: int, context: object | None = None) -> Visit:
    """A new browser session on `url`: seconds from navigation start until the page is ready. In a fresh
    browser context (a first-time visitor: every script fetched and compiled), or in a new tab of
    `context` (a returning visitor: Streamlit's scripts are immutable, so the browser keeps them)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    own = context is None
    context = browser.new_context(viewport={"width": 1440, "height": 1000}) if own else context
    try:
        page = context.new_page()
        page.add_init_script(_RECORD_RUNS)
        server_before, browser_before = _cpu_seconds(_tree(server_pid)), _cpu_seconds(_chromium())
        page.goto(url, timeout=TIMEOUT * 1000)
        try:
            ready = page.wait_for_function(_READY, polling=50, timeout=VISIT_SECONDS * 1000)
        except PlaywrightTimeout:  # a page that never settles is reported, not waited on for an hour
            return Visit(float("nan"), float("nan"), float("nan"))
        return Visit(
            float(ready.json_value()) / 1000,
            _cpu_seconds(_tree(server_pid)) - server_before,
            _cpu_seconds(_chromium()) - browser_before,
        )
    finally:
        (context if own else page).close()


def _cached_visit(browser: object, url: str, server_pid: int) -> Visit:
    """The median of three new sessions in one browser that visited `url` once before (its cache kept)."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        _time_visit(browser, url, server_pid, context)
        return _median_visit([_time_visit(browser, url, server_pid, context) for _ in range(3)])
    finally:
        context.close()


def _median_visit(visits: list[Visit]) -> Visit:
    return Visit(*(statistics.median(getattr(v, f) for v in visits) for f in ("seconds", "server_cpu", "browser_cpu")))


def _browser_times(
    db: Path, checkouts: dict[str, Path], pages: list[str]
) -> Iterator[tuple[str, str, Visit, Visit, Visit]]:
    """(page, checkout, cold, warm, cached) in a real browser, each checkout's server.py in turn for every page (so
    old and new meet the same neighbours): a fresh server per page, visited as soon as it answers, so cold
    includes whatever of the imports, connection and controls the server has not done yet; warm is the
    median of three new sessions afterwards, each in a fresh browser; cached, of three in one browser that
    visited the page before."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for path in pages:
                for label, root in checkouts.items():
                    with _server(db, root / "dashboard" / "server.py", root) as started:
                        if started is None:
                            raise RuntimeError(f"streamlit did not start from {root}")
                        url, proc = _page_url(started[0], path), started[1]
                        cold = _time_visit(browser, url, proc.pid)
                        warm = _median_visit([_time_visit(browser, url, proc.pid) for _ in range(3)])
                        cached = _cached_visit(browser, url, proc.pid)
                    yield Path(path).stem, label, cold, warm, cached
        finally:
            browser.close()


# The floor: what Streamlit alone costs in this browser, served like the dashboard (same version, same
# .streamlit/config.toml, same flags and readiness test). A page of ours can only be this fast or slower.
FLOOR_SCRIPTS = {
    "bare Streamlit page": 'import streamlit as st\nst.write("hi")\n',
    "bare page + 1 dataframe + 1 altair chart": """import altair as alt
import pandas as pd
import streamlit as st
df = pd.DataFrame({"day": pd.date_range("2025-01-01", periods=60), "n": range(60)})
st.dataframe(df)
st.altair_chart(alt.Chart(df).mark_bar().encode(x="day:T", y="n:Q"))
""",
}
FLOOR_RUNS = 3


def _floor_times(browser: object, db: Path) -> Iterator[tuple[str, list[Visit], list[Visit], list[Visit]]]:
    """(label, cold, warm, cached visits) of each floor script: FLOOR_RUNS fresh servers, each visited
    once cold, three times warm and three times cached (medians), as the pages are."""
    with tempfile.TemporaryDirectory(prefix="pages-floor-") as tmp:
        for n, (label, text) in enumerate(FLOOR_SCRIPTS.items()):
            script = Path(tmp) / f"floor{n}.py"
            script.write_text(text)
            colds, warms, cached = [], [], []
            for _ in range(FLOOR_RUNS):
                with _server(db, script) as started:  # cwd ROOT: the dashboard's .streamlit/ config
                    if started is None:
                        raise RuntimeError(f"streamlit did not start {script}")
                    url, proc = started
                    colds.append(_time_visit(browser, url, proc.pid))
                    warms.append(_median_visit([_time_visit(browser, url, proc.pid) for _ in range(3)]))
                    cached.append(_cached_visit(browser, url, proc.pid))
            yield label, colds, warms, cached


def _spread(visits: list[Visit]) -> str:
    times = sorted(v.seconds for v in visits)
    return f"{statistics.median(times):.2f} s ({times[0]:.2f}-{times[-1]:.2f})"


def bench_floor(db: Path) -> None:
    """Print the floor reference lines: a bare Streamlit page's cold and warm time in this browser."""
    from playwright.sync_api import sync_playwright

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n## floor: bare Streamlit pages, {FLOOR_RUNS} servers each (load average {load})", flush=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            for label, colds, warms, cached in _floor_times(browser, db):
                cpu = _median_visit(warms)
                print(
                    f"{label}: cold {_spread(colds)}, warm {_spread(warms)}, cached {_spread(cached)}"
                    f"  (warm CPU s: server {cpu.server_cpu:.2f}, browser {cpu.browser_cpu:.2f})",
                    flush=True,
                )
        finally:
            browser.close()


def bench_pages(db_paths: list[Path], baseline: Path | None = None, pages: list[str] | None = None) -> None:
    """Print per-page cold and warm times measured in headless Chromium, for each database, with the CPU
    seconds of the server and of the browser; with `baseline` (another checkout, e.g. `git archive main`),
    its server.py beside this one's, alternating page by page.

    Cold: a server just started, the page is its first visitor (imports, connection, the page's
    queries and controls). Warm: the median of three new browser sessions on that server afterwards, each
    a first-time visitor (a fresh browser profile). Cached: the same in a browser that visited the page
    before (a returning visitor: Streamlit's scripts kept). Targets: at most 3 s cold and 0.5 s warm. The
    floor lines first: a bare Streamlit page measured the same way, below which no page of ours can go.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if not CHROMIUM.exists():
        print("\n## pages: n/a (no /usr/bin/chromium)")
        return
    checkouts = {"this": ROOT} | ({"baseline": Path(baseline).resolve()} if baseline else {})
    bench_floor(Path(db_paths[0]))
    for db in db_paths:
        db = Path(db)
        size = db.stat().st_size / 1e6
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # other work on the machine skews every figure
        print(f"\n## pages in a browser (server.py) on {db} ({size:,.0f} MB; load average {load})", flush=True)
        if baseline:
            print(f"   'this' = {ROOT}, 'baseline' = {checkouts['baseline']}", flush=True)
        print(
            f"{'page':<14}{'checkout':<10}{'cold s':>8}{'server':>8}{'browser':>8}"
            f"{'warm s':>8}{'server':>8}{'browser':>8}{'cached s':>9}   (CPU s of server and browser)",
            flush=True,
        )
        for name, label, cold, warm, cached in _browser_times(db, checkouts, pages or PAGES):
            flag = "" if cold.seconds <= 3 and warm.seconds <= 0.5 else "  (over target: 3 s cold, 0.5 s warm)"
            if cold.seconds != cold.seconds or warm.seconds != warm.seconds:  # nan: a visit never settled
                flag = f"  (a visit was not ready within {VISIT_SECONDS:.0f} s)"
            print(
                f"{name:<14}{label:<10}{cold.seconds:>8.2f}{cold.server_cpu:>8.2f}{cold.browser_cpu:>8.2f}"
                f"{warm.seconds:>8.2f}{warm.server_cpu:>8.2f}{warm.browser_cpu:>8.2f}{cached.seconds:>9.2f}{flag}",
                flush=True,
            )
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)


def bench_dashboard(db_paths: list[Path]) -> None:
    """Print per-page cold and warm render times, and the server's peak memory, for each database."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["COMPLIANCE_DASHBOARD_PERSIST"] = "0"  # cold means cold: no disk cache either
    # Clearing caches outside a server makes Streamlit warn on every call: keep the figures readable.
    from streamlit.logger import set_log_level

    set_log_level("error")
    for db in db_paths:
        db = Path(db)
        size = db.stat().st_size / 1e6
        print(f"\n## dashboard on {db} ({size:,.0f} MB)", flush=True)
        print(f"{'page':<14}{'cold s':>9}{'warm s':>9}  problems", flush=True)
        for name, cold, warm, problem in _render_times(db):
            flag = "" if cold < 3 and warm < 0.5 else "  (over target)"
            print(f"{name:<14}{cold:>9.2f}{warm:>9.3f}  {problem or '-'}{flag}", flush=True)
        print(f"server peak memory after every page: {_server_peak_mb(db)} (target < 2 GB)", flush=True)


if __name__ == "__main__":
    bench_dashboard([Path(p) for p in sys.argv[1:]])
