"""The headless check: run the controls on an audit database, write the findings, decide the exit code.

Output formats (contract section 4): JSON Lines (evidence as a JSON list), CSV (evidence as a JSON
string; text cells that begin like a spreadsheet formula get a leading `'`) and Parquet. `observed_at` is written as RFC 3339 UTC with a `Z` in text formats and as a
UTC timestamp in Parquet. Rows are sorted by the engine and text is produced without any clock or
locale, so a fixed database and as-of date give byte-identical files run after run.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

import duckdb
import polars as pl

from compliance.audit_database import connect_current
from compliance.controls import SEVERITIES, STATUSES, default_as_of, run_controls, select_controls
from compliance.queries import QUERY_DIR
from compliance.reports.posture import control_summary, posture_by_section
from compliance.spreadsheet import safe_csv
from compliance.waivers import UnusedWaiver, unused_waivers

if TYPE_CHECKING:
    from rich.table import Table

    from compliance.config.bundle import Policy

__all__ = ["FORMATS", "CheckResult", "exit_code", "render_findings", "run_check", "summary_table", "write_findings"]

FORMATS = ("jsonl", "csv", "parquet")
OCSF = "ocsf"  # OCSF Compliance Finding JSON Lines (compliance.evidence.ocsf); needs the policy and as-of date


@dataclass(frozen=True)
class CheckResult:
    findings: pl.DataFrame
    summary: pl.DataFrame  # one row per policy section, see `summarize`
    exit_code: int
    as_of: date | None  # None only when the database holds no timestamp at all
    fail_on: str | None
    output: Path | None  # the findings file written, if any
    rendered: str | None  # jsonl/csv text when no output file was given (the CLI prints it)
    unused_waivers: tuple[UnusedWaiver, ...] = ()  # exceptions.yaml entries that suppressed nothing


def _severity_rank(severity: str) -> int:
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}; expected one of {', '.join(SEVERITIES)}")
    return SEVERITIES.index(severity)


def exit_code(findings: pl.DataFrame, fail_on: str | None) -> int:
    """1 when an alarm at or above `fail_on` exists, else 0 (always 0 without `fail_on`)."""
    if fail_on is None:
        return 0
    gate = SEVERITIES[_severity_rank(fail_on) :]
    hit = findings.filter((pl.col("status") == "alarm") & pl.col("severity").is_in(gate)).height
    return 1 if hit else 0


def summarize(
    findings: pl.DataFrame,
    controls_by_section: Mapping[str, int] | None = None,
    titles: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Per policy section: how many controls ran, the count of each status, and the highest alarm severity.

    The posture by section of the report (compliance.reports.posture), for the sections this run
    touched: `controls_by_section` counts the selected controls, so a section shows even when its
    controls returned no rows; without it the controls are counted from the findings.
    """
    posture = posture_by_section(control_summary(findings), titles, selected=controls_by_section or {})
    return posture.select("policy_section", "title", "controls", *STATUSES, "highest_severity")


# --- writers ---------------------------------------------------------------------------------


def _text_columns(findings: pl.DataFrame) -> pl.DataFrame:
    # RFC 3339 in UTC; fractional seconds only when present ("%.f" prints none for whole seconds).
    return findings.with_columns(pl.col("observed_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.fZ"))


# One encoder for the rows polars cannot build (`_jsonl`): `json.dumps(..., ensure_ascii=False)` builds one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def _json_value(column: pl.Expr) -> pl.Expr:
    """Each text value's JSON as `_JSON` writes it (polars escapes the same characters the same way: `"`, `\\`
    and control characters; UTF-8 kept), from polars' own encoder: `{"v":<value>}` without its wrapper."""
    return pl.struct(column.alias("v")).struct.json_encode().str.strip_prefix('{"v":').str.strip_suffix("}")


def _json_list(column: pl.Expr) -> pl.Expr:
    """Each list of text as `_JSON` writes it: its elements' JSON separated by `, ` (NULL stays NULL)."""
    elements = column.list.eval(_json_value(pl.element())).list.join(", ")
    return pl.when(column.is_not_null()).then(pl.lit("[") + elements + pl.lit("]"))


