"""Alert evaluators: one set-based query per alert kind, each returning the conditions true right
now (service.evaluate_alerts turns them into open and resolved alerts)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from agency.alerts.models import AlertKind, Severity
from agency.deals.models import Deal, DealStage, Deliverable, DeliverableStatus
from agency.metrics.models import MetricSnapshot
from agency.money.diversification import latest_snapshots_query
from agency.money.models import DiversificationSnapshot, RiskLevel
from agency.programmes.explanation import explain_many
from agency.programmes.models import (
    ActivationStatus,
    EligibilityChange,
    EligibilityEvaluation,
    Program,
    ProgramActivation,
)
from agency.roster.models import Creator, CreatorStatus, GuidelineStrike, PlatformAccount


@dataclass
class AlertSettings:
    today: date
    transition_days: int = 7  # gained/lost alerts stay open this long
    deliverable_due_days: int = 3  # "due soon" horizon
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
    latest = (
        select(EligibilityChange.creator_id, EligibilityChange.program_id, func.max(EligibilityChange.id).label("id"))
        .where(EligibilityChange.change.in_(["gained", "lost"]))
        .group_by(EligibilityChange.creator_id, EligibilityChange.program_id)
        .subquery()
    )
    rows = session.execute(
        select(EligibilityChange, Creator.display_name, Program.name)
        .join(latest, latest.c.id == EligibilityChange.id)
        .join(Creator, Creator.id == EligibilityChange.creator_id)
        .join(Program, Program.id == EligibilityChange.program_id)
        .where(_active_creators(), EligibilityChange.as_of > s.today - timedelta(days=s.transition_days))
    ).all()
    out = []
    for change, name, program in rows:
        gained = change.change == "gained"
        criteria = ", ".join(c["label"] for c in change.changed_criteria) or "rules or data changed"
        out.append(
            Condition(
                AlertKind.eligibility_gained if gained else AlertKind.eligibility_lost,
                Severity.medium if gained else Severity.high,
                change.creator_id,
                f"program:{change.program_id}",
                f"{name} {'is now eligible for' if gained else 'lost'} {program}",
                f"{name} {'became eligible for' if gained else 'is no longer eligible for'} {program} on "
                f"{change.effective_on:%d %b %Y} ({criteria}).",
                {"program_id": change.program_id, "effective_on": change.effective_on.isoformat()},
            )
        )
    return out


def near_threshold(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(EligibilityEvaluation, Creator.display_name, Program.name)
        .join(Creator, Creator.id == EligibilityEvaluation.creator_id)
        .join(Program, Program.id == EligibilityEvaluation.program_id)
        .where(
            _active_creators(),
            EligibilityEvaluation.near_threshold.is_(True),
            EligibilityEvaluation.eligible.is_(False),
        )
    ).all()
    out = []
    documents = explain_many(session, [(ev.rule_version_id, ev.details) for ev, _name, _program in rows])
    for (ev, name, program), document in zip(rows, documents):
        gaps = "; ".join(
            f"{d['label']}: needs {d['gap']:,} more"
            for d in document
            if not d["passed"] and isinstance(d.get("gap"), (int, float))
        )
        eta = f" Estimated crossing: {ev.eta:%d %b %Y}." if ev.eta else ""
        out.append(
            Condition(
                AlertKind.near_threshold,
                Severity.low,
                ev.creator_id,
                f"program:{ev.program_id}",
                f"{name} is close to {program}",
                f"{name} is close to {program}: {gaps}.{eta}",
                {"program_id": ev.program_id, "eta": ev.eta.isoformat() if ev.eta else None},
            )
        )
    return out


def eligible_not_activated(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(
            EligibilityEvaluation.creator_id,
            EligibilityEvaluation.program_id,
            Creator.display_name,
            Program.name,
            Program.activation_path,
        )
        .join(Creator, Creator.id == EligibilityEvaluation.creator_id)
        .join(Program, Program.id == EligibilityEvaluation.program_id)
        .outerjoin(
            ProgramActivation,
            and_(
                ProgramActivation.creator_id == EligibilityEvaluation.creator_id,
                ProgramActivation.program_id == EligibilityEvaluation.program_id,
            ),
        )
        .where(
            _active_creators(),
            EligibilityEvaluation.eligible.is_(True),
            or_(
                ProgramActivation.id.is_(None),
                ProgramActivation.status.in_([ActivationStatus.not_applied, ActivationStatus.rejected]),
            ),
        )
    ).all()
    return [
        Condition(
            AlertKind.eligible_not_activated,
            Severity.medium,
            r.creator_id,
            f"program:{r.program_id}",
            f"{r.display_name} is eligible for {r.name} but has not activated it",
            f"{r.display_name} qualifies for {r.name} but it is not active: money left on the table. "
            f"Activate it in the app: {r.activation_path or 'see the programme page'}.",
            {"program_id": r.program_id},
        )
        for r in rows
    ]


def revenue_concentration(session: Session, s: AlertSettings) -> list[Condition]:
    snapshots = session.execute(
        latest_snapshots_query()
        .add_columns(Creator.display_name)
        .join(Creator, Creator.id == DiversificationSnapshot.creator_id)
        .where(_active_creators())
    ).all()
    out = []
    for snap, name in snapshots:
        if snap.risk_level is RiskLevel.no_data:
            continue
        if snap.hhi >= s.hhi_high:
            out.append(
                Condition(
                    AlertKind.concentration_risk,
                    Severity.medium,
                    snap.creator_id,
                    "sources",
                    f"{name} depends on one income source",
                    f"{int(snap.top_source_share * 100)}% of {name}'s revenue over {snap.window_days} days "
                    f"comes from {snap.top_source} (HHI {snap.hhi}). {snap.suggestion}",
                    {"hhi": str(snap.hhi), "top_source": snap.top_source},
                )
            )
        if snap.top_platform_share >= s.platform_high:
            out.append(
                Condition(
                    AlertKind.platform_dependency,
                    Severity.medium,
                    snap.creator_id,
                    f"platform:{snap.top_platform}",
                    f"{name} depends on {snap.top_platform}",
                    f"{int(snap.top_platform_share * 100)}% of {name}'s revenue comes from "
                    f"{snap.top_platform}. {snap.suggestion}",
                    {"platform": snap.top_platform, "share": str(snap.top_platform_share)},
                )
            )
    return out


def deliverables(session: Session, s: AlertSettings) -> list[Condition]:
    open_deal = Deal.stage.not_in([DealStage.cancelled, DealStage.lost, DealStage.paid])
    rows = session.execute(
        select(Deliverable, Deal.title, Deal.creator_id, Creator.display_name)
        .join(Deal, Deal.id == Deliverable.deal_id)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(
            _active_creators(),
            open_deal,
            Deal.archived_at.is_(None),
            Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
            Deliverable.due_date <= s.today + timedelta(days=s.deliverable_due_days),
        )
    ).all()
    out = []
    for d, title, creator_id, name in rows:
        overdue = d.due_date < s.today
        out.append(
            Condition(
                AlertKind.deliverable_overdue if overdue else AlertKind.deliverable_due,
                Severity.high if overdue else Severity.medium,
                creator_id,
                f"deliverable:{d.id}",
                f"{name}: {d.kind.value} for '{title}' {'is overdue' if overdue else 'is due soon'}",
                f"The {d.platform.value} {d.kind.value} for '{title}' was due on {d.due_date:%d %b %Y}."
                if overdue
                else f"The {d.platform.value} {d.kind.value} for '{title}' is due on {d.due_date:%d %b %Y}.",
                {"deal_id": d.deal_id, "deliverable_id": d.id, "due_date": d.due_date.isoformat()},
            )
        )
    return out


def invoices(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(Deal, Creator.display_name)
        .join(Creator, Creator.id == Deal.creator_id)
        .where(
            _active_creators(),
            Deal.archived_at.is_(None),
            Deal.stage == DealStage.invoiced,
            Deal.invoiced_on < s.today - timedelta(days=s.invoice_overdue_days),
        )
    ).all()
    return [
        Condition(
            AlertKind.invoice_overdue,
            Severity.high,
            deal.creator_id,
            f"deal:{deal.id}",
            f"Invoice for '{deal.title}' ({name}) is unpaid",
            f"'{deal.title}' with {deal.brand.name} was invoiced on {deal.invoiced_on:%d %b %Y} "
            f"({deal.fee_amount} {deal.fee_currency}) and is still unpaid.",
            {"deal_id": deal.id},
        )
        for deal, name in rows
    ]


def guideline_strikes(session: Session, s: AlertSettings) -> list[Condition]:
    rows = session.execute(
        select(GuidelineStrike, Creator.display_name, Creator.guideline_standing)
        .join(Creator)
        .where(_active_creators(), GuidelineStrike.occurred_on > s.today - timedelta(days=s.strike_days))
    ).all()
    return [
        Condition(
            AlertKind.guideline_strike,
            Severity.high,
            strike.creator_id,
            f"strike:{strike.id}",
            f"{name} received a community-guidelines strike",
            f"Strike on {strike.occurred_on:%d %b %Y}: {strike.reason or 'no reason recorded'}. "
            f"Standing is now {standing.value}; monetisation programmes may be at risk.",
            {"strike_id": strike.id},
        )
        for strike, name, standing in rows
    ]


def stale_metrics(session: Session, s: AlertSettings) -> list[Condition]:
    last = (
        select(MetricSnapshot.account_id, func.max(MetricSnapshot.day).label("day"))
        .group_by(MetricSnapshot.account_id)
        .subquery()
    )
    rows = session.execute(
        select(PlatformAccount, last.c.day, Creator.display_name)
        .join(Creator, Creator.id == PlatformAccount.creator_id)
        .outerjoin(last, last.c.account_id == PlatformAccount.id)
        .where(
            _active_creators(),
            Creator.status == CreatorStatus.active,
            or_(last.c.day.is_(None), last.c.day < s.today - timedelta(days=s.stale_days)),
        )
    ).all()
    return [
        Condition(
            AlertKind.metrics_stale,
            Severity.low,
            account.creator_id,
            f"account:{account.id}",
            f"No recent metrics for {name} on {account.platform.value}",
            f"The last {account.platform.value} snapshot for @{account.handle} is from {day:%d %b %Y}."
            if day
            else f"@{account.handle} on {account.platform.value} has no metrics yet.",
            {"account_id": account.id, "last_day": day.isoformat() if day else None},
        )
        for account, day, name in rows
    ]


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
