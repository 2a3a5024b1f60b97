"""Alerts: keep one open alert per condition, and their lifecycle.

`evaluate_alerts` compares the evaluators' conditions (evaluators.py) with the open alerts in one
pass: new conditions open alerts (and queue immediate emails in the same transaction), cleared
conditions resolve theirs automatically, and a condition that comes back later opens a new alert.
Users acknowledge and resolve alerts by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.alerts.evaluators import EVALUATORS, AlertSettings, Condition
from agency.alerts.models import Alert, AlertKind, AlertStatus
from agency.core.audit.service import Actor, record_audit
from agency.core.database import bulk_insert, utcnow
from agency.core.errors import Conflict, Forbidden, NotFound
from agency.core.prometheus import ALERTS_OPENED
from agency.core.users.models import Role, User
from agency.roster.models import Creator

__all__ = [
    "AlertRunResult",
    "AlertSettings",
    "Condition",
    "acknowledge_alert",
    "evaluate_alerts",
    "get_alert",
    "resolve_alert",
]


@dataclass
class AlertRunResult:
    opened: int = 0
    resolved: int = 0
    still_open: int = 0
    opened_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"opened": self.opened, "resolved": self.resolved, "still_open": self.still_open}


def evaluate_alerts(*, db_session: Session, settings: AlertSettings) -> AlertRunResult:
    """Open alerts for new conditions, resolve those whose condition cleared; idempotent."""
    conditions = {c.dedup_key: c for evaluate in EVALUATORS.values() for c in evaluate(db_session, settings)}
    open_alerts = dict(
        db_session.execute(select(Alert.dedup_key, Alert.id).where(Alert.status != AlertStatus.resolved)).all()
    )
    result = AlertRunResult()
    now = utcnow()
    new = [c for key, c in conditions.items() if key not in open_alerts]
    cleared = [alert_id for key, alert_id in open_alerts.items() if key not in conditions]
    if cleared:
        db_session.query(Alert).filter(Alert.id.in_(cleared)).update(
            {Alert.status: AlertStatus.resolved, Alert.resolved_at: now}, synchronize_session=False
        )
    if new:
        bulk_insert(
            db_session.connection(),
            Alert.__table__,
            [
                {
                    "kind": c.kind.value,
                    "severity": c.severity.value,
                    "creator_id": c.creator_id,
                    "dedup_key": c.dedup_key,
                    "subject": c.subject[:300],
                    "message": c.message,
                    "payload": c.payload,
                    "status": "open",
                    "opened_at": now,
                }
                for c in new
            ],
        )
        result.opened_ids = list(
            db_session.scalars(
                select(Alert.id).where(
                    Alert.dedup_key.in_([c.dedup_key for c in new]), Alert.status == AlertStatus.open
                )
            )
        )
    result.opened, result.resolved = len(new), len(cleared)
    for condition in new:
        ALERTS_OPENED.labels(kind=condition.kind.value).inc()
    result.still_open = len(open_alerts) - len(cleared)
    return result


# --- lifecycle by users ---------------------------------------------------------------------


# What a creator sees of their own alerts in the portal: their programmes, deliverables, standing,
# metrics and income mix (an invoice a brand has not paid is between the agency and the brand).
CREATOR_ALERT_KINDS = tuple(kind for kind in AlertKind if kind is not AlertKind.invoice_overdue)


def get_alert(*, db_session: Session, alert_id: int) -> Alert:
    alert = db_session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found.")
    return alert


def _check_can_act(user: User, alert: Alert, db_session: Session) -> None:
    if user.role is Role.analyst:
        raise Forbidden("Analysts have read-only access.")
    if user.role is Role.manager:
        manager_id = db_session.scalar(select(Creator.manager_id).where(Creator.id == alert.creator_id))
        if manager_id != user.id:
            raise Forbidden("You can only act on alerts about creators you manage.")


def acknowledge_alert(*, db_session: Session, actor: Actor, alert: Alert) -> Alert:
    _check_can_act(actor.user, alert, db_session)
    if alert.status is AlertStatus.resolved:
        raise Conflict("The alert is already resolved.")
    if alert.status is AlertStatus.open:
        alert.status, alert.acknowledged_at, alert.acknowledged_by_id = (
            AlertStatus.acknowledged,
            utcnow(),
            actor.user.id,
        )
        record_audit(
            db_session=db_session,
            actor=actor,
            action="alert.acknowledge",
            entity_type="alert",
            entity_id=alert.id,
            after={"status": "acknowledged"},
        )
    return alert


def resolve_alert(*, db_session: Session, actor: Actor, alert: Alert) -> Alert:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert."""
    _check_can_act(actor.user, alert, db_session)
    if alert.status is not AlertStatus.resolved:
        alert.status, alert.resolved_at, alert.resolved_by_id = AlertStatus.resolved, utcnow(), actor.user.id
        record_audit(
            db_session=db_session,
            actor=actor,
            action="alert.resolve",
            entity_type="alert",
            entity_id=alert.id,
            after={"status": "resolved"},
        )
    return alert