def _jsonl(findings: pl.DataFrame) -> str:
    """One `_JSON.encode(row)` line per finding, built by polars column by column with `_JSON`'s separators
    (`, ` and `: `): the 330,574 findings of a daily run at 10M events (the history's digest renders them) take
    1.3 CPU s instead of 3.0 with a Python dict per row, and the same bytes. A column of another type than text or
    a list of text is encoded row by row."""
    text = _text_columns(findings)
    if not text.width or not all(t in (pl.String, pl.List(pl.String)) for t in text.dtypes):
        return "".join([_JSON.encode(row) + "\n" for row in text.iter_rows(named=True)])
    parts: list[pl.Expr] = []
    for i, (name, dtype) in enumerate(text.schema.items()):
        value = _json_value(pl.col(name)) if dtype == pl.String else _json_list(pl.col(name))
        parts += [pl.lit(("{" if i == 0 else ", ") + _JSON.encode(name) + ": "), value.fill_null("null")]
    return text.select(pl.concat_str([*parts, pl.lit("}\n")]).str.join("")).item()


def _csv(findings: pl.DataFrame) -> str:
    frame = _text_columns(findings).with_columns(_json_list(pl.col("evidence")).fill_null("[]").alias("evidence"))
    # A text cell a spreadsheet would run as a formula gets a leading quote (OWASP CSV injection).
    return safe_csv(frame, line_terminator="\n")


def render_findings(findings: pl.DataFrame, fmt: str) -> bytes:
    """The findings file's bytes in `fmt` ('jsonl', 'csv' or 'parquet')."""
    if fmt == "jsonl":
        return _jsonl(findings).encode("utf-8")
    if fmt == "csv":
        return _csv(findings).encode("utf-8")
    if fmt == "parquet":
        buf = io.BytesIO()
        # Timestamps in the database are UTC without a zone; say so in the file.
        findings.with_columns(pl.col("observed_at").dt.replace_time_zone("UTC")).write_parquet(
            buf, compression="zstd", statistics=True
        )
        return buf.getvalue()
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_findings(findings: pl.DataFrame, fmt: str, dest: Path | str | IO[bytes]) -> None:
    """Write findings to a file (atomically: a reader never sees half a file) or a binary stream."""
    data = render_findings(findings, fmt)
    if not isinstance(dest, str | Path):
        dest.write(data)
        return
    _write_atomically(data, Path(dest))


