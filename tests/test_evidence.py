"""Evidence packages end to end: `compliance evidence` builds one from the demo database, `evidence verify`
passes on it untouched and fails on each kind of tampering; OCSF objects validate; the PDF renders to PNG
with the as-of date and digest on every page; the XLSX reads back; data shaped differently (no DSR export,
no alarms at all, hostile zips) still gives a package that verifies or a clear failure."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from cli_support import run_cli
from conftest import build_db_file  # the query tests' database builder, into a file
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from rows import finding_row

from compliance.config.bundle import load_policy
from compliance.evidence.contents import sha256
from compliance.evidence.ocsf import ocsf_findings, to_ocsf, validate
from compliance.evidence.package import build_package, package_bytes
from compliance.evidence.verify import verify_package
from compliance.queries import QUERY_DIR

pytestmark = pytest.mark.xdist_group("evidence")  # one worker builds the package once
AS_OF = "2025-12-31"


def _files(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(package: Path, dest: Path, edits: dict[str, bytes], *, update_sums: bool = True) -> Path:
    """A copy of `package` with some files replaced; SHA256SUMS updated as a careful forger would."""
    files = _files(package) | edits
    if update_sums:
        body = {k: v for k, v in files.items() if k != "SHA256SUMS"}
        files["SHA256SUMS"] = "".join(f"{sha256(v)}  {k}\n" for k, v in sorted(body.items())).encode()
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return dest


@pytest.fixture(scope="module")
def package(demo_build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database's package, built by the command an auditor's workflow starts with."""
    out = tmp_path_factory.mktemp("evidence") / f"evidence-{AS_OF}.zip"
    built = run_cli("evidence", "--db", str(demo_build.db), "--as-of", AS_OF, "--out", str(out))
    assert built.returncode == 0, built.stderr
    assert re.search(r"^evidence digest [0-9a-f]{64}$", built.stdout, re.MULTILINE), built.stdout
    return out


# --- contents and manifest ------------------------------------------------------------------------


def test_package_holds_every_promised_file(package: Path) -> None:
    files = _files(package)
    names = list(files)
    assert names[:2] == ["README.md", "manifest.json"] and names[-1] == "SHA256SUMS"
    for required in (
        "findings/findings.jsonl", "findings/findings.parquet", "findings/findings.ocsf.jsonl",
        "reports/posture_by_section.csv", "reports/controls.csv", "reports/record_of_processing.json",
        "reports/ccpa_7102_metrics.csv", "reports/dsr_register.csv", "reports/evidence.xlsx", "reports/evidence.pdf",
        "policy/settings.yaml", "policy/privacy-policy-v0.2.md", "queries/controls/dsr_overdue.sql",
    ):  # fmt: skip
        assert required in files, required
    # The package's policy and queries are the repository's, byte for byte.
    for path in (QUERY_DIR).rglob("*.sql"):
        assert files[f"queries/{path.relative_to(QUERY_DIR).as_posix()}"] == path.read_bytes()
    # SHA256SUMS covers every other file and matches it.
    sums = dict(reversed(line.split("  ", 1)) for line in files["SHA256SUMS"].decode().splitlines())
    assert set(sums) == set(files) - {"SHA256SUMS"}
    assert all(sums[name] == hashlib.sha256(data).hexdigest() for name, data in files.items() if name in sums)
    readme = files["README.md"].decode()
    assert "compliance evidence verify" in readme and AS_OF in readme
    assert all(f"`{p}`" in readme for p in files if p.split("/")[0] in ("findings", "reports"))


