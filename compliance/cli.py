"""The `compliance` command: demo data, ingestion, headless checks and the dashboard."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from compliance.paths import DEMO_DB, REPO_ROOT
from compliance.schema import SEVERITIES

if TYPE_CHECKING:
    import polars as pl

    from compliance.config.bundle import Policy
    from compliance.ingest.load import IngestSummary, TimeWindow, WorkingCopy

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
# A configured audit database (the dashboard reads the same variable; `compliance serve` sets it).
DB_ENV = "COMPLIANCE_DB"
console = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 120)
out = Console(width=None if Console().is_terminal else 120)


class Format(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    ocsf = "ocsf"


class Engine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


# The --fail-on choices, most severe first (the contract's severities, compliance.schema).
Severity = StrEnum("Severity", [(name, name) for name in reversed(SEVERITIES)])


# Options shared by the alarm-work commands (notify, triage, history).
DbOption = Annotated[Path, typer.Option(help="Audit database built by `compliance ingest`.")]
AsOfOption = Annotated[
    str | None, typer.Option(help="Evaluate as of this date (YYYY-MM-DD); default: newest timestamp in the data.")
]
PolicyDirOption = Annotated[Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")]


def _day_option(value: str | None, option: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} is not a date like 2025-12-31") from None


def _existing_db(db: Path) -> None:
    if not db.exists():
        raise _fail(f"{db}: no such database. Build one with `compliance ingest EXPORT_DIR --db {db}`.")


def _current_db(db: Path) -> None:
    """`_existing_db`, and built by this version: for commands that would otherwise find a gap only late (a
    notebook's kernel starts before its first query)."""
    from compliance.audit_database import OutdatedDatabaseError, connect_current

    _existing_db(db)
    try:
        connect_current(db).close()
    except OutdatedDatabaseError as exc:
        raise _fail(str(exc)) from None


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
    gzip_audit: Annotated[
        bool | None,
        typer.Option(
            "--gzip-audit/--plain-audit",
            help="Gzip every audit day, not only the first week (default: above 10M events).",
            show_default=False,
        ),
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

        summary = generate_demo(out_dir, seed=seed, scale=n, truth_path=truth, progress=progress, gzip_audit=gzip_audit)
    table = Table(title=f"Demo export in {out_dir}")
    for col in ("source", "files", "rows"):
        table.add_column(col, justify="right" if col != "source" else "left")
    for source in sorted(summary.files.keys() | summary.counts.keys()):
        table.add_row(source, f"{summary.files.get(source, 0):,}", f"{summary.counts.get(source, 0):,}")
    out.print(table)
    planted = sum(summary.planted.values())
    out.print(
        f"ground truth: {summary.truth_path} ({planted:,} planted findings over {len(summary.planted)} controls)  "
        f"period: {summary.period_start} .. {summary.period_end}",
        soft_wrap=True,
    )


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


@app.command()
def ingest(
    exports: Annotated[list[Path], typer.Argument(help="Export folders, oldest first (a newer export's rows win).")],
    db: Annotated[
        Path | None,
        typer.Option(help=f"DuckDB database to create or update (required unless {DB_ENV} names one)."),
    ] = None,
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
    wait: Annotated[
        float, typer.Option(help="Seconds to wait while another ingest loads into the same database, then stop.")
    ] = 600.0,
    earliest: Annotated[
        str, typer.Option(help="Timestamps before this date (YYYY-MM-DD) are rejects: no real event is older.")
    ] = "1990-01-01",
    latest: Annotated[
        str | None,
        typer.Option(help="Timestamps after this date are rejects (default: one day after the load starts)."),
    ] = None,
) -> None:
    """Load export folders into the audit database (incremental, de-duplicated, published atomically).

    Files already loaded (by SHA-256, under any name) are skipped. Rows that break the contract go to
    the `rejects` table with file, line, field and reason, and the load goes on. Readers never see a
    half-loaded database: the load runs on a copy that replaces the database in one rename.
    """
    from compliance.ingest.load import IngestError

    target = _ingest_target(db)
    policy = _policy_or_fail(policy_dir)
    options = dict(memory_limit=memory_limit, threads=threads, findings=findings, lock_wait_seconds=wait)
    try:
        summary = _ingest_with_progress(exports, target, policy, _time_window(earliest, latest), **options)
    except IngestError as exc:
        raise _fail(f"{exc}\nNothing was published; {target} is unchanged.") from None
    _print_load_summary(target, summary)
    if summary.findings_as_of and summary.published:
        _record_ingest(target, policy, summary.findings_as_of)
    if summary.failed:
        raise _fail(f"{len(summary.failed)} file(s) could not be read (listed above); the other files were loaded.", 1)


def _ingest_target(db: Path | None) -> Path:
    """--db, else a configured COMPLIANCE_DB that is not the demo: an ingest never writes into the demo by default."""
    if db is not None:
        return db
    configured = os.environ.get(DB_ENV)
    if configured and Path(configured).resolve() != DEMO_DB.resolve():
        return Path(configured)
    raise _fail(
        "compliance ingest needs --db DATABASE: the audit database to create or update "
        f"(or set {DB_ENV}). It never loads into the demo database unasked."
    )


def _policy_or_fail(policy_dir: Path | None) -> Policy:
    from compliance.config.base import PolicyError
    from compliance.config.bundle import load_policy

    try:
        return load_policy(policy_dir)
    except PolicyError as exc:
        raise _fail(str(exc)) from None


def _time_window(earliest: str, latest: str | None) -> TimeWindow:
    from compliance.ingest.load import TimeWindow

    try:
        return TimeWindow(datetime.fromisoformat(earliest), datetime.fromisoformat(latest) if latest else None)
    except ValueError:
        raise typer.BadParameter(
            f"--earliest/--latest must be dates like 1990-01-01 (got {earliest!r}, {latest!r})"
        ) from None


def _ingest_with_progress(
    exports: list[Path], db: Path, policy: Policy, window: TimeWindow, **options: Any
) -> IngestSummary:
    """The package's ingest, with one progress bar for the load and then the findings it stores."""
    from compliance.ingest.load import ingest as run_ingest

    with _progress() as bar:
        task = bar.add_task("loading", total=None)

        def progress(source: str, path: Path | None, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"loading {source} {path.name if path else ''}")

        def findings_progress(control_id: str, done: int, total: int) -> None:
            bar.update(task, total=total, completed=done, description=f"evaluating {control_id}")

        return run_ingest(
            exports, db, policy=policy, progress=progress, findings_progress=findings_progress, window=window, **options
        )


def _print_load_summary(db: Path, summary: IngestSummary) -> None:
    """Per source: files loaded and skipped, rows read, loaded, duplicate and rejected; then unread files."""
    # Plain lines, not a table title: a title wraps to the table's width and splits the message.
    verdict = "published" if summary.published else "nothing new: database unchanged"
    out.print(f"Load into {db}: {verdict}", soft_wrap=True, highlight=False)
    table = Table()
    for col in ("source", "files loaded", "files skipped", "rows read", "loaded", "duplicates", "rejected"):
        table.add_column(col, justify="left" if col == "source" else "right")
    for row in summary.by_source():
        if not row["present"]:
            table.add_row(str(row["source"]), "[dim]not in export[/]", "", "", "", "", "")
            continue
        rejected = f"[red]{row['rows_rejected']:,}[/]" if row["rows_rejected"] else "0"
        counts = ("files_loaded", "files_skipped", "rows_read", "rows_loaded", "rows_duplicate")
        table.add_row(str(row["source"]), *(f"{row[c]:,}" for c in counts), rejected)
    out.print(table)
    for f in summary.files:  # lines with no data are skipped, never silently: named with their count
        if f.blank_lines:
            line = f"skipped: {f.path}: {f.blank_lines:,} blank line(s) (empty or only spaces and tabs: no data)"
            out.print(line, soft_wrap=True, highlight=False, markup=False)
    _print_unread(summary)
    if summary.findings_as_of:
        out.print(
            f"findings of every control as of {summary.findings_as_of} stored in the `findings` table "
            f"({summary.findings_seconds:.1f} s).",
            soft_wrap=True,
        )
    if summary.working_copy:
        out.print(_working_copy_line(summary.working_copy), soft_wrap=True, highlight=False, markup=False)
    out.print(f"{summary.seconds:.1f} s; rejected rows are in the `rejects` table of {db}.")


def _working_copy_line(copy: WorkingCopy) -> str:
    """What the load's private copy of the database cost, and how to make it free where it takes a while."""
    made = f"working copy of the database: {copy.size_bytes / 1e6:,.0f} MB "
    if copy.cloned:
        return made + f"cloned in {copy.seconds:.1f} s (the filesystem shares its blocks until written)."
    if copy.seconds < 1:
        return made + f"copied in {copy.seconds:.1f} s."
    return made + (
        f"copied in {copy.seconds:.1f} s; this filesystem does not clone files, so every load copies the whole "
        "database: on XFS formatted with reflink, or Btrfs, the clone is instant (README, 'Daily loads and where "
        "the database lives')."
    )


def _print_unread(summary: IngestSummary) -> None:
    """Name every file that was not read, or could not be read, with the reason (never just a count)."""
    for failed in summary.failed:
        # File names and reasons come from the export: printed as plain text, never as rich markup.
        line = Text("not loaded: ", style="bold red") + Text(f"{failed.path}: {failed.note}")
        out.print(line, soft_wrap=True, highlight=False)
    for unread in summary.unread:
        out.print(f"not read: {unread.path}: {unread.reason}", soft_wrap=True, highlight=False, markup=False)


def _record_ingest(db: Path, policy: Policy, as_of: date) -> None:
    """Keep the findings the ingest just stored in the history (read back from the published file)."""
    from compliance.audit_database import connect_read_only
    from compliance.stored_findings import findings_as_of

    with connect_read_only(db) as con:
        findings = findings_as_of(con, policy, as_of)
    _record_run(db, findings, as_of, "ingest", policy.digest)


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
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Keep this run's findings in the history beside the database (`compliance history`). "
            "Needs every control: not with --control or --section.",
        ),
    ] = False,
    engine: Annotated[
        Engine, typer.Option(help="Run the controls on DuckDB (--db) or on Spark SQL (--data, PySpark).")
    ] = Engine.duckdb,
    data: Annotated[
        str | None,
        typer.Option(
            help="With --engine spark: the Parquet/Delta tables written by `compliance export-parquet` "
            "(a folder, or a URI such as s3://bucket/audit that the Spark session can read)."
        ),
    ] = None,
) -> None:
    """Evaluate the controls and write findings in the contract's format; exit 1 on alarms at --fail-on.

    The same database and as-of date always give the same findings. A summary by policy section
    (alarms, ok, info, skip, error, suppressed) is printed to stderr so stdout can carry the findings.
    Alarms waived by the policy's exceptions.yaml are `suppressed`: they never fail --fail-on, and
    waivers that suppressed nothing are listed.
    """
    from compliance.check import run_check, summary_table

    _check_selection(control, section)
    source = _check_source(engine, db, data, record)
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise typer.BadParameter(f"--as-of {as_of!r} is not a date like 2025-12-31") from None
    if format is Format.parquet and output is None:
        raise typer.BadParameter("--format parquet needs --output FILE")
    if record and (control or section):
        raise typer.BadParameter("--record keeps a whole run: drop --control/--section")
    policy_obj = _policy_or_fail(policy_dir)
    try:
        result = run_check(
            source,
            as_of=day,
            control_ids=control or None,
            sections=section or None,
            fmt=format.value,
            output=output,
            fail_on=fail_on.value if fail_on else None,
            policy=policy_obj,
            engine=engine.value,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    if output is None:
        sys.stdout.write(result.rendered or "")
    console.print(summary_table(result))
    for unused in result.unused_waivers:
        console.print(f"[yellow]unused waiver:[/] {unused.sentence()}", soft_wrap=True, highlight=False)
    if record:
        _record_run(db, result.findings, result.as_of, "check", policy_obj.digest)
    raise typer.Exit(result.exit_code)


def _check_source(engine: Engine, db: Path, data: str | None, record: bool) -> Path | str:
    """What `check` reads: the DuckDB database, or with --engine spark the exported tables."""
    if engine is Engine.spark:
        if data is None:
            raise typer.BadParameter("--engine spark needs --data DIR (write it with `compliance export-parquet`)")
        if record:
            raise typer.BadParameter("--record keeps the history beside a DuckDB database: not with --engine spark")
        if "://" not in data and not Path(data).is_dir():
            raise _fail(f"{data}: no such data folder. Write one with `compliance export-parquet --db DB {data}`.")
        return data
    if data is not None:
        raise typer.BadParameter("--data is read by --engine spark; DuckDB reads --db")
    _existing_db(db)
    return db


@app.command("export-parquet")
def export_parquet(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write (replaced if it holds an earlier export).")],
    db: Annotated[Path, typer.Option(help="Audit database built by `compliance ingest`.")] = DEMO_DB,
) -> None:
    """Write the audit database as Hive-partitioned Parquet for Spark, Trino or Athena.

    One folder per table; events split by day (`event_date=YYYY-MM-DD/`), reference and policy
    tables whole. `compliance check --engine spark --data OUT_DIR` runs the controls on it.
    """
    from compliance.audit_database import OutdatedDatabaseError
    from compliance.export_parquet import export_parquet as write_export

    _existing_db(db)
    try:
        written = write_export(db, out_dir)
    except (OutdatedDatabaseError, OSError) as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"{out_dir}")
    for col in ("table", "rows", "layout"):
        table.add_column(col, justify="right" if col == "rows" else "left")
    for t in written:
        table.add_row(t.table, f"{t.rows:,}", "by event_date" if t.partitioned else "whole")
    out.print(table)


