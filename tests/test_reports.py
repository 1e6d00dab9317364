"""compliance.reports: posture, the Art. 30 record and the CCPA §7102 metrics (worked out by hand)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from policy_support import policy_copy
from rows import finding_row

from compliance.controls import FINDINGS_SCHEMA
from compliance.reports import (
    control_summary,
    dsr_metrics,
    posture_by_section,
    record_of_processing,
    record_of_processing_frame,
)


def _findings(rows: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """(control, section, status, severity) per finding, on resources r0, r1, ... and with reason "<control> <status>"."""
    findings = [
        finding_row(control, f"r{i}", status, severity, policy_section=section, reason=f"{control} {status}")
        for i, (control, section, status, severity) in enumerate(rows)
    ]
    return pl.DataFrame(findings, schema=FINDINGS_SCHEMA)


FINDINGS = _findings(
    [
        ("a.one", "5", "alarm", "high"),
        ("a.one", "5", "alarm", "critical"),
        ("a.one", "5", "ok", "info"),
        ("a.two", "5", "ok", "info"),
        ("b.skip", "7", "skip", "info"),
        ("c.err", "PS", "error", "high"),
        ("c.ok", "PS", "ok", "info"),
        ("d.info", "8", "info", "info"),
    ]
)


def test_control_summary() -> None:
    out = control_summary(FINDINGS)
    # control, section, rows, alarm, ok, info, skip, error, suppressed, highest alarm severity, note
    assert out.rows() == [
        ("a.one", "5", 3, 2, 1, 0, 0, 0, 0, "critical", None),
        ("a.two", "5", 1, 0, 1, 0, 0, 0, 0, None, None),
        ("b.skip", "7", 1, 0, 0, 0, 1, 0, 0, None, "b.skip skip"),
        ("c.err", "PS", 1, 0, 0, 0, 0, 1, 0, None, "c.err error"),
        ("c.ok", "PS", 1, 0, 1, 0, 0, 0, 0, None, None),
        ("d.info", "8", 1, 0, 0, 1, 0, 0, 0, None, None),
    ]


def test_posture_by_section_lists_every_section() -> None:
    out = posture_by_section(control_summary(FINDINGS), {"5": "Security"})
    cols = ["policy_section", "title", "posture", "controls", "controls_in_alarm", "alarm", "highest_severity"]
    assert out.select(cols).rows() == [
        ("PS", None, "error", 2, 0, 0, None),  # a failed control, no alarm
        ("1", None, "no control", 0, 0, 0, None),
        ("2", None, "no control", 0, 0, 0, None),
        ("3", None, "no control", 0, 0, 0, None),
        ("4", None, "no control", 0, 0, 0, None),
        ("5", "Security", "alarm", 2, 1, 2, "critical"),
        ("6", None, "no control", 0, 0, 0, None),
        ("7", None, "skip", 1, 0, 0, None),  # its only control had no data
        ("8", None, "ok", 1, 0, 0, None),  # info rows are not alarms
        ("9", None, "no control", 0, 0, 0, None),
    ]


def test_record_of_processing_from_the_repository_policy(policy) -> None:
    record = record_of_processing(policy)
    assert (record["controller"], record["contact"], record["policy_version"]) == (
        "Capantra",
        "privacy@capantra.com",
        "v0.2",
    )
    assert [a["system"] for a in record["activities"]] == [s.id for s in policy.data_map.systems]
    crm = record["activities"][0]
    assert crm["activity"] == "CRM contacts"
    assert crm["legal_bases"] == ["contract", "legal_obligation"]
    assert crm["data_subjects"] == ["customer", "prospect"]
    assert "Job Title (user.job_title)" in crm["data_categories"]
    assert crm["recipients"] == ["Amazon Web Services (Cloud hosting and backups)"]
    # transfers.yaml: us-east is lawful for EU under DPF, UK under the IDTA, AU under APP 8
    assert (
        "processing in us-east (US): EU subjects under dpf, UK subjects under idta, AU subjects under app8"
        in (crm["transfers"])
    )
    assert "to Amazon Web Services (US) under dpf" in crm["transfers"]
    # retention.yaml: user.contact (the nearest rule for user.contact.email) runs 90 days from contract end
    assert "user.contact.email: delete 90 days after contract ended" in crm["retention"]
    billing = next(a for a in record["activities"] if a["system"] == "billing")
    assert "user.name: delete 2555 days after created" in billing["retention"]  # the billing system rule wins
    assert any("MFA required for roles" in m for m in crm["security_measures"])
    frame = record_of_processing_frame(record)
    assert frame.height == len(record["activities"])
    assert frame["transfers"][0].count("; ") == len(crm["transfers"]) - 1


def test_dsr_metrics() -> None:
    d = dt.date
    requests = pl.DataFrame(
        {
            "jurisdiction": ["US-CA"] * 7 + ["EU", "US-CA"],
            "request_type": ["access", "access", "access", "delete", "delete", "opt_out_sale_share", "access",
                             "access", "portability"],
            "status": ["completed", "rejected", "open", "completed", "withdrawn", "completed", "completed",
                       "completed", "completed"],
            "received_date": [d(2025, 1, 5), d(2025, 2, 1), d(2025, 3, 1), d(2025, 4, 1), d(2025, 5, 1),
                              d(2025, 6, 1), d(2024, 12, 1), d(2025, 7, 1), d(2025, 8, 1)],
            "turnaround_days": [10, 4, None, 30, 2, 7, 99, 5, 20],
        }
    )  # fmt: skip
    out = dsr_metrics(requests, 2025)
    # year, jurisdiction, type, received, complied, denied, withdrawn, pending, median and mean days over completions
    # and denials. US-CA by default: the EU request is left out; the California portability request is a request
    # to know (10, 4 and 20 days).
    assert out.drop("label").rows() == [
        (2025, "US-CA", "access", 4, 2, 1, 0, 1, 10.0, 11.3),  # the 2024 request is another year
        (2025, "US-CA", "delete", 2, 1, 0, 1, 0, 30.0, 30.0),  # a withdrawal is no substantive response
        (2025, "US-CA", "opt_out_sale_share", 1, 1, 0, 0, 0, 7.0, 7.0),
        (2025, "US-CA", "all", 7, 4, 1, 1, 1, 10.0, 14.2),  # 4, 7, 10, 20, 30: median 10, mean 14.2
    ]
    assert out["label"].to_list() == [
        "Requests to know",
        "Requests to delete",
        "Requests to opt out of sale/sharing",
        "All requests",
    ]
    assert dsr_metrics(requests)["received"].to_list()[-1] == 8  # no year: every US-CA request
    everyone = dsr_metrics(requests, None, None)  # every jurisdiction, every year
    assert everyone["received"].to_list()[-1] == 9
    assert everyone.select("year", "jurisdiction").unique().rows() == [(None, "all")]
    # Outside California portability stays its own type.
    assert "portability" in everyone["request_type"].to_list()


def test_record_of_processing_names_the_configured_controller(tmp_path) -> None:
    from compliance.config.bundle import load_policy

    # The contact line removed (policy_copy checks that both lines are there to edit).
    controller = ("  name: Capantra\n  contact: privacy@capantra.com\n", "  name: Capantra Pty Ltd\n")
    edited = policy_copy(tmp_path / "policy", {"settings.yaml": controller})
    record = record_of_processing(load_policy(edited))
    # Without a configured contact, the first e-mail address of the policy text is the contact.
    assert (record["controller"], record["contact"]) == ("Capantra Pty Ltd", "privacy@capantra.com")