def _write_atomically(data: bytes, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --- the check -------------------------------------------------------------------------------


def _section_titles(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    cur = con.cursor()
    try:
        return dict(cur.sql("select section_id, title from ref_policy_sections").fetchall())
    except duckdb.Error:
        return {}  # a database without the reference tables still gets a summary, without titles
    finally:
        cur.close()


ENGINES = ("duckdb", "spark")


def _connect(db_path: Path | str, engine: str) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the database (DuckDB), or to the data folder's tables (Spark)."""
    if engine == "spark":
        from compliance.spark.connection import SparkConnection

        return SparkConnection.open(db_path)  # type: ignore[return-value]  # the same interface
    if engine != "duckdb":
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    path = Path(db_path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such database")
    return connect_current(path)


def run_check(
    db_path: Path | str,
    as_of: date | None = None,
    control_ids: Iterable[str] | None = None,
    sections: Iterable[str] | None = None,
    fmt: str = "jsonl",
    output: Path | str | None = None,
    fail_on: str | None = None,
    *,
    policy: Policy | None = None,
    policy_dir: Path | str | None = None,
    root: Path = QUERY_DIR,
    engine: str = "duckdb",
) -> CheckResult:
    """Run the selected controls on the database at `db_path` (opened read-only) as of `as_of`.

    With `engine="spark"`, `db_path` is a data folder or URI as `compliance export-parquet` writes it,
    and the same queries run on Spark SQL (compliance.spark). Writes the findings to `output` when
    given; otherwise, for jsonl/csv, `rendered` holds the text.
    """
    if fmt not in (*FORMATS, OCSF):
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join((*FORMATS, OCSF))}")
    if fail_on is not None:
        _severity_rank(fail_on)
    if policy is None:
        from compliance.config.bundle import load_policy

        policy = load_policy(policy_dir)
    control_ids = list(control_ids) if control_ids is not None else None
    sections = list(sections) if sections is not None else None
    selected = select_controls(control_ids, sections, root)

    con = _connect(db_path, engine)
    try:
        if as_of is None:
            try:
                as_of = default_as_of(con)
            except ValueError:
                as_of = None  # nothing loaded: every control that needs data reports `skip` (or `error`)
        findings = run_controls(con, policy, as_of, control_ids, sections, root=root)
        titles = _section_titles(con)
    finally:
        con.close()

    summary = summarize(findings, Counter(q.section for q in selected if q.section), titles)
    rendered = None
    if fmt == OCSF:
        rendered = _ocsf_text(findings, as_of, policy, root, output)
    elif output is not None:
        write_findings(findings, fmt, output)
    elif fmt != "parquet":
        rendered = render_findings(findings, fmt).decode("utf-8")
    return CheckResult(
        findings=findings,
        summary=summary,
        exit_code=exit_code(findings, fail_on),
        as_of=as_of,
        fail_on=fail_on,
        output=Path(output) if output is not None else None,
        rendered=rendered,
        unused_waivers=tuple(unused_waivers(findings, policy.exceptions, as_of, [str(q.control_id) for q in selected])),
    )


def _ocsf_text(
    findings: pl.DataFrame, as_of: date | None, policy: Policy, root: Path, output: Path | str | None
) -> str | None:
    """OCSF JSON Lines: written atomically to `output`, else returned for stdout."""
    from compliance.evidence.ocsf import findings_as_ocsf

    if as_of is None:
        raise ValueError(
            "OCSF findings need an evaluation date and the database holds no timestamp: pass an as-of date"
        )
    data = findings_as_ocsf(findings, as_of, policy, root)
    if output is None:
        return data.decode("utf-8")
    _write_atomically(data, Path(output))
    return None


_SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def summary_table(result: CheckResult) -> Table:
    """The summary by policy section as a rich table (what `compliance check` prints)."""
    from rich.table import Table

    as_of = result.as_of.isoformat() if result.as_of else "no data"
    gate = f", fail on {result.fail_on}+" if result.fail_on else ""
    table = Table(title=f"Findings by policy section as of {as_of}{gate}", title_justify="left")
    table.add_column("Section", min_width=7)
    # Titles are long; the counts matter more in a narrow terminal.
    table.add_column("Title", overflow="ellipsis", max_width=32)
    table.add_column("Controls", justify="right", min_width=8)
    for status in STATUSES:
        table.add_column(status.capitalize(), justify="right", min_width=len(status))
    table.add_column("Highest", min_width=8)

    def cells(row: dict) -> list[str]:
        alarm = str(row["alarm"])
        highest = row["highest_severity"]
        out = [str(row["controls"])]
        out.append(f"[bold red]{alarm}[/]" if row["alarm"] else alarm)
        out += [str(row[s]) for s in STATUSES[1:]]
        out.append(f"[{_SEVERITY_STYLE[highest]}]{highest}[/]" if highest else "-")
        return out

    for row in result.summary.iter_rows(named=True):
        table.add_row(row["policy_section"], row["title"] or "", *cells(row))
    total = {status: int(result.summary[status].sum()) for status in STATUSES}
    severities = [s for s in result.summary["highest_severity"].to_list() if s]
    total |= {
        "controls": int(result.summary["controls"].sum()),
        "highest_severity": max(severities, key=_severity_rank) if severities else None,
    }
    table.add_section()
    table.add_row("all", "", *cells(total), style="bold")
    table.caption = f"exit code {result.exit_code}"
    return table
