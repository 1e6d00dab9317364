"""The report's sections, once, for both renderings (XLSX sheets and PDF chapters).

A section is a title, the sentences that say what it holds, and a table with readable headers. Where a
table is too long to print usefully (every input file, every customer account, every request), the PDF
gets a shorter `print_table` and says where the full one is; the workbook always holds the full table.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from compliance.evidence.contents import CCPA_JURISDICTION, ReportTables, inputs_by_source

__all__ = ["Section", "report_sections", "stamp"]

# DSR states that need an auditor's attention: printed in full in the PDF (the rest are in the workbook).
_DSR_EXCEPTIONS = ("overdue", "due_soon", "completed_late", "rejected", "awaiting_verification", "no_deadline")


@dataclass(frozen=True)
class Section:
    sheet: str  # worksheet name (31 characters at most)
    title: str
    notes: tuple[str, ...]
    table: pl.DataFrame  # columns already carry their readable headers
    print_table: pl.DataFrame | None = None  # the PDF's table when shorter than `table`
    print_note: str | None = None


def stamp(tables: ReportTables) -> str:
    """What every page states: the as-of date and the evidence digest (manifest.json names it in full)."""
    return f"As of {tables.as_of.isoformat()}  |  evidence digest {tables.evidence_digest[:16]}"


def _labelled(frame: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    return frame.select([pl.col(k).alias(v) for k, v in labels.items()])


def _posture(t: ReportTables) -> Section:
    labels = {"policy_section": "Section", "title": "Title", "posture": "Posture", "controls": "Controls"}
    labels |= {"controls_in_alarm": "Controls in alarm", "alarm": "Alarm rows", "ok": "OK rows", "info": "Info rows"}
    labels |= {"skip": "Skip rows", "error": "Error rows", "highest_severity": "Highest severity"}
    notes = (
        "One row per section of the privacy policy. Posture: alarm (a control alarms), error (a control "
        "failed), skip (no data for any control), ok, or no control (nothing in the catalog evidences it).",
    )
    return Section("Posture", "Posture by policy section", notes, _labelled(t.posture, labels))


def _controls(t: ReportTables) -> Section:
    labels = {"control_id": "Control", "policy_section": "Section", "rows": "Rows", "alarm": "Alarm", "ok": "OK"}
    labels |= {"info": "Info", "skip": "Skip", "error": "Error", "highest_severity": "Highest severity"}
    labels |= {"note": "Why skipped or failed"}
    notes = ("Rows per status of every control; the findings files hold each row with its reason and evidence.",)
    return Section("Controls", "Controls", notes, _labelled(t.control_summary, labels))


def _controller(t: ReportTables) -> Section:
    rec = t.controller
    rows = [
        {
            "Processing activity": f"{a['activity']} ({a['system']})",
            "Purposes and legal basis (b)": "; ".join(a["purposes"]),
            "Data subjects (c)": "; ".join(a["data_subjects"]),
            "Personal data (c)": "; ".join(a["data_categories"]),
            "Recipients (d)": "; ".join(a["recipients"]) or "none",
            "Third-country transfers and safeguards (e)": "; ".join(a["transfers"]) or "none",
            "Time limits for erasure (f)": "; ".join(a["retention"]),
        }
        for a in rec["activities"]
    ]
    measures = rec["activities"][0]["security_measures"] if rec["activities"] else []
    notes = (
        f"Controller: {rec['controller']}; contact: {rec['contact'] or 'not stated'}; policy {rec['policy_version']}.",
        "Security measures (g), as the policy and its configuration state them: " + " ".join(measures),
    )
    return Section("Art30 controller", "Record of processing activities, controller (GDPR Art. 30(1))", notes,
                   pl.DataFrame(rows))  # fmt: skip


def _processor(t: ReportTables) -> Section:
    rec = t.processor
    labels = {"customer_id": "Customer (controller) id", "customer": "Controller", "customer_country": "Country"}
    labels |= {"home_region": "Home region", "sub_processors": "Sub-processors"}
    labels |= {"transfers": "Transfers to third countries and safeguards (c)"}
    full = _labelled(rec.select(list(labels)), labels)
    by_region = (
        rec.group_by("customer_country", "home_region").agg(pl.len().alias("Controllers"))
        .sort("customer_country", "home_region", nulls_last=True)
        .rename({"customer_country": "Country", "home_region": "Home region"})
    )  # fmt: skip
    first = rec.row(0, named=True) if rec.height else {}
    notes = (
        f"Processor: {first.get('processor', 'Capantra')}; contact: {first.get('processor_contact') or 'not stated'}; "
        f"data protection officer: {first.get('dpo') or 'see the controller record'}. The controllers are the "
        f"customer accounts whose contract is in force on the as-of date ({rec.height}).",
        "Categories of processing carried out on each controller's behalf (b): "
        + (first.get("categories_of_processing") or "none: no customer account in force"),
        "Security measures (d): " + (first.get("security_measures") or "see the controller record"),
    )
    return Section(
        "Art30 processor",
        "Record of processing activities, processor (GDPR Art. 30(2))",
        notes,
        full,
        print_table=by_region,
        print_note="Controllers by country and home region; the workbook lists every controller.",
    )


def _ccpa(t: ReportTables) -> Section:
    labels = {"year": "Year received", "label": "Request type", "received": "Received"}
    labels |= {"complied_in_whole_or_part": "Complied with in whole or in part", "denied": "Denied"}
    labels |= {"withdrawn": "Withdrawn", "pending": "Still open", "median_days": "Median days"}
    labels |= {"mean_days": "Mean days"}
    notes = (
        f"Requests from {CCPA_JURISDICTION} consumers by calendar year of receipt, as the CCPA regulations "
        "§7102(a) ask a business to compile them; days to a substantive response count completions and denials.",
    )
    return Section(
        "CCPA 7102", "CCPA request metrics (CCPA regulations §7102)", notes, _labelled(t.ccpa_metrics, labels)
    )


def _dsr(t: ReportTables) -> Section:
    full_labels = {"request_id": "Request", "subject_id": "Subject", "jurisdiction": "Jurisdiction"}
    full_labels |= {"request_type": "Type", "channel": "Channel", "status": "Status", "received_date": "Received"}
    full_labels |= {"due_date": "Due (first period)", "extension_status": "Extension"}
    full_labels |= {"effective_due_date": "Due", "days_to_deadline": "Days to deadline"}
    full_labels |= {"ack_due_date": "Acknowledgement due", "acknowledged_date": "Acknowledged"}
    full_labels |= {"ack_late": "Acknowledged late", "closed_date": "Closed", "turnaround_days": "Turnaround days"}
    full_labels |= {"state": "State", "explanation": "How the deadline was worked out"}
    # The printed exceptions keep the columns an auditor reads first, under the same headers.
    printed = ["request_id", "jurisdiction", "request_type", "status", "received_date", "effective_due_date"]
    printed += ["closed_date", "state", "explanation"]
    print_labels = {column: full_labels[column] for column in printed}
    exceptions = t.dsr_register.filter(pl.col("state").is_in(_DSR_EXCEPTIONS))
    counts = ", ".join(f"{state} {n}" for state, n in sorted(t.dsr_register.group_by("state").len().iter_rows()))
    notes = (
        f"{t.dsr_register.height} request(s) received by the as-of date ({counts or 'none'}). Each deadline is "
        "explained by the deadline engine: the rule and article applied, the local calendar, holidays and extensions.",
    )
    return Section(
        "DSR register",
        "Data subject request register",
        notes,
        _labelled(t.dsr_register, full_labels),
        print_table=_labelled(exceptions, print_labels),
        print_note=f"The {exceptions.height} request(s) in a state that needs attention "
        f"({', '.join(_DSR_EXCEPTIONS)}); the workbook and dsr_register.csv hold every request.",
    )


def _inputs(t: ReportTables) -> Section:
    labels = {"source": "Source", "path": "File", "sha256": "SHA-256", "size_bytes": "Bytes", "rows_read": "Rows read"}
    labels |= {"rows_loaded": "Loaded", "rows_duplicate": "Duplicates", "rows_rejected": "Rejected"}
    by_source = inputs_by_source(t.inputs)
    src_labels = {"source": "Source", "files": "Files"} | {c: labels.get(c, c) for c in by_source.columns[2:]}
    notes = ("Every export file loaded into the database, named by its SHA-256 (manifest.json lists the same).",)
    return Section(
        "Inputs",
        "Inputs",
        notes,
        _labelled(t.inputs, labels),
        print_table=_labelled(by_source, src_labels),
        print_note="Files and rows by source; the workbook and manifest.json list every file with its SHA-256.",
    )


def report_sections(t: ReportTables) -> list[Section]:
    return [_posture(t), _controls(t), _controller(t), _processor(t), _ccpa(t), _dsr(t), _inputs(t)]
