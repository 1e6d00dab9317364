"""Reports built from findings, the policy and the DSR register, for the dashboard and notebooks alike.

- `pseudonymise` / `redact_text`: keyed pseudonyms for subject and actor ids (re-exported from
  compliance.pseudonyms, where they live), so screens and shared notebooks show who without naming them;
- `control_summary` / `posture_by_section` (reports.posture): the policy posture (status counts per
  control and section), which `compliance check` prints too;
- `record_of_processing` / `processor_record` (reports.art30): the GDPR Art. 30(1) and 30(2) records;
- `dsr_metrics` (reports.ccpa): the CCPA regs §7102(a) annual request metrics.

No Streamlit here: everything takes and returns plain Polars frames or dicts.
"""

from compliance.pseudonyms import pseudonymise, redact_text
from compliance.reports.art30 import processor_record, record_of_processing, record_of_processing_frame
from compliance.reports.ccpa import CCPA_REQUEST_LABELS, dsr_metrics
from compliance.reports.posture import SECTION_ORDER, control_summary, posture_by_section

__all__ = [
    "CCPA_REQUEST_LABELS",
    "SECTION_ORDER",
    "control_summary",
    "dsr_metrics",
    "posture_by_section",
    "processor_record",
    "pseudonymise",
    "record_of_processing",
    "record_of_processing_frame",
    "redact_text",
]
