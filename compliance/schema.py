"""The export bundle's sources (contract section 1), as data: one definition drives the readers,
the validation that routes bad rows to rejects, the native tables and the tests.

Types are the native DuckDB column types. All `*_at` timestamps are stored as UTC `TIMESTAMP`
(without zone) so that SQL compares instants and stays portable to Spark.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AUDIT_ACTIONS = (
    "login", "login_failed", "logout", "mfa_challenge", "read", "search", "export", "create",
    "update", "delete", "deidentify", "share", "role_grant", "role_revoke", "config_change",
)  # fmt: skip
# Who acts: audit events and directory accounts name the same kinds of actor.
ACTOR_TYPES = ("employee", "contractor", "service", "customer_user")
DATA_ACTIONS = ("read", "search", "export", "create", "update", "delete", "deidentify", "share")
JURISDICTIONS = ("EU", "UK", "AU", "US-CA", "US-VA", "US-CO", "US-CT", "US-TX", "US-OTHER")
REQUEST_TYPES = (
    "access", "correct", "delete", "restrict", "object", "portability", "opt_out_sale_share", "limit_sensitive",
)  # fmt: skip
# Finding severities (contract section 4), ascending: the engine, the CLI gate and the pages use this order.
SEVERITIES = ("info", "low", "medium", "high", "critical")
LOG_LEVELS = ("DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL")
TLS_VERSIONS = ("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "none")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # VARCHAR, TIMESTAMP, DATE, BIGINT, DOUBLE, BOOLEAN, VARCHAR[], JSON
    required: bool = False
    enum: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None
    default: str | None = None  # SQL literal used when the field is absent
    timezone: bool = False  # an IANA time-zone name (checked against DuckDB's zone list)
    may_be_future: bool = False  # a planned time (a contract's end): exempt from the ingest's upper time bound


@dataclass(frozen=True)
class RequiredWhen:
    """A field that is required only for some values of another field (e.g. recipient for share/export)."""

    column: str
    when_column: str
    when_values: tuple[str, ...]


@dataclass(frozen=True)
class Source:
    folder: str
    table: str
    description: str
    formats: tuple[str, ...]  # file kinds accepted: jsonl, csv, parquet
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    required: bool = False
    # Among duplicates of a key, the newest export wins; `newest_by` ranks rows first (e.g. a snapshot time).
    newest_by: str | None = None
    required_when: tuple[RequiredWhen, ...] = field(default=())

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str = "VARCHAR", **kw: object) -> Column:
    return Column(name, type_, **kw)  # type: ignore[arg-type]


AUDIT = Source(
    folder="audit",
    table="audit_events",
    description="one audit event",
    formats=("jsonl",),
    key=("event_id",),
    required=True,
    columns=(
        _c("event_id", required=True),
        _c("occurred_at", "TIMESTAMP", required=True),
        _c("actor_id", required=True),
        _c("actor_type", required=True, enum=ACTOR_TYPES),
        _c("system"),
        _c("action", required=True, enum=AUDIT_ACTIONS),
        _c("outcome", required=True, enum=("success", "failure", "denied")),
        _c("resource_type"),
        _c("resource_id"),
        _c("data_categories", "VARCHAR[]"),
        _c("subject_id"),
        _c("record_count", "BIGINT", min_value=0, default="1"),
        _c("purpose"),
        _c("tenant_id"),
        _c("source_ip"),
        _c("geo_country"),
        # A point on the globe: a latitude past a pole or a longitude past the date line is no place, and
        # would put a login thousands of kilometres from any real one (access.impossible_travel).
        _c("geo_lat", "DOUBLE", min_value=-90, max_value=90),
        _c("geo_lon", "DOUBLE", min_value=-180, max_value=180),
        _c("processing_region"),
        _c("recipient"),
        _c("target_actor_id"),
        _c("role"),
        _c("user_agent"),
        _c("details", "JSON"),
    ),
    required_when=(
        RequiredWhen("resource_type", "action", DATA_ACTIONS),
        RequiredWhen("recipient", "action", ("share", "export")),
        RequiredWhen("target_actor_id", "action", ("role_grant", "role_revoke")),
        RequiredWhen("role", "action", ("role_grant", "role_revoke")),
    ),
)

USAGE = Source(
    folder="usage",
    table="usage_events",
    description="one product-analytics event",
    formats=("csv", "parquet"),
    key=("event_id",),
    columns=(
        _c("event_id", required=True),
        _c("occurred_at", "TIMESTAMP", required=True),
        _c("tenant_id"),
        _c("user_id", required=True),
        _c("event_name", required=True),
        _c("feature"),
        _c("session_id"),
        _c("country"),
        _c("device_id"),
        _c("consent_analytics", "BOOLEAN"),
    ),
)

_DIAGNOSTIC_COLUMNS = (
    _c("occurred_at", "TIMESTAMP", required=True),
    _c("service", required=True),
    _c("level", required=True, enum=LOG_LEVELS),
    _c("message"),
    _c("host"),
    _c("processing_region"),
    _c("request_id"),
    _c("status_code", "BIGINT"),
    _c("latency_ms", "DOUBLE", min_value=0),
    _c("tls_version", enum=TLS_VERSIONS),
    _c("storage_encrypted", "BOOLEAN"),
    _c("tenant_id"),
    _c("subject_id"),
)

DIAGNOSTIC = Source(
    folder="diagnostic",
    table="diagnostic_logs",
    description="one service log line",
    formats=("jsonl",),
    # Log lines have no id in the contract: a line is identified by its full content, every field (two lines that
    # differ only in `tls_version` are two lines, and both are evidence).
    key=tuple(c.name for c in _DIAGNOSTIC_COLUMNS),
    columns=_DIAGNOSTIC_COLUMNS,
)

DSR = Source(
    folder="dsr",
    table="dsr_requests",
    description="one data subject request (latest state)",
    formats=("csv",),
    key=("request_id",),
    columns=(
        _c("request_id", required=True),
        _c("subject_id", required=True),
        _c("jurisdiction", required=True, enum=JURISDICTIONS),
        _c("request_type", required=True, enum=REQUEST_TYPES),
        _c("channel", enum=("email", "webform", "in_app", "support")),
        _c("received_at", "TIMESTAMP", required=True),
        _c("acknowledged_at", "TIMESTAMP"),
        _c("verified_at", "TIMESTAMP"),
        _c("extension_notified_at", "TIMESTAMP"),
        _c("extension_reason"),
        _c("completed_at", "TIMESTAMP"),
        _c("status", required=True, enum=("open", "completed", "rejected", "withdrawn")),
        _c("status_reason"),
        # Optional (contract section 1.10): UK GDPR Art. 12A clock start and pause.
        _c("id_requested_at", "TIMESTAMP"),
        _c("id_received_at", "TIMESTAMP"),
        _c("clarification_requested_at", "TIMESTAMP"),
        _c("clarification_received_at", "TIMESTAMP"),
    ),
)

INVENTORY = Source(
    folder="inventory",
    table="inventory_records",
    description="one stored personal-data record (snapshot)",
    formats=("csv", "parquet"),
    key=("system", "store", "record_id"),
    newest_by="snapshot_at",
    columns=(
        _c("snapshot_at", "TIMESTAMP", required=True),
        _c("system", required=True),
        _c("store", required=True),
        _c("record_id", required=True),
        _c("subject_id"),
        _c("tenant_id"),
        _c("data_category", required=True),
        _c("created_at", "TIMESTAMP", required=True),
        _c("last_activity_at", "TIMESTAMP"),
        _c("contract_ended_at", "TIMESTAMP", may_be_future=True),
        _c("deleted_at", "TIMESTAMP"),
        _c("deidentified_at", "TIMESTAMP"),
        _c("legal_hold", "BOOLEAN", default="false"),
    ),
)

DIRECTORY = Source(
    folder="directory",
    table="directory_accounts",
    description="one workforce or service account",
    formats=("csv",),
    key=("actor_id",),
    columns=(
        _c("actor_id", required=True),
        _c("actor_type", required=True, enum=ACTOR_TYPES),
        _c("role", required=True),
        _c("department"),
        _c("status", required=True, enum=("active", "suspended", "terminated")),
        _c("start_date", "DATE"),
        _c("end_date", "DATE"),
        _c("mfa_enabled", "BOOLEAN"),
        _c("home_country"),
        _c("timezone", timezone=True),
    ),
)

TENANTS = Source(
    folder="tenants",
    table="tenants",
    description="one customer account",
    formats=("csv",),
    key=("tenant_id",),
    columns=(
        _c("tenant_id", required=True),
        _c("name"),
        _c("country"),
        _c("home_region"),
        _c("contract_started_at", "TIMESTAMP"),
        _c("contract_ended_at", "TIMESTAMP", may_be_future=True),
    ),
)

SUBJECTS = Source(
    folder="subjects",
    table="subjects",
    description="one data subject known to the service",
    formats=("csv", "parquet"),
    key=("subject_id",),
    columns=(
        _c("subject_id", required=True),
        _c("tenant_id"),
        _c("subject_type", enum=("customer_user", "contact", "prospect")),
        _c("country"),
        _c("jurisdiction", enum=JURISDICTIONS),
        _c("created_at", "TIMESTAMP"),
    ),
)

INCIDENTS = Source(
    folder="incidents",
    table="incidents",
    description="one security incident",
    formats=("csv",),
    key=("incident_id",),
    columns=(
        _c("incident_id", required=True),
        _c("detected_at", "TIMESTAMP", required=True),
        _c("personal_data_involved", "BOOLEAN"),
        _c("jurisdictions"),  # ';'-separated, kept as text; split where a control needs it
        _c("severity"),
        _c("contained_at", "TIMESTAMP"),
        _c("assessment_completed_at", "TIMESTAMP"),
        _c("regulator_notified_at", "TIMESTAMP"),
        _c("subjects_notified_at", "TIMESTAMP"),
        _c("status"),
    ),
)

# Optional (contract section 1.10): one row per party an incident's notice is owed to, per jurisdiction.
# `not_required_reason` records a determination that no notice is owed (e.g. GDPR Art. 33(1): "unlikely to
# result in a risk to the rights and freedoms of natural persons").
INCIDENT_NOTIFICATIONS = Source(
    folder="incident_notifications",
    table="incident_notifications",
    description="one notice of an incident to one party in one jurisdiction",
    formats=("csv",),
    key=("incident_id", "jurisdiction", "party"),
    columns=(
        _c("incident_id", required=True),
        _c("jurisdiction", required=True),
        _c("party", required=True, enum=("regulator", "subjects", "oaic_statement")),
        _c("notified_at", "TIMESTAMP"),
        _c("not_required_reason"),
    ),
)

# Reference sources load before the event sources that are enriched from them.
SOURCES: tuple[Source, ...] = (
    DIRECTORY,
    TENANTS,
    SUBJECTS,
    DSR,
    INCIDENTS,
    INCIDENT_NOTIFICATIONS,
    INVENTORY,
    USAGE,
    DIAGNOSTIC,
    AUDIT,
)
SOURCES_BY_FOLDER = {s.folder: s for s in SOURCES}
# The logs: one row per event, the tables that grow with the company (100M audit events, 14M usage events), so a
# model reading them row by row is never copied whole (compliance.controls.materialised_models), and a Parquet
# export partitions them by date (compliance.export_parquet).
LOG_TABLES = frozenset({AUDIT.table, USAGE.table, DIAGNOSTIC.table})
# The rows the enrichment and the derived tables are computed from: a load that changes them refreshes those.
EVENT_TABLES = LOG_TABLES | {INVENTORY.table}
