"""pydantic models of the policy-as-code files (contract section 2), one class per file."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from compliance.config.base import StrictModel
from compliance.config.dsr_rules import Calendar
from compliance.schema import AUDIT_ACTIONS, JURISDICTIONS, SEVERITIES

Jurisdiction = Literal[JURISDICTIONS]  # the contract's codes (compliance.schema), as a type pydantic checks
LegalBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_interest", "legitimate_interests"
]
Action = Literal[AUDIT_ACTIONS]
Severity = Literal[SEVERITIES]  # a finding severity (contract section 4)
Mechanism = Literal["none_needed", "adequacy", "sccs", "dpf", "app8", "idta"]
SectionId = str  # checked against the parsed policy text by the bundle loader


# --- policy_map.yaml -------------------------------------------------------------------------
class PolicyMap(StrictModel):
    policy_version: str
    policy_file: str
    categories: dict[str, list[str]]
    uses: dict[str, list[str]]
    prohibited_uses: list[str] = []


# --- data_map.yaml ----------------------------------------------------------------------------
class VendorResource(StrictModel):
    """A vendor log's name for this store: events of `source` whose resource name matches the glob
    `match` (`*` any text, `?` one character) touch the store's data categories."""

    source: Literal["cloudtrail", "okta", "google_workspace", "entra", "ocsf"]
    match: str = Field(min_length=1)


class Store(StrictModel):
    id: str
    kind: Literal["table", "bucket", "index", "file"]
    resource_types: list[str] = []
    data_categories: list[str] = Field(min_length=1)
    # A backup store: erasure reaches it on the backup rotation, so the erasure grace applies to it only.
    # Elsewhere a record erased after its delete request was marked completed means the claim was false.
    backup: bool = False
    vendor_resources: list[VendorResource] = []  # how vendor logs (contract 1.10) name this store


class SystemUse(StrictModel):
    use: str
    legal_basis: LegalBasis
    jurisdictions: list[Jurisdiction] | None = None  # None: every jurisdiction


class System(StrictModel):
    id: str
    name: str
    description: str = ""
    owner: str = ""
    policy_sections: list[SectionId] = Field(min_length=1)
    data_subjects: list[str] = Field(min_length=1)
    processing_regions: list[str] = Field(min_length=1)
    recipients: list[str] = []
    stores: list[Store] = Field(min_length=1)
    uses: list[SystemUse] = Field(min_length=1)
    # True where Capantra processes the data on its customers' behalf (GDPR Art. 28): the system enters the
    # processor record of Art. 30(2), one entry per customer.
    processed_for_customers: bool = False

    @property
    def data_categories(self) -> list[str]:
        seen: dict[str, None] = {}
        for store in self.stores:
            seen.update(dict.fromkeys(store.data_categories))
        return list(seen)


class DataMap(StrictModel):
    systems: list[System] = Field(min_length=1)


# --- retention.yaml ---------------------------------------------------------------------------
class RecordRetention(StrictModel):
    data_category: str
    system: str | None = None
    store: str | None = None
    period_days: int = Field(ge=0)
    clock: Literal["created_at", "last_activity_at", "contract_ended_at"]
    grace_days: int = Field(default=0, ge=0)
    action: Literal["delete", "deidentify"]
    basis: str


class LogRetention(StrictModel):
    source: Literal["audit", "usage", "diagnostic"]
    period_days: int = Field(ge=0)
    grace_days: int = Field(default=0, ge=0)
    basis: str


class RetentionSchedule(StrictModel):
    records: list[RecordRetention] = Field(min_length=1)
    logs: list[LogRetention] = []


# --- roles.yaml -------------------------------------------------------------------------------
class Role(StrictModel):
    id: str
    description: str = ""
    data_categories: list[str] = []
    actions: list[Action] = []
    privileged: bool = False
    requires_mfa: bool = False
    # Names vendors give this role in their logs (glob patterns, case-insensitive; contract 1.10): a vendor
    # grant of e.g. AWS AdministratorAccess is recorded as a grant of this role, so the controls judge it.
    vendor_roles: list[str] = []


class RoleActions(StrictModel):
    data: list[Action]


class RoleMatrix(StrictModel):
    actions: RoleActions
    roles: list[Role] = Field(min_length=1)
    may_grant_roles: list[str] = []


# --- recipients.yaml --------------------------------------------------------------------------
class Recipient(StrictModel):
    id: str
    name: str
    domains: list[str] = []
    country: str = Field(pattern=r"^[A-Z]{2}$")
    mechanism: Mechanism
    purpose: str
    data_categories: list[str] = []


class Recipients(StrictModel):
    recipients: list[Recipient]


# --- transfers.yaml ---------------------------------------------------------------------------
class Region(StrictModel):
    id: str
    country: str = Field(pattern=r"^[A-Z]{2}$")
    name: str


class CountryJurisdictions(StrictModel):
    AU: Jurisdiction = "AU"
    GB: Jurisdiction = "UK"
    US: Jurisdiction = "US-OTHER"
    eu_members: list[str] = []


