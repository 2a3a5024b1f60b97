"""All models, imported here so that `Base.metadata` knows every table (Alembic relies on it)."""
from agency.models.alerts import (
    Alert, AlertKind, AlertStatus, NotificationPreference, OutboxMessage, OutboxStatus, Severity,
)
from agency.models.audit import AuditEntry
from agency.models.creators import (
    AccountType, Creator, CreatorStatus, GuidelineStrike, Niche, Platform, PlatformAccount, Standing,
)
from agency.models.deals import (
    Brand, Deal, DealSource, DealStage, DealTransition, Deliverable, DeliverableKind, DeliverableStatus,
)
from agency.models.jobs import JobRecord, JobStatus, RunStatus, ScheduledRun
from agency.models.metrics import METRIC_FIELDS, MetricSnapshot
from agency.models.programmes import (
    ActivationStatus, EligibilityChange, EligibilityEvaluation, Program, ProgramActivation, RuleVersion,
)
from agency.models.revenue import DiversificationSnapshot, FxRate, RevenueRecord, RevenueSource, RiskLevel
from agency.models.users import ApiToken, Role, User

__all__ = [
    "Alert", "AlertKind", "AlertStatus", "NotificationPreference", "OutboxMessage", "OutboxStatus", "Severity",
    "JobRecord", "JobStatus", "RunStatus", "ScheduledRun",
    "Brand", "Deal", "DealSource", "DealStage", "DealTransition", "Deliverable", "DeliverableKind",
    "DeliverableStatus", "DiversificationSnapshot", "FxRate", "RevenueRecord", "RevenueSource", "RiskLevel",
    "ActivationStatus", "EligibilityChange", "EligibilityEvaluation", "Program", "ProgramActivation", "RuleVersion",
    "AccountType", "ApiToken", "AuditEntry", "Creator", "CreatorStatus", "GuidelineStrike",
    "METRIC_FIELDS", "MetricSnapshot", "Niche", "Platform", "PlatformAccount", "Role", "Standing", "User",
]