def _check_selection(control_ids: list[str] | None, sections: list[str] | None) -> None:
    """Unknown control ids or sections, or a selection with no control, are usage errors (exit 2) that list
    the valid choices: a CI gate given a typo must fail, not check nothing and pass."""
    from compliance.queries import QueryError, controls

    try:
        catalog = controls()
    except QueryError as exc:
        raise _fail(f"cannot read the control catalog: {exc}") from None
    known_ids = sorted({str(q.control_id) for q in catalog})
    known_sections = sorted({str(q.section) for q in catalog}, key=lambda s: (s != "PS", s.zfill(3)))
    unknown_ids = [c for c in control_ids or [] if c not in known_ids]
    if unknown_ids:
        raise typer.BadParameter(
            f"unknown control id {', '.join(map(repr, unknown_ids))}; valid ids: {', '.join(known_ids)}",
            param_hint="--control",
        )
    unknown_sections = [s for s in sections or [] if s not in known_sections]
    if unknown_sections:
        raise typer.BadParameter(
            f"no policy section {', '.join(map(repr, unknown_sections))} has controls; "
            f"valid sections: {', '.join(known_sections)}",
            param_hint="--section",
        )
    chosen = [
        q
        for q in catalog
        if (not control_ids or str(q.control_id) in control_ids) and (not sections or str(q.section) in sections)
    ]
    if not chosen:
        raise typer.BadParameter(
            f"no control is both in section {', '.join(sections or [])} and among {', '.join(control_ids or [])}",
            param_hint="--control/--section",
        )


