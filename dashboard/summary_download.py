"""The Overview's "Management summary (PDF)" button: the one-page summary of compliance.management_summary,
built from the results the page already shows (same as-of date, same findings, people pseudonymised)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from compliance.history import recorded_runs
from compliance.identities import Identities
from compliance.management_summary import build_summary, render_summary_pdf
from dashboard import auth, data


def summary_button(findings: pl.DataFrame, as_of: date, titles: dict[str, str], ids: Identities) -> None:
    """A download button (any signed-in role: the file holds pseudonyms only; the download is logged)."""
    db = Path(data.database().path)
    version = data.policy().version  # read here: the file is produced on Streamlit's download thread

    def pdf() -> bytes:
        summary = build_summary(
            findings,
            as_of=as_of,
            titles=titles,
            runs=recorded_runs(db, end=as_of),
            ids=Identities(ids.kinds),  # pseudonyms whatever the viewer revealed on screen
            policy_version=version,
            source=f"the database {db.name!r}",
        )
        return render_summary_pdf(summary)

    auth.download_button(
        "Management summary (PDF)",
        pdf,
        file_name=f"management-summary-{as_of.isoformat()}.pdf",
        mime="application/pdf",
        key="management_summary_pdf",
        help="One page: posture by policy section, trend over the recorded check runs, top risks; people "
        "pseudonymised.",
    )
