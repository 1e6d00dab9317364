"""The dashboard's server: `streamlit run dashboard/server.py` (what `compliance serve` runs).

The same app as `streamlit run dashboard/app.py`, plus a warm-up when the server starts: a plain
Streamlit server runs nothing until the first visitor, who then waited for every import, the policy,
the connection and the controls (12.6 s measured). Here a background thread does that work as soon
as the server is up, so the first visitor finds it done (or half done, if they come within seconds).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))


def _warm_up() -> None:
    from dashboard.warm import warm_up

    warm_up()


@asynccontextmanager
async def _lifespan(_app: object) -> AsyncIterator[None]:
    # A thread, so the server answers at once: a visitor arriving mid warm-up waits only for the rest
    # (Streamlit's caches let one caller compute a key while others wait for it).
    threading.Thread(target=_warm_up, name="dashboard-warm-up", daemon=True).start()
    yield


app = st.App(str(Path(__file__).with_name("app.py")), lifespan=_lifespan)