def _record_run(db: Path, findings: pl.DataFrame, as_of: date | None, source: str, policy_digest: str) -> None:
    from compliance.history import record_run

    if as_of is None:
        console.print("[yellow]not recorded in the history: the database holds no dated data[/]")
        return
    run_id = record_run(db, findings, as_of, source, policy_digest)
    console.print(f"recorded run {run_id} (as of {as_of}) in the history beside {db}", highlight=False)


@app.command()
def serve(
    db: Annotated[
        Path | None, typer.Option(help="Audit database to show (default: the demo, built on first run).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str,
        typer.Option(
            help="Address to listen on. The default serves this machine only; any other address (e.g. 0.0.0.0) "
            "exposes the dashboard, and then sign-in is mandatory."
        ),
    ] = "127.0.0.1",
    require_sign_in: Annotated[
        bool, typer.Option(help="Demand sign-in even on 127.0.0.1 (always on for other addresses).")
    ] = False,
    access_log: Annotated[
        Path | None, typer.Option(help="Access log file (default: DB.access-log.jsonl beside the database).")
    ] = None,
    headless: Annotated[bool, typer.Option(help="Do not try to open a browser.")] = True,
) -> None:
    """Start the dashboard. Without --db it opens the bundled demo, generating it on first run.

    It listens on 127.0.0.1 unless --address says otherwise; off this machine everyone signs in (local
    accounts from `compliance users`, or an OpenID Connect provider configured in .streamlit/secrets.toml).
    """
    from compliance.access_log import log_path_for
    from compliance.accounts import is_loopback
    from compliance.demo_database import ensure_demo_database

    loopback = is_loopback(address)
    if not loopback or require_sign_in:
        _check_sign_in_configured()
    if db is None:
        db = ensure_demo_database(log=lambda m: console.print(m))
    else:
        _existing_db(db)
    env = {**os.environ, DB_ENV: str(db.resolve())}
    env["COMPLIANCE_AUTH"] = "required" if not loopback or require_sign_in else "open"
    log_file = access_log or log_path_for(db.resolve())
    env["COMPLIANCE_ACCESS_LOG"] = str(log_file.resolve())
    cmd = [
        # server.py: dashboard/app.py plus a warm-up of imports and caches when the server starts.
        sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "server.py"),
        "--server.port", str(port), "--server.address", address, "--server.headless", str(headless).lower(),
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    host = f"[{address}]" if ":" in address else address
    mode = "sign-in required" if env["COMPLIANCE_AUTH"] == "required" else "no sign-in: this machine only"
    console.print(
        f"dashboard on http://{host}:{port}  ({mode}; database {db}; access log {log_file})",
        soft_wrap=True,  # one line however long the paths: scripts and tests read it
        highlight=False,
        markup=False,
    )
    # From the repository root: Streamlit reads .streamlit/config.toml and secrets.toml (the identity provider) there.
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=REPO_ROOT))


