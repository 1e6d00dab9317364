"""The `compliance` command: demo data, ingestion, headless checks and the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from compliance.paths import DEMO_DB, REPO_ROOT

app = typer.Typer(
    help="Evidence, from Capantra's own logs, that its privacy policy's promises are kept.\n\n"
    "Typical use: `compliance ingest EXPORT_DIR --db audit.duckdb`, then `compliance check --db audit.duckdb`, "
    "and `compliance serve --db audit.duckdb` for the dashboard. `compliance serve` alone opens the demo.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
# Wide enough for the summary tables when output goes to a log or pipe (rich assumes 80 columns there).
console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)
out = Console(width=None if Console().is_terminal else 120)


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    ocsf = "ocsf"


class Severity(StrEnum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _parse_scale(value: str) -> int:
    """10k, 1M, 1_000_000 or 1000000."""
    v = value.strip().lower().replace("_", "")
    mult = {"k": 1_000, "m": 1_000_000}.get(v[-1:], 1)
    try:
        return int(float(v[:-1] if mult > 1 else v) * mult)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a number like 200k or 10M") from None


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the export bundle into (created).")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives byte-identical files.")] = 7,
    scale: Annotated[str, typer.Option(help="About how many audit events to generate, e.g. 10k, 200k, 10M.")] = "200k",
    truth: Annotated[
        Path | None,
        typer.Option(help="Ground-truth file of planted problems (default: OUT_DIR.truth.jsonl, outside the bundle)."),
    ] = None,
) -> None:
    """Generate a realistic, deterministic Capantra export bundle with planted, labelled problems.

    The bundle follows the data contract exactly (docs/data-contract.md). Every control of the catalog
    has at least one planted problem, written to a ground-truth file outside the bundle, and a few rows
    are deliberately dirty (truncated JSON, bad timestamps, unknown enum values, duplicates, gzip).
    """
    from compliance.demo import generate_demo

    n = _parse_scale(scale)
    with _progress() as bar:
        task = bar.add_task("generating", total=None)

        def progress(stage: str, done: int) -> None:
            bar.update(task, description=f"generating {stage}", completed=done)

        summary = generate_demo(out_dir, seed=seed, scale=n, truth_path=truth, progress=progress)
    table = Table(title=f"Demo export in {out_dir}")
    for col in ("source", "files", "rows"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for row in summary.rows():
        table.add_row(str(row["source"]), f"{row['files']:,}", f"{row['rows']:,}")
    out.print(table)
    out.print(f"ground truth: {summary.truth_path}  period: {summary.period_start} .. {summary.period_end}")


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.command()
def ingest(
    exports: Annotated[list[Path], typer.Argument(help="Export folders, oldest first (a newer export's rows win).")],
    db: Annotated[Path, typer.Option(help="DuckDB database to create or update.")] = DEMO_DB,
    policy_dir: Annotated[
        Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")
    ] = None,
    memory_limit: Annotated[str | None, typer.Option(help="DuckDB memory_limit, e.g. 4GB.")] = None,
    threads: Annotated[int | None, typer.Option(help="DuckDB threads (default: all cores).")] = None,
    findings: Annotated[
        bool,
        typer.Option(
            help="Evaluate every control as of the data's newest date and store the findings in the database, "
            "so the dashboard opens with results ready (about as long as a `check`)."
        ),
    ] = True,
) -> None:
    """Load export folders into the audit database (incremental, de-duplicated, published atomically).

    Files already loaded (by SHA-256, under any name) are skipped. Rows that break the contract go to
    the `rejects` table with file, line, field and reason, and the load goes on. Readers never see a
    half-loaded database: the load runs on a copy that replaces the database in one rename.
    """
    from compliance.config.base import PolicyError
    from compliance.config.bundle import load_policy
    from compliance.ingest.load import IngestError
    from compliance.ingest.load import ingest as run_ingest
    from compliance.ingest.readers import FileReadError

    try:
        policy = load_policy(policy_dir)
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    try:
        with _progress() as bar:
            task = bar.add_task("loading", total=None)

            def progress(source: str, path: Path | None, done: int, total: int) -> None:
                bar.update(
                    task, total=total, completed=done, description=f"loading {source} {path.name if path else ''}"
                )

            def findings_progress(control_id: str, done: int, total: int) -> None:
                bar.update(task, total=total, completed=done, description=f"evaluating {control_id}")

            summary = run_ingest(
                exports,
                db,
                policy=policy,
                progress=progress,
                memory_limit=memory_limit,
                threads=threads,
                findings=findings,
                findings_progress=findings_progress,
            )
    except (IngestError, FileReadError) as exc:
        raise _fail(f"{exc}\nNothing was published; {db} is unchanged.") from None

    # Plain lines, not a table title: a title wraps to the table's width and splits the message.
    verdict = "published" if summary.published else "nothing new: database unchanged"
    out.print(f"Load into {db}: {verdict}", soft_wrap=True, highlight=False)
    table = Table()
    for col in ("source", "files loaded", "files skipped", "rows read", "loaded", "duplicates", "rejected"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for r in summary.by_source():
        if not r["present"]:
            table.add_row(str(r["source"]), "[dim]not in export[/]", "", "", "", "", "")
            continue
        rejected = f"[red]{r['rows_rejected']:,}[/]" if r["rows_rejected"] else "0"
        table.add_row(
            str(r["source"]),
            f"{r['files_loaded']:,}",
            f"{r['files_skipped']:,}",
            f"{r['rows_read']:,}",
            f"{r['rows_loaded']:,}",
            f"{r['rows_duplicate']:,}",
            rejected,
        )
    out.print(table)
    if summary.ignored_files:
        out.print(f"[yellow]ignored {len(summary.ignored_files)} file(s) with unknown extensions[/]")
    if summary.findings_as_of:
        out.print(
            f"findings of every control as of {summary.findings_as_of} stored in the `findings` table "
            f"({summary.findings_seconds:.1f} s).",
            soft_wrap=True,
        )
    out.print(f"{summary.seconds:.1f} s; rejected rows are in the `rejects` table of {db}.")


@app.command()
def check(
    db: Annotated[Path, typer.Option(help="Audit database built by `compliance ingest`.")] = DEMO_DB,
    as_of: Annotated[
        str | None, typer.Option(help="Evaluate as of this date (YYYY-MM-DD); default: newest timestamp in the data.")
    ] = None,
    control: Annotated[
        list[str] | None, typer.Option(help="Only this control id (repeatable), e.g. dsr.overdue.")
    ] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Only controls of this policy section (repeatable): PS, 1..9.")
    ] = None,
    format: Annotated[
        Format,
        typer.Option("--format", help="Findings file format; ocsf = OCSF Compliance Finding (class 2003) JSON Lines."),
    ] = Format.jsonl,
    output: Annotated[Path | None, typer.Option(help="Write findings here (default: stdout for jsonl/csv).")] = None,
    fail_on: Annotated[
        Severity | None, typer.Option(help="Exit 1 when an alarm at or above this severity exists (for CI gates).")
    ] = None,
    policy_dir: Annotated[
        Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")
    ] = None,
) -> None:
    """Evaluate the controls and write findings in the contract's format; exit 1 on alarms at --fail-on.

    The same database and as-of date always give the same findings. A summary by policy section
    (alarms, ok, info, skip, error) is printed to stderr so stdout can carry the findings.
    """
    from compliance.check import run_check, summary_table

    if not db.exists():
        raise _fail(f"{db}: no such database. Build one with `compliance ingest EXPORT_DIR --db {db}`.")
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} is not a date like 2025-12-31") from None
    if format is Format.parquet and output is None:
        raise typer.BadParameter("--format parquet needs --output FILE")
    try:
        result = run_check(
            db,
            as_of=day,
            control_ids=control or None,
            sections=section or None,
            fmt=format.value,
            output=output,
            fail_on=fail_on.value if fail_on else None,
            policy_dir=policy_dir,
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if output is None:
        sys.stdout.write(result.rendered or "")
    console.print(summary_table(result))
    raise typer.Exit(result.exit_code)


@app.command()
def serve(
    db: Annotated[
        Path | None, typer.Option(help="Audit database to show (default: the demo, built on first run).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not try to open a browser.")] = True,
) -> None:
    """Start the dashboard. Without --db it opens the bundled demo, generating it on first run."""
    from compliance.demo_database import ensure_demo_database

    if db is None:
        db = ensure_demo_database(log=lambda m: console.print(m))
    elif not db.exists():
        raise _fail(f"{db}: no such database. Build one with `compliance ingest EXPORT_DIR --db {db}`.")
    env = dict(os.environ, COMPLIANCE_DB=str(db.resolve()))
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
        "--server.port", str(port), "--server.headless", str(headless).lower(), "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    console.print(f"dashboard on http://localhost:{port}  (database {db})")
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
def policy(
    policy_dir: Annotated[
        Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")
    ] = None,
) -> None:
    """Validate the policy-as-code files and print what they declare."""
    from compliance.config.base import PolicyError
    from compliance.config.bundle import load_policy

    try:
        p = load_policy(policy_dir)
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    # A plain line, not a table title: a title wraps to the table's width and would split the verdict.
    out.print(f"Policy {p.version} ({p.directory}) is valid", soft_wrap=True, highlight=False)
    table = Table(title="What it declares")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, n in (
        ("policy sections", len(p.text.sections)),
        ("systems", len(p.data_map.systems)),
        ("declared data categories", len(p.declared_categories)),
        ("retention rules", len(p.retention.records)),
        ("roles", len(p.roles.roles)),
        ("approved recipients", len(p.recipients.recipients)),
        ("DSR deadline rules", len(p.dsr_rules.rules)),
    ):
        table.add_row(what, str(n))
    out.print(table)
    out.print(f"digest {p.digest[:16]}")


evidence_app = typer.Typer(
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
app.add_typer(evidence_app, name="evidence")


def _as_of_date(as_of: str | None) -> date | None:
    try:
        return date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} is not a date like 2025-12-31") from None


@evidence_app.callback(invoke_without_command=True)
def evidence(
    ctx: typer.Context,
    db: Annotated[Path, typer.Option(help="Audit database built by `compliance ingest`.")] = DEMO_DB,
    as_of: Annotated[
        str | None, typer.Option(help="Evaluate as of this date (YYYY-MM-DD); default: newest timestamp in the data.")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="The package to write, e.g. evidence-2025-12-31.zip.")] = None,
    notebooks: Annotated[
        bool,
        typer.Option(help="Also execute the four audit notebooks on the same database and date, as HTML (slow)."),
    ] = False,
    policy_dir: Annotated[
        Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")
    ] = None,
) -> None:
    """Build an evidence package: `compliance evidence --db DB --as-of DATE --out FILE.zip`.

    The zip holds a README index, manifest.json (every input file's SHA-256, rows loaded and rejected,
    the policy digest, each query's SHA-256, the tool version, the as-of date), the findings as JSON
    Lines, Parquet and OCSF, the posture, the GDPR Art. 30 records and CCPA §7102 metrics as XLSX and
    PDF, the DSR register with each deadline explained, the policy and queries used, and SHA256SUMS.
    Check one with `compliance evidence verify FILE.zip --db DB`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from compliance.config.base import PolicyError
    from compliance.evidence.package import build_package

    if out is None:
        raise _fail("--out FILE.zip is required (or use `compliance evidence verify FILE.zip --db DB`)")
    day = _as_of_date(as_of)
    if not db.exists():
        raise _fail(f"{db}: no such database. Build one with `compliance ingest EXPORT_DIR --db {db}`.")
    try:
        built = build_package(
            db, out, day, policy_dir=policy_dir, notebooks=notebooks, progress=lambda m: console.print(m)
        )
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:  # e.g. no timestamp in the database and no --as-of
        raise _fail(str(exc)) from None
    m = built.derived.manifest
    counts = ", ".join(f"{n:,} {s}" for s, n in m["findings"]["by_status"].items() if n)
    console.print(
        f"wrote {out} ({out.stat().st_size:,} bytes): as of {m['as_of']}, {m['findings']['rows']:,} findings "
        f"({counts}), {m['inputs']['totals']['files']:,} input files, {len(built.derived.files) + 2} files"
        + (f", notebooks executed in {built.seconds_notebooks:.0f} s" if built.seconds_notebooks is not None else ""),
        soft_wrap=True,
        highlight=False,
    )
    print(f"evidence digest {m['evidence_digest']}")


@evidence_app.command("verify")
def evidence_verify(
    package: Annotated[Path, typer.Argument(help="The evidence package (.zip) to check.")],
    db: Annotated[Path, typer.Option(help="The audit database the package was built from.")] = DEMO_DB,
) -> None:
    """Re-derive every file and figure of a package from the database and the package's own policy and
    queries; list every difference and exit 1 when there is one (0 when the package is intact)."""
    from compliance.evidence.verify import verify_package

    if not package.is_file():
        raise _fail(f"{package}: no such file")
    if not db.exists():
        raise _fail(f"{db}: no such database")
    result = verify_package(package, db)
    for d in result.differences:
        out.print(f"DIFFERENT {d}", soft_wrap=True, highlight=False, markup=False)
    if result.sums_only:
        console.print(
            f"checked against SHA256SUMS only (executed notebooks are not re-derived): {', '.join(result.sums_only)}",
            soft_wrap=True,
            highlight=False,
        )
    as_of = result.as_of.isoformat() if result.as_of else "unknown"
    if result.ok:
        out.print(
            f"OK {package}: all {result.checked} files re-derived from {db.name} as of {as_of} match",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(0)
    out.print(
        f"FAILED {package}: {len(result.differences)} difference(s) against {db.name} as of {as_of}",
        soft_wrap=True,
        highlight=False,
    )
    raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