def test_manifest_ties_the_package_to_its_inputs(package: Path, demo_build) -> None:
    files = _files(package)
    m = json.loads(files["manifest.json"])
    policy = load_policy()
    assert m["as_of"] == AS_OF and m["tool"]["version"] and m["tool"]["ocsf_version"] == "1.5.0"
    assert m["policy"]["digest"] == policy.digest and m["policy"]["version"] == policy.version
    query_sums = {q["path"]: q["sha256"] for q in m["queries"]}
    assert query_sums["queries/controls/dsr_overdue.sql"] == sha256(
        (QUERY_DIR / "controls/dsr_overdue.sql").read_bytes()
    )
    assert {q["control_id"] for q in m["queries"] if q["control_id"]} >= {"dsr.overdue", "retention.log_past_retention"}
    con = duckdb.connect(str(demo_build.db), read_only=True)
    try:
        loaded = con.sql("select file_id, rows_loaded, rows_rejected from load_manifest").fetchall()
        totals = con.sql("select sum(rows_loaded), sum(rows_rejected) from load_manifest").fetchall()[0]
    finally:
        con.close()
    assert {(f["sha256"], f["rows_loaded"], f["rows_rejected"]) for f in m["inputs"]["files"]} == set(loaded)
    assert (m["inputs"]["totals"]["rows_loaded"], m["inputs"]["totals"]["rows_rejected"]) == totals
    assert m["inputs"]["totals"]["rows_rejected"] > 0  # the demo plants dirty rows
    findings = [json.loads(line) for line in files["findings/findings.jsonl"].decode().splitlines()]
    assert m["findings"]["rows"] == len(findings)
    assert m["findings"]["by_status"]["alarm"] == sum(f["status"] == "alarm" for f in findings) > 0
    parquet = pl.read_parquet(io.BytesIO(files["findings/findings.parquet"]))
    assert parquet.height == len(findings) and parquet["resource"].to_list() == [f["resource"] for f in findings]
    assert m["dsr_register"]["requests"] == files["reports/dsr_register.csv"].decode().count("\nDSR-")
    assert {f["path"] for f in m["files"]} == set(files) - {"README.md", "manifest.json", "SHA256SUMS"}


def test_dsr_register_explains_every_deadline(package: Path) -> None:
    register = pl.read_csv(io.BytesIO(_files(package)["reports/dsr_register.csv"]))
    assert register.height > 0 and register["explanation"].null_count() == 0
    assert register.filter(pl.col("jurisdiction") == "EU")["explanation"].str.contains("GDPR Art. 12").all()


# --- verify --------------------------------------------------------------------------------------


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_passes_on_an_untouched_package(package: Path, demo_build) -> None:
    ok = run_cli("evidence", "verify", str(package), "--db", str(demo_build.db))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert re.search(r"^OK .* all \d+ files re-derived", ok.stdout, re.MULTILINE), ok.stdout