def _check_sign_in_configured() -> None:
    """Refuse to expose the dashboard when nobody could sign in (no account, no identity provider)."""
    from compliance.accounts import AccountError, load_accounts

    secrets = REPO_ROOT / ".streamlit" / "secrets.toml"
    try:
        has_accounts = bool(load_accounts())
    except AccountError as exc:
        raise _fail(str(exc)) from None
    if not has_accounts and not (secrets.exists() and "[auth" in secrets.read_text(encoding="utf-8")):
        raise _fail(
            "sign-in is required off 127.0.0.1, but no way to sign in is configured: add an account with "
            "`compliance users add NAME --role admin`, or an identity provider in .streamlit/secrets.toml."
        )


users_app = typer.Typer(
    help="Local dashboard accounts (argon2-hashed passwords, roles viewer/investigator/auditor/admin).",
    no_args_is_help=True,
)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="User name (letters, digits, . _ @ + -).")],
    role: Annotated[list[str], typer.Option("--role", help="viewer, investigator, auditor or admin (repeatable).")],
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from the first line of stdin instead of prompting.")
    ] = False,
) -> None:
    """Create an account, or replace its password and roles."""
    from compliance.accounts import AccountError, add_account, users_file

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        account = add_account(username, password, role)
    except AccountError as exc:
        raise _fail(str(exc)) from None
    out.print(f"account {account.username} with roles {', '.join(account.roles)} saved in {users_file()}")


