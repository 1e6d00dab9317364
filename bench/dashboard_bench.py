"""Dashboard benchmark: every page's server-side render time (AppTest), cold and warm, on each
database, and the peak memory of a real `streamlit run` server after a browser visited every page.

    from bench.dashboard_bench import bench_dashboard
    bench_dashboard([Path("data/demo/demo.duckdb"), Path("bench/results/10M.duckdb")])

Cold: every Streamlit cache cleared before the page's first run (so it runs its queries and
controls). Warm: the median of three reruns of the same page. Targets at 10 million events: warm
under 0.5 s, cold under 3 s, server memory under 2 GB. A figure, not a test: machines are shared.
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

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


def _server_peak_mb(db: Path) -> str:
    """Peak memory of a `streamlit run` server that served every page once, or why it was not measured."""
    if not CHROMIUM.exists():
        return "n/a (no /usr/bin/chromium)"
    port = _free_port()
    env = dict(os.environ, COMPLIANCE_DB=str(db), COMPLIANCE_DASHBOARD_PERSIST="0")
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
        "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
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
                    return "n/a (server did not start)"
                time.sleep(0.5)
        _visit_every_page(url)
        return f"{_peak_rss_mb(proc.pid):,.0f} MB"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


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
