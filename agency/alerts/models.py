"""Alerts for account managers, their notification preferences, and the email outbox."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from agency.core.database import Base, str_enum


class AlertKind(str, enum.Enum):
    eligibility_gained = "eligibility_gained"
    eligibility_lost = "eligibility_lost"
    near_threshold = "near_threshold"
    eligible_not_activated = "eligible_not_activated"
    concentration_risk = "concentration_risk"
    platform_dependency = "platform_dependency"
    deliverable_due = "deliverable_due"
    deliverable_overdue = "deliverable_overdue"
    invoice_overdue = "invoice_overdue"
    guideline_strike = "guideline_strike"
    metrics_stale = "metrics_stale"
    # The money chain: an invoice still unpaid 7, 14 and 30 days after its due date (one alert
    # each), and a representation agreement nearing its end.
    invoice_reminder = "invoice_reminder"
    agreement_renewal = "agreement_renewal"


class Severity(str, enum.Enum):
    low = "low"
    medium = "medium"
    high = "high"


class AlertStatus(str, enum.Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"


class Alert(Base):
    __tablename__ = "alerts"
    # One open (or acknowledged) alert per dedup key, however often the evaluation runs. The key
    # names its creator ("kind:creator id:subject"), so the index leads with the creator: the same
    # key is unique, and each evaluation reads a chunk's open alerts (a creator id range) through
    # it, without the resolved history beside them (one index where there were two: a run from no
    # alerts at 100,000 creators writes 266,581 alerts, each entered in one index fewer).
    __table_args__ = (
        Index(
            "uq_alerts_open_creator_dedup_key",
            "creator_id",
            "dedup_key",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
            sqlite_where=text("status <> 'resolved'"),
        ),
        Index("ix_alerts_status_kind", "status", "kind"),
        # A creator's alerts, newest first; also the foreign key's.
        Index("ix_alerts_creator_id_opened_at", "creator_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, "alert_kind"))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    dedup_key: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[AlertStatus] = mapped_column(str_enum(AlertStatus, "alert_status"), default=AlertStatus.open)
    opened_at: Mapped[datetime] = mapped_column(server_default=func.now())
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None]
    # Null when the condition cleared by itself.
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set once the alert is in a digest or an immediate email, so it is never mailed twice.
    notified_at: Mapped[datetime | None]


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    email_enabled: Mapped[bool] = mapped_column(default=True)
    # Local hour (in the user's time zone) at which the daily digest goes out.
    digest_hour: Mapped[int] = mapped_column(default=8)
    immediate_severities: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["high"])
    muted_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class OutboxStatus(str, enum.Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    dead = "dead"


# Emails whose body carries a secret (a creator's single-use invitation link): once the message
# was sent, or gave up, its body is replaced by this note, so the plain token is kept only until
# the email has left.
SECRET_KINDS = frozenset({"invitation"})
SECRET_BODY_REMOVED = "(This email held a single-use link; its text is not kept once sent or abandoned.)"


class OutboxMessage(Base):
    """An email to send, written in the same transaction as what it reports."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whom the email is for; an invitation's, who invited (the invited creator has no account yet).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # digest | immediate | invitation
    # Stable across retries, and unique: the same digest is never queued twice.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    alert_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Documents attached when the email is built: [{"kind": "invoice_pdf", "invoice_id": 12}] (the
    # invoice's PDF as issued). One that cannot be found fails the message like any other build error.
    attachments: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    sent_at: Mapped[datetime | None]

    def forget_secret(self) -> None:
        """Drop the body of an email that carried a secret, once it no longer needs sending."""
        for name, value in self.secret_forgotten().items():
            setattr(self, name, value)

    def secret_forgotten(self) -> dict[str, str]:
        """The columns `forget_secret` replaces, with their new values (none unless the email
        carried a secret): for an UPDATE that does not load the row."""
        if self.kind in SECRET_KINDS:
            return {"body_text": SECRET_BODY_REMOVED, "body_html": SECRET_BODY_REMOVED}
        return {}