class TransferRules(StrictModel):
    regions: list[Region] = Field(min_length=1)
    rules: dict[Jurisdiction, dict[str, Mechanism]]
    country_jurisdictions: CountryJurisdictions


# --- settings.yaml ----------------------------------------------------------------------------
class BusinessHours(StrictModel):
    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=1, le=24)
    weekdays: list[int]

    @field_validator("weekdays")
    @classmethod
    def _iso_weekdays(cls, v: list[int]) -> list[int]:
        if any(d < 1 or d > 7 for d in v):
            raise ValueError("weekdays are ISO numbers 1 (Monday) to 7 (Sunday)")
        return v


class DsrSettings(StrictModel):
    due_soon_days: int = Field(ge=0)


class RetentionSettings(StrictModel):
    erasure_grace_days: int = Field(ge=0)
    legal_hold_exempts: bool = True


class OffHours(StrictModel):
    min_records: int = Field(ge=0)
    usual_hour_share: float = Field(ge=0, le=1)
    baseline_days: int = Field(gt=0)


class VolumeSpike(StrictModel):
    baseline_days: int = Field(gt=0)
    min_baseline_days: int = Field(ge=1)
    robust_z: float = Field(gt=0)
    peer_quantile: float = Field(gt=0, lt=1)
    min_records: int = Field(ge=0)
    # ... and above this multiple of their largest day in the window: a recurring peak is not a spike
    recurring_peak_factor: float = Field(ge=1)


class BulkExport(StrictModel):
    window_minutes: int = Field(gt=0)
    max_records: int = Field(gt=0)


class FailedLoginBurst(StrictModel):
    window_minutes: int = Field(gt=0)
    per_account: int = Field(gt=0)
    per_ip: int = Field(gt=0)


class DormantAccount(StrictModel):
    dormant_days: int = Field(gt=0)


class ImpossibleTravel(StrictModel):
    max_speed_kmh: float = Field(gt=0)
    min_distance_km: float = Field(ge=0)


class Anomalies(StrictModel):
    off_hours: OffHours
    volume_spike: VolumeSpike
    bulk_export: BulkExport
    failed_login_burst: FailedLoginBurst
    dormant_account: DormantAccount
    impossible_travel: ImpossibleTravel


class SecuritySettings(StrictModel):
    audit_gap_hours: float = Field(gt=0)
    # A silence alarms only if it is this unlikely under the system's learned hour-of-week rhythm.
    audit_gap_max_chance: float = Field(gt=0, lt=1)
    audit_gap_min_weeks: float = Field(gt=0)  # history needed before a system's rhythm is trusted
    # Public holidays (local dates of this calendar) are days off: a system need not log on one more than it
    # usually does at that hour on a weekend day. None: holidays are judged like any other day.
    audit_gap_holidays: Calendar | None = None
    min_tls_version: Literal["TLSv1.2", "TLSv1.3"]


class IncidentSettings(StrictModel):
    gdpr_notification_hours: float = Field(gt=0)
    au_assessment_days: int = Field(gt=0)


class ControllerSettings(StrictModel):
    """Who the controller is, for the GDPR Art. 30 record of processing."""

    name: str = Field(min_length=1)
    contact: str | None = None  # default: the first e-mail address in the policy text
    # The data protection officer (Art. 30(1)(a), 30(2)(a), Art. 37), where one is designated.
    dpo_name: str | None = None
    dpo_contact: str | None = None


class WebhookSettings(StrictModel):
    """A JSON webhook (Slack-compatible). The URL is a secret, so settings name the variable holding it."""

    url_env: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_seconds: float = Field(default=10, gt=0)


class EmailSettings(StrictModel):
    """SMTP delivery; the login (when the server needs one) comes from the environment variables named."""

    smtp_host: str = Field(min_length=1)
    smtp_port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    username_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    sender: str = Field(min_length=3)
    recipients: list[str] = Field(min_length=1)
    timeout_seconds: float = Field(default=30, gt=0)


class NotificationSettings(StrictModel):
    """What `compliance notify` sends, once each, and where (no channel configured: nothing to send)."""

    min_severity: Severity = "high"
    dsr_due_within_days: int = Field(default=7, ge=0)
    pseudonymise: bool = True  # actor and subject ids in messages replaced by their dashboard pseudonyms
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None


class FreshnessSettings(StrictModel):
    """When a source's data counts as stale: its newest record lies more than `stale_after_days` before the
    as-of date. Pages then say so beside the figures drawn from it (an empty list is not good news)."""

    stale_after_days: int = Field(default=14, ge=0)


class Settings(StrictModel):
    controller: ControllerSettings = ControllerSettings(name="Capantra")
    business_hours: BusinessHours
    dsr: DsrSettings
    retention: RetentionSettings
    anomalies: Anomalies
    security: SecuritySettings
    incidents: IncidentSettings
    notifications: NotificationSettings = NotificationSettings()
    freshness: FreshnessSettings = FreshnessSettings()