@users_app.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="User name to remove.")]) -> None:
    """Delete an account."""
    from compliance.accounts import AccountError, remove_account, users_file

    try:
        remove_account(username)
    except AccountError as exc:
        raise _fail(str(exc)) from None
    out.print(f"account {username} removed from {users_file()}")


@users_app.command("list")
def users_list() -> None:
    """The accounts and their roles (never the password hashes)."""
    from compliance.accounts import AccountError, load_accounts, users_file

    try:
        accounts = load_accounts()
    except AccountError as exc:
        raise _fail(str(exc)) from None
    table = Table(title=f"Accounts in {users_file()}")
    for col in ("user", "roles", "created (UTC)"):
        table.add_column(col)
    for a in accounts.values():
        table.add_row(a.username, ", ".join(a.roles), a.created_at[:19])
    out.print(table)
    if not accounts:
        out.print("no account yet: `compliance users add NAME --role admin`")


@app.command()
def policy(
    policy_dir: Annotated[
        Path | None, typer.Option("--policy", help="Policy-as-code folder (default: data/policy).")
    ] = None,
) -> None:
    """Validate the policy-as-code files and print what they declare."""
    loaded = _policy_or_fail(policy_dir)
    # A plain line, not a table title: a title wraps to the table's width and would split the verdict.
    out.print(f"Policy {loaded.version} ({loaded.directory}) is valid", soft_wrap=True, highlight=False)
    table = Table(title="What it declares")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, n in (
        ("policy sections", len(loaded.text.sections)),
        ("systems", len(loaded.data_map.systems)),
        ("declared data categories", len(loaded.declared_categories)),
        ("retention rules", len(loaded.retention.records)),
        ("roles", len(loaded.roles.roles)),
        ("approved recipients", len(loaded.recipients.recipients)),
        ("DSR deadline rules", len(loaded.dsr_rules.rules)),
    ):
        table.add_row(what, str(n))
    out.print(table)
    out.print(f"digest {loaded.digest[:16]}")


