"""Alerts: evaluate every alert kind from stored data, keep one open alert per condition.

Each evaluator is a set-based query returning the conditions true right now. `evaluate_alerts`
compares them with the open alerts in one pass: new conditions open alerts (and queue immediate
emails in the same transaction), cleared conditions resolve theirs automatically, and a condition
that comes back later opens a new alert.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from agency.db import bulk_insert, utcnow
from agency.models import (
    ActivationStatus, Alert, AlertKind, AlertStatus, Creator, CreatorStatus, Deal, DealStage, Deliverable,
    DeliverableStatus, DiversificationSnapshot, EligibilityChange, EligibilityEvaluation, GuidelineStrike,
    MetricSnapshot, PlatformAccount, Program, ProgramActivation, RiskLevel, Severity, User,
)
from agency.metrics import ALERTS_OPENED
from agency.services import Conflict, Forbidden, NotFound
from agency.services.audit import Actor, record_audit
from agency.services.diversification import latest_snapshots_query


@dataclass
class AlertSettings:
    today: date
    transition_days: int = 7          # gained/lost alerts stay open this long
    deliverable_due_days: int = 3     # "due soon" horizon
    invoice_overdue_days: int = 30
    strike_days: int = 30
    stale_days: int = 3
    hhi_high: Decimal = Decimal("0.50")
    platform_high: Decimal = Decimal("0.70")


@dataclass
class Condition:
    kind: AlertKind
    severity: Severity
    creator_id: int
    subject_key: str
    subject: str
    message: str
    payload: dict = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        return f"{self.kind.value}:{self.creator_id}:{self.subject_key}"


def _active_creators():
    return and_(Creator.archived_at.is_(None), Creator.status != CreatorStatus.offboarded)


def eligibility_transitions(session: Session, s: AlertSettings) -> list[Condition]:
    latest = (select(EligibilityChange.creator_id, EligibilityChange.program_id,
                     func.max(EligibilityChange.id).label("id"))
              .where(EligibilityChange.change.in_(["gained", "lost"]))
              .group_by(EligibilityChange.creator_id, EligibilityChange.program_id).subquery())
    rows = session.execute(
        select(EligibilityChange, Creator.display_name, Program.name)
        .join(latest, latest.c.id == EligibilityChange.id)
        .join(Creator, Creator.id == EligibilityChange.creator_id).join(Program, Program.id == EligibilityChange.program_id)
        .where(_active_creators(), EligibilityChange.as_of > s.today - timedelta(days=s.transition_days))).all()
    out = []
    for change, name, program in rows:
        gained = change.change == "gained"
        criteria = ", ".join(c["label"] for c in change.changed_criteria) or "rules or data changed"
        out.append(Condition(
            AlertKind.eligibility_gained if gained else AlertKind.eligibility_lost,
            Severity.medium if gained else Severity.high, change.creator_id, f"program:{change.program_id}",
            f"{name} {'is now eligible for' if gained else 'lost'} {program}",
            f"{name} {'became eligible for' if gained else 'is no longer eligible for'} {program} on "
            f"{change.as_of:%d %b %Y} ({criteria}).",
            {"program_id": change.program_id, "as_of": change.as_of.isoformat()}))
    return out


def near_threshold(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(EligibilityEvaluation, Creator.display_name, Program.name).join(Creator).join(Program)
        .where(_active_creators(), EligibilityEvaluation.near_threshold.is_(True),
               EligibilityEvaluation.eligible.is_(False))).all()
    out = []
    for ev, name, program in rows:
        gaps = "; ".join(f"{d['label']}: needs {d['gap']:,} more" for d in ev.details
                         if not d["passed"] and isinstance(d.get("gap"), (int, float)))
        eta = f" Estimated crossing: {ev.eta:%d %b %Y}." if ev.eta else ""
        out.append(Condition(AlertKind.near_threshold, Severity.low, ev.creator_id, f"program:{ev.program_id}",
                             f"{name} is close to {program}", f"{name} is close to {program}: {gaps}.{eta}",
                             {"program_id": ev.program_id, "eta": ev.eta.isoformat() if ev.eta else None}))
    return out


def eligible_not_activated(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(EligibilityEvaluation.creator_id, EligibilityEvaluation.program_id, Creator.display_name, Program.name,
               Program.activation_path)
        .join(Creator, Creator.id == EligibilityEvaluation.creator_id)
        .join(Program, Program.id == EligibilityEvaluation.program_id)
        .outerjoin(ProgramActivation, and_(ProgramActivation.creator_id == EligibilityEvaluation.creator_id,
                                           ProgramActivation.program_id == EligibilityEvaluation.program_id))
        .where(_active_creators(), EligibilityEvaluation.eligible.is_(True),
               or_(ProgramActivation.id.is_(None),
                   ProgramActivation.status.in_([ActivationStatus.not_applied, ActivationStatus.rejected])))).all()
    return [Condition(AlertKind.eligible_not_activated, Severity.medium, r.creator_id, f"program:{r.program_id}",
                      f"{r.display_name} is eligible for {r.name} but has not activated it",
                      f"{r.display_name} qualifies for {r.name} but it is not active: money left on the table. "
                      f"Activate it in the app: {r.activation_path or 'see the programme page'}.",
                      {"program_id": r.program_id}) for r in rows]


def revenue_concentration(session: Session, s: AlertSettings) -> list[Condition]:
    snapshots = session.execute(latest_snapshots_query().add_columns(Creator.display_name)
                                .join(Creator, Creator.id == DiversificationSnapshot.creator_id)
                                .where(_active_creators())).all()
    out = []
    for snap, name in snapshots:
        if snap.risk_level is RiskLevel.no_data:
            continue
        if snap.hhi >= s.hhi_high:
            out.append(Condition(AlertKind.concentration_risk, Severity.medium, snap.creator_id, "sources",
                                 f"{name} depends on one income source",
                                 f"{int(snap.top_source_share * 100)}% of {name}'s revenue over {snap.window_days} days "
                                 f"comes from {snap.top_source} (HHI {snap.hhi}). {snap.suggestion}",
                                 {"hhi": str(snap.hhi), "top_source": snap.top_source}))
        if snap.top_platform_share >= s.platform_high:
            out.append(Condition(AlertKind.platform_dependency, Severity.medium, snap.creator_id,
                                 f"platform:{snap.top_platform}", f"{name} depends on {snap.top_platform}",
                                 f"{int(snap.top_platform_share * 100)}% of {name}'s revenue comes from "
                                 f"{snap.top_platform}. {snap.suggestion}",
                                 {"platform": snap.top_platform, "share": str(snap.top_platform_share)}))
    return out


def deliverables(session: Session, s: AlertSettings) -> list[Condition]:
    open_deal = Deal.stage.not_in([DealStage.cancelled, DealStage.lost, DealStage.paid])
    rows = session.execute(
        select(Deliverable, Deal.title, Deal.creator_id, Creator.display_name)
        .join(Deal, Deal.id == Deliverable.deal_id).join(Creator, Creator.id == Deal.creator_id)
        .where(_active_creators(), open_deal, Deal.archived_at.is_(None),
               Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
               Deliverable.due_date <= s.today + timedelta(days=s.deliverable_due_days))).all()
    out = []
    for d, title, creator_id, name in rows:
        overdue = d.due_date < s.today
        out.append(Condition(
            AlertKind.deliverable_overdue if overdue else AlertKind.deliverable_due,
            Severity.high if overdue else Severity.medium, creator_id, f"deliverable:{d.id}",
            f"{name}: {d.kind.value} for '{title}' {'is overdue' if overdue else 'is due soon'}",
            f"The {d.platform.value} {d.kind.value} for '{title}' was due on {d.due_date:%d %b %Y}."
            if overdue else f"The {d.platform.value} {d.kind.value} for '{title}' is due on {d.due_date:%d %b %Y}.",
            {"deal_id": d.deal_id, "deliverable_id": d.id, "due_date": d.due_date.isoformat()}))
    return out


def invoices(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(Deal, Creator.display_name).join(Creator, Creator.id == Deal.creator_id)
        .where(_active_creators(), Deal.archived_at.is_(None), Deal.stage == DealStage.invoiced,
               Deal.invoiced_on < s.today - timedelta(days=s.invoice_overdue_days))).all()
    return [Condition(AlertKind.invoice_overdue, Severity.high, deal.creator_id, f"deal:{deal.id}",
                      f"Invoice for '{deal.title}' ({name}) is unpaid",
                      f"'{deal.title}' with {deal.brand.name} was invoiced on {deal.invoiced_on:%d %b %Y} "
                      f"({deal.fee_amount} {deal.fee_currency}) and is still unpaid.",
                      {"deal_id": deal.id}) for deal, name in rows]


def guideline_strikes(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(GuidelineStrike, Creator.display_name, Creator.guideline_standing).join(Creator)
        .where(_active_creators(), GuidelineStrike.occurred_on > s.today - timedelta(days=s.strike_days))).all()
    return [Condition(AlertKind.guideline_strike, Severity.high, strike.creator_id, f"strike:{strike.id}",
                      f"{name} received a community-guidelines strike",
                      f"Strike on {strike.occurred_on:%d %b %Y}: {strike.reason or 'no reason recorded'}. "
                      f"Standing is now {standing.value}; monetisation programmes may be at risk.",
                      {"strike_id": strike.id}) for strike, name, standing in rows]


def stale_metrics(session: Session, s: AlertSettings) -> list[Condition]:
    last = (select(MetricSnapshot.account_id, func.max(MetricSnapshot.day).label("day"))
            .group_by(MetricSnapshot.account_id).subquery())
    rows = session.execute(
        select(PlatformAccount, last.c.day, Creator.display_name)
        .join(Creator, Creator.id == PlatformAccount.creator_id)
        .outerjoin(last, last.c.account_id == PlatformAccount.id)
        .where(_active_creators(), Creator.status == CreatorStatus.active,
               or_(last.c.day.is_(None), last.c.day < s.today - timedelta(days=s.stale_days)))).all()
    return [Condition(AlertKind.metrics_stale, Severity.low, account.creator_id, f"account:{account.id}",
                      f"No recent metrics for {name} on {account.platform.value}",
                      f"The last {account.platform.value} snapshot for @{account.handle} is from "
                      f"{day:%d %b %Y}." if day else f"@{account.handle} on {account.platform.value} has no metrics yet.",
                      {"account_id": account.id, "last_day": day.isoformat() if day else None})
            for account, day, name in rows]


EVALUATORS: dict[str, Callable[[Session, AlertSettings], list[Condition]]] = {
    "eligibility_transitions": eligibility_transitions,
    "near_threshold": near_threshold,
    "eligible_not_activated": eligible_not_activated,
    "revenue_concentration": revenue_concentration,
    "deliverables": deliverables,
    "invoices": invoices,
    "guideline_strikes": guideline_strikes,
    "stale_metrics": stale_metrics,
}


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
    open_alerts = dict(db_session.execute(select(Alert.dedup_key, Alert.id).where(
        Alert.status != AlertStatus.resolved)).all())
    result = AlertRunResult()
    now = utcnow()
    new = [c for key, c in conditions.items() if key not in open_alerts]
    cleared = [alert_id for key, alert_id in open_alerts.items() if key not in conditions]
    if cleared:
        db_session.query(Alert).filter(Alert.id.in_(cleared)).update(
            {Alert.status: AlertStatus.resolved, Alert.resolved_at: now}, synchronize_session=False)
    if new:
        bulk_insert(db_session.connection(), Alert.__table__, [
            {"kind": c.kind.value, "severity": c.severity.value, "creator_id": c.creator_id, "dedup_key": c.dedup_key,
             "subject": c.subject[:300], "message": c.message, "payload": c.payload, "status": "open",
             "opened_at": now} for c in new])
        result.opened_ids = list(db_session.scalars(select(Alert.id).where(
            Alert.dedup_key.in_([c.dedup_key for c in new]), Alert.status == AlertStatus.open)))
    result.opened, result.resolved = len(new), len(cleared)
    for condition in new:
        ALERTS_OPENED.labels(kind=condition.kind.value).inc()
    result.still_open = len(open_alerts) - len(cleared)
    return result


# --- lifecycle by users ---------------------------------------------------------------------

def get_alert(*, db_session: Session, alert_id: int) -> Alert:
    alert = db_session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} not found.")
    return alert


def _check_can_act(user: User, alert: Alert, db_session: Session) -> None:
    from agency.models import Role

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
        alert.status, alert.acknowledged_at, alert.acknowledged_by_id = AlertStatus.acknowledged, utcnow(), actor.user.id
        record_audit(db_session=db_session, actor=actor, action="alert.acknowledge", entity_type="alert",
                     entity_id=alert.id, after={"status": "acknowledged"})
    return alert


def resolve_alert(*, db_session: Session, actor: Actor, alert: Alert) -> Alert:
    """Resolve by hand; if the condition still holds, the next evaluation opens a new alert."""
    _check_can_act(actor.user, alert, db_session)
    if alert.status is not AlertStatus.resolved:
        alert.status, alert.resolved_at, alert.resolved_by_id = AlertStatus.resolved, utcnow(), actor.user.id
        record_audit(db_session=db_session, actor=actor, action="alert.resolve", entity_type="alert",
                     entity_id=alert.id, after={"status": "resolved"})
    return alert