def _edited_finding(files: dict[str, bytes]) -> tuple[bytes, str]:
    lines = files["findings/findings.jsonl"].decode().splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if '"status": "alarm"' in line)
    row = json.loads(lines[i])
    lines[i] = json.dumps(row | {"status": "ok", "reason": "Looked fine."}) + "\n"
    return "".join(lines).encode(), f"line {i + 1} ({row['control_id']} {row['resource']})"


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_fails_on_an_edited_finding_even_with_forged_sums(package: Path, demo_build, tmp_path: Path) -> None:
    edited, where = _edited_finding(_files(package))
    forged = _rewrite(package, tmp_path / "edited.zip", {"findings/findings.jsonl": edited})
    result = verify_package(forged, demo_build.db)
    messages = [str(d) for d in result.differences]
    assert any(m.startswith("findings/findings.jsonl: ") and where in m for m in messages), messages
    assert not any("differs from SHA256SUMS" in m for m in messages)  # the forger updated the sums ...
    assert any(m.startswith("SHA256SUMS: ") for m in messages), messages  # ... which the true ones are not
    assert not any(m.startswith("manifest.json") for m in messages)  # the manifest was left true


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_command_fails_on_an_edited_finding(package: Path, demo_build, tmp_path: Path) -> None:
    edited, where = _edited_finding(_files(package))
    edit = {"findings/findings.jsonl": edited}
    forged = _rewrite(package, tmp_path / "edited.zip", edit, update_sums=False)
    cli = run_cli("evidence", "verify", str(forged), "--db", str(demo_build.db))
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert "DIFFERENT findings/findings.jsonl: SHA-256" in cli.stdout  # caught by SHA256SUMS ...
    assert f"DIFFERENT findings/findings.jsonl: {where}" in cli.stdout  # ... and by re-derivation
    assert re.search(r"^FAILED .*: \d+ difference", cli.stdout, re.MULTILINE)


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_fails_on_a_swapped_input_digest(package: Path, demo_build, tmp_path: Path) -> None:
    files = _files(package)
    manifest = json.loads(files["manifest.json"])
    original = manifest["inputs"]["files"][3]["sha256"]
    manifest["inputs"]["files"][3]["sha256"] = hashlib.sha256(b"another file").hexdigest()
    edit = {"manifest.json": (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()}
    result = verify_package(_rewrite(package, tmp_path / "swapped.zip", edit), demo_build.db)
    messages = [str(d) for d in result.differences]
    pattern = r'^manifest\.json: inputs\.files\[3 [^\]]+\]\.sha256: package "[0-9a-f]{64}", re-derived "' + original
    assert any(re.match(pattern, m) for m in messages), messages


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_fails_on_an_edited_query(package: Path, demo_build, tmp_path: Path) -> None:
    files = _files(package)
    path = "queries/controls/dsr_overdue.sql"
    sql = files[path].decode()
    assert "'alarm'" in sql
    edit = {path: sql.replace("'alarm'", "'ok'").encode()}  # an overdue request no longer alarms
    result = verify_package(_rewrite(package, tmp_path / "query.zip", edit), demo_build.db)
    messages = [str(d) for d in result.differences]
    assert any(m.startswith("manifest.json: ") and "queries[" in m and f"{path}].sha256" in m for m in messages), (
        messages
    )
    assert any(m.startswith("findings/findings.jsonl: ") and "dsr.overdue" in m for m in messages), messages


@pytest.mark.slow  # re-derives the whole package (about 30 s on two busy cores)
def test_verify_reports_hostile_entries(package: Path, demo_build, tmp_path: Path) -> None:
    hostile = {"../escape.txt": b"x", "/etc/passwd": b"x", "extra/notes.txt": b"hello"}
    result = verify_package(_rewrite(package, tmp_path / "hostile.zip", hostile), demo_build.db)
    by_path: dict[str, str] = {}
    for d in result.differences:
        by_path[d.path] = by_path.get(d.path, "") + d.what + "; "
    assert "unsafe file name" in by_path["../escape.txt"] and "unsafe file name" in by_path["/etc/passwd"]
    assert "not derivable" in by_path["extra/notes.txt"]
    assert not (tmp_path.parent / "escape.txt").exists()


def test_verify_refuses_a_file_that_is_not_a_package(demo_build, tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    cli = run_cli("evidence", "verify", str(junk), "--db", str(demo_build.db))
    assert cli.returncode == 1 and "not a readable zip file" in cli.stdout and "Traceback" not in cli.stderr


# --- OCSF -----------------------------------------------------------------------------------------


def test_every_ocsf_object_validates_and_mirrors_its_finding(package: Path) -> None:
    files = _files(package)
    findings = [json.loads(line) for line in files["findings/findings.jsonl"].decode().splitlines()]
    objects = [json.loads(line) for line in files["findings/findings.ocsf.jsonl"].decode().splitlines()]
    assert len(objects) == len(findings)
    expected = {"ok": "Pass", "alarm": "Fail", "info": "Warning"}
    for obj, finding in zip(objects, findings, strict=True):
        parsed = ComplianceFinding.model_validate(obj)
        assert parsed.class_uid == 2003 and parsed.type_uid == 200301
        assert obj["compliance"]["control"] == finding["control_id"]
        assert obj["compliance"]["status"] == expected.get(finding["status"], "Unknown")
        assert obj["severity"].lower().startswith(finding["severity"][:4])
        assert (obj.get("evidences") or [{"data": {"ids": []}}])[0]["data"]["ids"] == finding["evidence"]
    assert len({o["finding_info"]["uid"] for o in objects}) == len(objects)


def _row(status: str, severity: str = "high", resource: str = "dsr:R1", evidence: list[str] | None = None) -> dict:
    return finding_row("dsr.overdue", resource, status, severity, policy_section="8",
                       reason="Request R1 is 3 days past its deadline.", observed_at=datetime(2025, 12, 1, 9, 30),
                       evidence=evidence or [])  # fmt: skip


@pytest.mark.parametrize(
    ("status", "compliance_status", "event_status"),
    [
        ("ok", (1, "Pass"), (1, "New")),
        ("alarm", (3, "Fail"), (1, "New")),
        ("info", (2, "Warning"), (1, "New")),
        ("suppressed", (3, "Fail"), (3, "Suppressed")),  # a waived alarm: its check failed, the finding is waived
        ("skip", (0, "Unknown"), (1, "New")),
        ("error", (0, "Unknown"), (1, "New")),
    ],
)
def test_ocsf_status_mapping(status: str, compliance_status, event_status) -> None:
    obj = to_ocsf(_row(status), "u", date(2025, 12, 31), policy_version="v0.2", section_titles={"8": "Your Rights"},
                  descriptions={}, data_sources={"dsr.overdue": ("dsr",)})  # fmt: skip
    validate(obj)
    assert (obj["compliance"]["status_id"], obj["compliance"]["status"]) == compliance_status
    assert (obj["status_id"], obj["status"]) == event_status
    assert obj["compliance"]["standards"][0] == "Capantra Privacy Policy v0.2"
    assert "GDPR Art. 12(3)" in obj["compliance"]["standards"]
    assert obj["compliance"]["category"] == "Policy section 8: Your Rights"
    assert ("status_detail" in obj) is (status in ("skip", "error"))


@pytest.mark.parametrize(
    ("severity", "severity_id"), [("info", 1), ("low", 2), ("medium", 3), ("high", 4), ("critical", 5)]
)
def test_ocsf_severity_mapping(severity: str, severity_id: int) -> None:
    obj = to_ocsf(_row("alarm", severity), "u", date(2025, 12, 31), policy_version="v0.2", section_titles={},
                  descriptions={}, data_sources={})  # fmt: skip
    assert validate(obj).severity_id == severity_id


def test_ocsf_uids_stay_unique_when_a_resource_repeats() -> None:
    frame = pl.DataFrame([_row("alarm", evidence=["e1", "e2"]), _row("alarm"), _row("ok", resource="dsr:R2")])
    objects = list(ocsf_findings(frame, date(2025, 12, 31), policy_version="v0.2", section_titles={},
                                 descriptions={}, data_sources={}))  # fmt: skip
    assert [o["finding_info"]["uid"] for o in objects] == [
        "dsr.overdue:dsr:R1",
        "dsr.overdue:dsr:R1#2",
        "dsr.overdue:dsr:R2",
    ]
    assert objects[0]["evidences"] == [{"name": "evidence ids", "data": {"ids": ["e1", "e2"]}}]
    assert "evidences" not in objects[1]
    # observed_at 2025-12-01 09:30 UTC in epoch milliseconds; `time` is the end of the as-of day
    assert objects[0]["finding_info"]["first_seen_time"] == 1764581400000
    assert objects[0]["time"] == 1767225599999


def test_check_format_ocsf_writes_valid_objects(demo_build, tmp_path: Path) -> None:
    out = tmp_path / "findings.ocsf.jsonl"
    args = ("check", "--db", str(demo_build.db), "--as-of", AS_OF, "--control", "dsr.overdue", "--format", "ocsf")
    to_file = run_cli(*args, "--output", str(out))
    assert to_file.returncode == 0, to_file.stderr
    lines = out.read_text().splitlines()
    assert lines and all(
        ComplianceFinding.model_validate_json(line).compliance.control == "dsr.overdue" for line in lines
    )
    to_stdout = run_cli(*args)
    assert to_stdout.returncode == 0 and to_stdout.stdout.splitlines() == lines


# --- reports: PDF and XLSX ------------------------------------------------------------------------


def test_pdf_pages_render_and_each_states_the_as_of_date_and_digest(package: Path, tmp_path: Path) -> None:
    assert shutil.which("pdftoppm") and shutil.which("pdftotext"), "install poppler-utils (make system-deps)"
    files = _files(package)
    digest = json.loads(files["manifest.json"])["evidence_digest"]
    pdf = tmp_path / "evidence.pdf"
    pdf.write_bytes(files["reports/evidence.pdf"])
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pngs = sorted(tmp_path.glob("page-*.png"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[: len(pngs)]
    assert len(pngs) >= 8 and all(p.stat().st_size > 2_000 for p in pngs)
    for i, page in enumerate(pages, start=1):
        assert f"As of {AS_OF}" in page and digest[:16] in page and f"Page {i} of {len(pngs)}" in page, i
    assert "Posture by policy section" in text and "GDPR Art. 30(2)" in text and "§7102" in text
    assert "How the deadline was worked out" in text


def test_xlsx_reads_back_with_headers_and_stamps(package: Path) -> None:
    files = _files(package)
    digest = json.loads(files["manifest.json"])["evidence_digest"]
    book = openpyxl.load_workbook(io.BytesIO(files["reports/evidence.xlsx"]))
    assert book.sheetnames == ["About", "Posture", "Controls", "Art30 controller", "Art30 processor", "CCPA 7102",
                               "DSR register", "Inputs"]  # fmt: skip
    assert book["About"]["B4"].value == digest
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet["A2"].value.startswith(f"As of {AS_OF}") and digest[:16] in sheet["A2"].value
        assert digest[:16] in sheet.oddHeader.right.text
        assert len(sheet.tables) == 1
    posture_csv = pl.read_csv(io.BytesIO(files["reports/posture_by_section.csv"]))
    sheet = book["Posture"]
    ref = next(iter(sheet.tables.values())).ref
    rows = [[c.value for c in row] for row in sheet[ref]]
    assert rows[0][:3] == ["Section", "Title", "Posture"]
    assert [r[2] for r in rows[1:]] == posture_csv["posture"].to_list()
    dsr = book["DSR register"]
    dsr_rows = list(dsr[next(iter(dsr.tables.values())).ref])
    assert dsr_rows[0][-1].value == "How the deadline was worked out"
    assert len(dsr_rows) - 1 == json.loads(files["manifest.json"])["dsr_register"]["requests"]


# --- data shaped differently ----------------------------------------------------------------------


def _small_db(tmp_path: Path, rows: dict) -> Path:
    return build_db_file(load_policy(), rows, tmp_path / "small.duckdb")


def test_a_database_without_dsr_or_alarms_still_packages_and_verifies(tmp_path: Path) -> None:
    # Only a directory and two ordinary audit events: no DSR export, no tenants, nothing alarms.
    rows = {
        "directory_accounts": [{"actor_id": "u1", "role": "support_agent", "status": "active", "mfa_enabled": True,
                       "start_date": "2024-01-01"}],
        "audit_events": [
            {"event_id": "e1", "occurred_at": "2025-06-02 10:00:00", "actor_id": "u1", "action": "login",
             "system": "auth", "outcome": "success"},
            {"event_id": "e2", "occurred_at": "2025-06-02 11:00:00", "actor_id": "u1", "action": "read",
             "system": "crm", "outcome": "success"},
        ],
    }  # fmt: skip
    db = _small_db(tmp_path, rows)
    out = tmp_path / "small.zip"
    built = build_package(db, out, date(2025, 6, 30))
    m = built.derived.manifest
    assert m["dsr_register"]["requests"] == 0 and m["findings"]["by_status"]["skip"] > 0
    assert m["inputs"]["files"] == []  # rows inserted by hand: no export file was loaded
    ccpa = pl.read_csv(io.BytesIO(built.derived.files["reports/ccpa_7102_metrics.csv"]))
    assert ccpa.filter(pl.col("request_type") == "all").select("year", "received").rows() == [(2025, 0)]
    assert verify_package(out, db).ok
    # What the dashboard's download button serves is the same package, byte for byte.
    assert package_bytes(db, date(2025, 6, 30)) == out.read_bytes()
    for line in built.derived.files["findings/findings.ocsf.jsonl"].decode().splitlines():
        ComplianceFinding.model_validate_json(line)


def test_triage_states_and_waivers_join_the_package_and_verify_sees_later_changes(tmp_path: Path) -> None:
    """The triage store beside the database goes into the package (waivers, states, changes, recorded
    runs); a change made after the package was built is a difference `verify` names."""
    from compliance.triage import set_state

    db = _small_db(tmp_path, {})
    bare = build_package(db, tmp_path / "bare.zip", date(2025, 6, 30))
    files = _files(tmp_path / "bare.zip")
    assert files["triage/triage_states.csv"].decode().count("\n") == 1  # the header: nothing triaged yet
    assert bare.derived.manifest["waivers_and_triage"] == sorted(p for p in files if p.startswith("triage/"))

    set_state(db, "dsr.overdue", "dsr:R-1", "acknowledged", "Waiting for the customer", "tester", "alice")
    out = tmp_path / "triaged.zip"
    build_package(db, out, date(2025, 6, 30))
    states = pl.read_csv(io.BytesIO(_files(out)["triage/triage_states.csv"]))
    assert states.select("control_id", "resource", "state", "assignee").rows() == [
        ("dsr.overdue", "dsr:R-1", "acknowledged", "alice")
    ]
    assert "`triage/triage_states.csv`" in _files(out)["README.md"].decode()
    assert verify_package(out, db).ok

    set_state(db, "dsr.overdue", "dsr:R-1", "resolved", "Answered", "tester")
    later = verify_package(out, db)
    assert not later.ok and any(d.path.startswith("triage/") for d in later.differences)


def test_evidence_command_explains_bad_input(tmp_path: Path) -> None:
    missing = run_cli("evidence", "--db", str(tmp_path / "none.duckdb"), "--out", str(tmp_path / "x.zip"))
    assert missing.returncode == 2 and "no such database" in missing.stderr
    no_out = run_cli("evidence", "--db", str(tmp_path / "none.duckdb"))
    assert no_out.returncode == 2 and "--out" in no_out.stderr
    bad_date = run_cli("evidence", "--as-of", "31/12/2025", "--out", str(tmp_path / "x.zip"))
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr


@pytest.mark.slow
def test_notebooks_join_the_package_as_html_without_code(demo_build, tmp_path: Path) -> None:
    out = tmp_path / "with-notebooks.zip"
    built = run_cli("evidence", "--db", str(demo_build.db), "--as-of", AS_OF, "--out", str(out), "--notebooks",
                 timeout=1800)  # fmt: skip
    assert built.returncode == 0, built.stderr
    files = _files(out)
    pages = {p: d.decode() for p, d in files.items() if p.startswith("notebooks/")}
    assert sorted(pages) == [f"notebooks/{n}.html" for n in sorted(
        ["dsr_audit", "retention_audit", "access_investigation", "datamap_reconciliation"])]  # fmt: skip
    for html in pages.values():
        assert AS_OF in html  # run on the package's date
        assert "hl-ipython3" not in html and "EXPORT_DIR = None" not in html  # outputs only, no code
    result = verify_package(out, demo_build.db)
    assert result.ok, result.differences
    assert result.sums_only == sorted(pages)


@pytest.mark.parametrize("command", [["evidence", "--help"], ["evidence", "verify", "--help"]])
def test_evidence_commands_explain_themselves(command: list[str]) -> None:
    helped = run_cli(*command)
    assert helped.returncode == 0 and len(helped.stdout.strip().splitlines()) > 5
    assert "--db" in helped.stdout