@app.command()
def notify(
    db: DbOption = DEMO_DB,
    as_of: AsOfOption = None,
    policy_dir: PolicyDirOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List what is due; send and record nothing.")] = False,
) -> None:
    """Send new alarms, DSRs coming due and overdue DSRs, once each, to the webhook and e-mail of settings.yaml.

    Exit 0 when every channel delivered (or nothing was new), 1 when a channel failed (its items are
    retried on the next run), 2 when the settings cannot be used. Meant for a scheduler (cron, CI).
    """
    from compliance.config.base import PolicyError
    from compliance.config.bundle import load_policy
    from compliance.notify import KINDS, NotifyError
    from compliance.notify import notify as run_notify

    _existing_db(db)
    day = _day_option(as_of, "--as-of")
    try:
        result = run_notify(db, load_policy(policy_dir), day, dry_run=dry_run)
    except (PolicyError, NotifyError) as exc:
        raise _fail(str(exc)) from None
    except ValueError as exc:  # no dated data: nothing to evaluate
        raise _fail(str(exc)) from None
    counts = ", ".join(f"{sum(i.kind == k for i in result.items)} {label}" for k, label in KINDS.items())
    out.print(f"As of {result.as_of}: {counts}.", highlight=False)
    if dry_run:
        for item in result.items:
            out.print(
                f"{item.kind:12} {item.severity:8} {item.control_id} {item.shown_resource}",
                highlight=False,
                markup=False,
            )
    for channel, sent in result.sent.items():
        out.print(f"{channel}: sent {sent} new item(s)" if sent else f"{channel}: nothing new to send", highlight=False)
    for channel, error in result.failed.items():
        console.print(
            f"[bold red]{channel} failed:[/] {error} (its items are retried on the next run)",
            highlight=False,
            markup=True,
        )
    raise typer.Exit(result.exit_code)


# --- triage and history (the triage store beside the database) ---------------------------------

triage_app = typer.Typer(
    help="Record and list triage states of findings (control id + resource), kept with who and when "
    "in `<db>.triage.sqlite` beside the audit database.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(triage_app, name="triage")


class TriageState(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    false_positive = "false_positive"
    risk_accepted = "risk_accepted"


@triage_app.command("set")
def triage_set(
    control_id: Annotated[str, typer.Argument(help="Control id, e.g. access.bulk_export.")],
    resource: Annotated[str, typer.Argument(help="The finding's resource, e.g. actor:A123@2025-06-01.")],
    state: Annotated[TriageState, typer.Option(help="New state.")],
    note: Annotated[str, typer.Option(help="Why (required: the audit trail keeps it).")],
    assignee: Annotated[str | None, typer.Option(help="Who works on it (kept until changed; empty to clear).")] = None,
    by: Annotated[str | None, typer.Option(help="Who makes the change (default: the OS user).")] = None,
    db: DbOption = DEMO_DB,
) -> None:
    """Set a finding's triage state; the change is appended with who and when."""
    from compliance.triage import TriageError, set_state
    from compliance.triage_store import cli_actor

    _existing_db(db)
    try:
        change = set_state(db, control_id, resource, state.value, note, cli_actor(by), assignee)
    except TriageError as exc:
        raise _fail(str(exc)) from None
    who = f", assigned to {change.assignee}" if change.assignee else ""
    out.print(
        f"{change.control_id} {change.resource}: {change.previous} -> {change.state}{who} "
        f"(by {change.changed_by} at {change.changed_at})",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )


@triage_app.command("list")
def triage_list(
    db: DbOption = DEMO_DB,
    state: Annotated[list[TriageState] | None, typer.Option(help="Only these states (repeatable).")] = None,
    history: Annotated[
        bool, typer.Option("--history", help="Every change, oldest first, not only the latest.")
    ] = False,
) -> None:
    """List triaged findings with their current state (or every change with --history)."""
    from compliance.triage import current_states, triage_records

    _existing_db(db)
    wanted = [s.value for s in state] if state else None
    if history:
        rows = triage_records(db)
        if wanted:
            rows = rows.filter(rows["state"].is_in(wanted))
        title = f"Triage changes ({rows.height})"
    else:
        rows = current_states(db, wanted)
        title = f"Triaged findings ({rows.height})"
    out.print(title, highlight=False)
    if rows.is_empty():
        out.print("no triaged findings" + (f" in state {', '.join(wanted)}" if wanted else ""))
        return
    # Two plain lines per entry, never a table: ids must stay whole to be copied into `triage set`,
    # and notes are free text of any length. markup=False: user text is never rich markup.
    for row in rows.iter_rows(named=True):
        who = f"  assignee {row['assignee']}" if row["assignee"] else ""
        out.print(f"{row['control_id']}  {row['resource']}  {row['state']}{who}", highlight=False, markup=False)
        out.print(
            f"    {row['changed_at']} by {row['changed_by']}: {row['note']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


@app.command()
def history(
    db: DbOption = DEMO_DB,
    from_: Annotated[str | None, typer.Option("--from", help="First as-of date (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last as-of date (YYYY-MM-DD).")] = None,
    details: Annotated[bool, typer.Option(help="List each new and resolved alarm.")] = True,
    output: Annotated[
        Path | None, typer.Option(help="Also write every new, resolved and persisting alarm per pair of runs as CSV.")
    ] = None,
) -> None:
    """New, resolved and persisting alarms between consecutive recorded runs (ingests and `check --record`)."""
    from compliance.history import changes_between_runs, changes_table, recorded_runs

    start, end = _day_option(from_, "--from"), _day_option(to, "--to")
    runs = recorded_runs(db, start, end)
    if runs.is_empty():
        out.print(f"no recorded runs for {db} in that period; runs are recorded by `compliance ingest` and "
                  "`compliance check --record`", soft_wrap=True, highlight=False)  # fmt: skip
        return
    table = Table(title=f"Recorded runs of {db.name}", title_justify="left")
    for col in ("as of", "source", "recorded at", "alarms", "suppressed", "errors", "findings digest"):
        table.add_column(col, justify="right" if col in {"alarms", "suppressed", "errors"} else "left")
    for r in runs.iter_rows(named=True):
        table.add_row(
            str(r["as_of"]), r["source"], r["recorded_at"], str(r["alarms"]), str(r["suppressed"]),
            str(r["errors"]), r["findings_digest"][:16],
        )  # fmt: skip
    out.print(table)
    changes = changes_between_runs(db, start, end)
    summary = Table(title="Alarms between consecutive runs", title_justify="left")
    for col in ("from", "to", "new", "resolved", "persisting"):
        summary.add_column(col, justify="right" if col in {"new", "resolved", "persisting"} else "left")
    for c in changes:
        summary.add_row(
            str(c.before), str(c.after), str(c.new.height), str(c.resolved.height), str(c.persisting.height)
        )
    if changes:
        out.print(summary)
    else:
        out.print("only one recorded run in that period: nothing to compare yet")
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        changes_table(changes).write_csv(output)
        out.print(f"changes written to {output}", highlight=False)
    if details:
        for c in changes:
            for label, frame in (("new", c.new), ("resolved", c.resolved)):
                for row in frame.iter_rows(named=True):
                    out.print(
                        f"{c.after} {label:8} {row['severity']:8} {row['control_id']} {row['resource']}",
                        highlight=False,
                        markup=False,
                    )


@app.command()
def report(
    notebook: Annotated[
        str,
        typer.Argument(help="The audit: dsr_audit, retention_audit, access_investigation or datamap_reconciliation."),
    ],
    out_path: Annotated[Path, typer.Option("--out", help="The HTML report to write, e.g. access-2025-12-31.html.")],
    db: DbOption = DEMO_DB,
    as_of: AsOfOption = None,
    reveal_ids: Annotated[
        bool,
        typer.Option(help="Name people by their real ids (authorised analysts only); default: dashboard pseudonyms."),
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option(help="access_investigation: whom to investigate, by id or by the pseudonym the dashboard shows."),
    ] = None,
    policy_dir: PolicyDirOption = None,
) -> None:
    """Execute one audit notebook on a database and date and write it as a report: HTML without code, charts
    drawn in the file (no script from the internet), people pseudonymised as on the dashboard (same key)."""
    from compliance.evidence.notebooks import notebook_name, report_html, run_notebook

    try:
        name = notebook_name(notebook)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    _current_db(db)
    if actor is not None and name != "access_investigation":
        raise _fail("--actor applies to access_investigation only")
    day = _day_option(as_of, "--as-of")
    console.print(f"executing {name} on {db} as of {day or 'the newest date in the data'}...", highlight=False)
    try:
        executed = run_notebook(
            name, db, day, policy_dir=policy_dir, reveal_ids=reveal_ids, extra={"ACTOR": actor} if actor else None
        )
    except Exception as exc:  # papermill's error names the failing cell; no traceback reaches the user
        reason = getattr(exc, "evalue", None) or str(exc).strip().splitlines()[-1]
        raise _fail(f"{name} failed on {db.name}: {getattr(exc, 'ename', type(exc).__name__)}: {reason}") from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(report_html(executed), encoding="utf-8")
    ids = "REAL IDS (handle as personal data)" if reveal_ids else "people pseudonymised"
    console.print(f"wrote {out_path} ({out_path.stat().st_size:,} bytes; {ids})", highlight=False, soft_wrap=True)


@app.command()
def summary(
    out_path: Annotated[Path, typer.Option("--out", help="The PDF to write, e.g. summary-2025-12-31.pdf.")],
    db: DbOption = DEMO_DB,
    as_of: AsOfOption = None,
    policy_dir: PolicyDirOption = None,
) -> None:
    """A one-page management summary as PDF: posture by policy section, the trend over recorded check runs, and
    the top risks, people pseudonymised: `compliance summary --db DB --as-of DATE --out FILE.pdf`."""
    from compliance.config.base import PolicyError
    from compliance.config.bundle import load_policy
    from compliance.management_summary import render_summary_pdf, summary_for_database

    _existing_db(db)
    day = _day_option(as_of, "--as-of")
    try:
        built = summary_for_database(db, day, load_policy(policy_dir))
    except (PolicyError, ValueError) as exc:  # e.g. no timestamp in the database and no --as-of
        raise _fail(str(exc)) from None
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(render_summary_pdf(built))
    console.print(
        f"wrote {out_path} ({out_path.stat().st_size:,} bytes): as of {built.as_of}, {built.open_alarms:,} open "
        f"alarm(s), {built.runs.height} recorded run(s) in the trend",
        highlight=False,
        soft_wrap=True,
    )


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
    _existing_db(db)
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
    _existing_db(db)
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
