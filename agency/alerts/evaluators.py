"""Alert evaluators: for each kind of condition, one SQL statement over a chunk of creators
finding every condition true right now, and the words an alert about it says.

An evaluator's statement yields, per condition: its kind, severity, creator, a subject key (what
the alert is about: a programme, a deliverable, an account...) and the alert's subject, message
and payload themselves, worded in SQL from text joined together (names, titles, days, amounts,
shares, criterion labels), or, for near-threshold alerts, whose message explains the criteria of a
rule version, the facts it is worded from in Python, as a small JSON object.
service.evaluate_alerts keeps only what changed in a chunk (its new conditions, and its open alerts
whose condition cleared, which it resolves in SQL) and words only the alerts it opens (the
statement builds facts and words only for conditions without an open alert): a run that changes
nothing reads the conditions and writes no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import (
    CTE,
    JSON,
    Date,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session

from agency.alerts.models import AlertKind, Severity
from agency.core.portable_sql import day_number, day_text, decimal_text, joined_labels, json_object, json_value
from agency.currencies.service import minor_unit_sql
from agency.deals.models import Brand, Deal, DealStage, Deliverable, DeliverableStatus
from agency.metrics.models import MetricSnapshot
from agency.money.chain_models import Agreement, Invoice, InvoiceKind, InvoiceStatus
from agency.money.models import DiversificationSnapshot, RiskLevel
from agency.programmes.explanation import explain_many
from agency.programmes.models import (
    ActivationStatus,
    EligibilityChange,
    EligibilityEvaluation,
    Program,
    ProgramActivation,
)
from agency.roster.models import CreatorStatus, GuidelineStrike, PlatformAccount


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

    @classmethod
    def from_config(cls, config, today: date) -> AlertSettings:
        return cls(
            today=today, hhi_high=Decimal(config.risk_hhi_high), platform_high=Decimal(config.risk_platform_high)
        )


@dataclass(frozen=True)
class Wording:
    subject: str
    message: str
    payload: dict


@dataclass(frozen=True)
class ChunkSources:
    """What every kind's statement reads of the chunk, shared by the kinds of one statement."""

    in_chunk: Callable  # a column of creator ids -> the condition that it is in the chunk
    creators: Table  # the chunk's creators, with what alerts say of them (service.py)
    # The chunk's evaluations eligible or near a threshold, read once for the two kinds about them
    # (wide rows, with their documents: reading them once rather than once per kind saved a tenth
    # of an unchanged run at 100,000 creators)
    evaluations: CTE

    @classmethod
    def of(cls, in_chunk: Callable, creators: Table) -> ChunkSources:
        evaluation = EligibilityEvaluation
        near = and_(evaluation.near_threshold.is_(True), evaluation.eligible.is_(False))
        evaluations = (
            select(
                evaluation.creator_id,
                evaluation.program_id,
                evaluation.eligible,
                near.label("near"),
                evaluation.eta,
                evaluation.rule_version_id,
                case((near, evaluation.details)).label("details"),  # what a near alert explains
            )
            .where(in_chunk(evaluation.creator_id), or_(evaluation.eligible.is_(True), near))
            .cte("chunk_evaluations")
        )
        return cls(in_chunk, creators, evaluations)


@dataclass(frozen=True)
class Evaluator:
    """One kind of condition (or two sides of one, such as due and overdue)."""

    name: str
    kinds: tuple[AlertKind, ...]
    # (settings, the chunk's sources) -> a select of kind, severity, creator_id, subject_key,
    # facts, subject, message, payload (`_row` or `_worded_row`)
    conditions: Callable
    # (the facts of the alerts a run opens, session) -> their wordings, in order, reading what they
    # need once for all (a run opens thousands); None for a kind whose statement words its alerts
    # itself (`_worded_row`)
    word: Callable[[list[dict], Session], list[Wording]] | None = None


def _row(kind, severity, creator_id, subject_key, **facts):
    """A condition worded in Python: its facts, as a JSON object."""
    return (
        *_key(kind, severity, creator_id, subject_key),
        json_object(*_pairs(facts)).label("facts"),
        cast(null(), String(300)).label("subject"),
        cast(null(), Text).label("message"),
        cast(null(), JSON).label("payload"),
    )


def _worded_row(kind, severity, creator_id, subject_key, *, subject, message, payload: dict):
    """A condition worded in SQL: the alert's subject (at most 300 characters), message and
    payload, from text joined together in the statement."""
    return (
        *_key(kind, severity, creator_id, subject_key),
        cast(null(), JSON).label("facts"),
        func.substr(subject, 1, 300).label("subject"),
        message.label("message"),
        json_object(*_pairs(payload)).label("payload"),
    )


def _key(kind, severity, creator_id, subject_key):
    return (
        cast(kind, String(32)).label("kind"),
        cast(severity, String(16)).label("severity"),
        creator_id.label("creator_id"),
        cast(subject_key, String(120)).label("subject_key"),
    )


def _pairs(values: dict) -> list:
    return [item for name, value in values.items() for item in (literal(name), value)]


def _active(chunk: ChunkSources):
    # The chunk is stated on the table each statement starts from; its creators are joined from
    # `chunk.creators`, the chunk's own (a small table analysed per chunk, service.py), so no kind
    # reads or hashes the whole roster's creators, and the join is planned with the chunk's real size.
    return chunk.creators.c.active.is_(True)


def _day(value) -> str:
    """A day (ISO text) as messages write it, "05 Mar 2026": the near-threshold crossing worded in
    Python; `_day_sql` is the same words in SQL."""
    return date.fromisoformat(value).strftime("%d %b %Y") if value else "an unknown day"


def _day_sql(value):
    return func.coalesce(day_text(value), "an unknown day")


# --- eligibility --------------------------------------------------------------------------------


def _transitions(s: AlertSettings, chunk: ChunkSources):
    changes = EligibilityChange.__table__.alias("changes")
    latest = (
        select(func.max(changes.c.id))
        .where(chunk.in_chunk(changes.c.creator_id), changes.c.change.in_(["gained", "lost"]))
        .group_by(changes.c.creator_id, changes.c.program_id)
    )
    gained = EligibilityChange.change == "gained"
    name, program = chunk.creators.c.display_name, Program.name
    # What changed: the labels of the criteria that flipped, in order.
    criteria = func.coalesce(joined_labels(EligibilityChange.changed_criteria, ", "), "rules or data changed")
    # Worded here: "<name> is now eligible for <programme>" / "<name> lost <programme>".
    return (
        select(
            *_worded_row(
                case((gained, AlertKind.eligibility_gained.value), else_=AlertKind.eligibility_lost.value),
                case((gained, Severity.medium.value), else_=Severity.high.value),
                EligibilityChange.creator_id,
                literal("program:") + cast(EligibilityChange.program_id, String),
                subject=name + case((gained, " is now eligible for "), else_=" lost ") + program,
                message=name
                + case((gained, " became eligible for "), else_=" is no longer eligible for ")
                + program
                + " on "
                + _day_sql(EligibilityChange.effective_on)
                + " ("
                + criteria
                + ").",
                payload={
                    "program_id": EligibilityChange.program_id,
                    "effective_on": cast(EligibilityChange.effective_on, String),
                },
            )
        )
        .join(chunk.creators, chunk.creators.c.id == EligibilityChange.creator_id)
        .join(Program, Program.id == EligibilityChange.program_id)
        .where(
            EligibilityChange.id.in_(latest),
            _active(chunk),
            EligibilityChange.as_of > s.today - timedelta(days=s.transition_days),
        )
    )


def _near(s: AlertSettings, chunk: ChunkSources):
    evaluation = chunk.evaluations.c
    return (
        select(
            *_row(
                literal(AlertKind.near_threshold.value),
                literal(Severity.low.value),
                evaluation.creator_id,
                literal("program:") + cast(evaluation.program_id, String),
                name=chunk.creators.c.display_name,
                program=Program.name,
                program_id=evaluation.program_id,
                eta=cast(evaluation.eta, String),
                rule_version_id=evaluation.rule_version_id,
                results=json_value(evaluation.details),
            )
        )
        .join(chunk.creators, chunk.creators.c.id == evaluation.creator_id)
        .join(Program, Program.id == evaluation.program_id)
        .where(_active(chunk), evaluation.near.is_(True))
    )


def _word_near(many: list[dict], session) -> list[Wording]:
    # The explanations of every condition at once, their rule versions read in bulk; without the
    # accounts, which the words never name (reading them was about 0.35 s of a run opening 17,542
    # near-threshold alerts at 100,000 creators).
    documents = explain_many(
        session, [(facts["rule_version_id"], facts["results"]) for facts in many], with_accounts=False
    )
    return [_near_wording(facts, document) for facts, document in zip(many, documents)]


def _near_wording(facts: dict, document: list[dict]) -> Wording:
    gaps = "; ".join(
        f"{d['label']}: needs {d['gap']:,} more"
        for d in document
        if not d["passed"] and isinstance(d.get("gap"), (int, float))
    )
    eta = (
        f" Estimated crossing: {_day(facts['eta'])}{_how_estimated(document, facts['eta'])}."
        if facts.get("eta")
        else ""
    )
    name, program = facts["name"], facts["program"]
    return Wording(
        f"{name} is close to {program}",
        f"{name} is close to {program}: {gaps}.{eta}",
        {"program_id": facts["program_id"], "eta": facts.get("eta")},
    )


def _how_estimated(document: list[dict], eta: str) -> str:
    """How the date was reached, from the failing criterion that sets it (the latest of their dates):
    the forecast's method and how many days of data it rests on, or a birthday."""
    failing = [d for d in document if not d["passed"]]
    for d in [*failing, *(child for f in failing for child in f.get("criteria", ()))]:
        if d["passed"] or d.get("eta") != eta:
            continue
        forecast = d.get("forecast")
        if forecast and forecast["method"] == "least_squares_trend":
            return f" (least-squares trend over {forecast['history_days']} days of data)"
        if forecast:
            return (
                f" (the trailing {d['window_days']}-day window, least-squares trend over "
                f"{forecast['history_days']} days of data)"
            )
        if d["kind"] == "age":
            return " (a birthday)"
    return ""


def _not_activated(s: AlertSettings, chunk: ChunkSources):
    activation, evaluation = ProgramActivation, chunk.evaluations.c
    name, program = chunk.creators.c.display_name, Program.name
    # Worded here: "<name> is eligible for <programme> but has not activated it".
    path = func.coalesce(func.nullif(Program.activation_path, ""), "see the programme page")
    return (
        select(
            *_worded_row(
                literal(AlertKind.eligible_not_activated.value),
                literal(Severity.medium.value),
                evaluation.creator_id,
                literal("program:") + cast(evaluation.program_id, String),
                subject=name + " is eligible for " + program + " but has not activated it",
                message=name
                + " qualifies for "
                + program
                + " but it is not active: money left on the table. Activate it in the app: "
                + path
                + ".",
                payload={"program_id": evaluation.program_id},
            )
        )
        .join(chunk.creators, chunk.creators.c.id == evaluation.creator_id)
        .join(Program, Program.id == evaluation.program_id)
        .outerjoin(
            activation,
            and_(
                activation.creator_id == evaluation.creator_id,
                activation.program_id == evaluation.program_id,
                chunk.in_chunk(activation.creator_id),
            ),
        )
        .where(
            _active(chunk),
            evaluation.eligible.is_(True),
            or_(
                activation.id.is_(None),
                activation.status.in_([ActivationStatus.not_applied, ActivationStatus.rejected]),
            ),
        )
    )


# --- income mix ---------------------------------------------------------------------------------


def _latest_snapshots(chunk: ChunkSources):
    # Each creator's latest snapshot: the chunk's snapshots with no later one for their creator,
    # an anti-join through the (creator, day) key, within the chunk (hashed, it reads the chunk's
    # snapshots, not the roster's).
    later = DiversificationSnapshot.__table__.alias("later")
    is_latest = ~exists().where(
        later.c.creator_id == DiversificationSnapshot.creator_id,
        chunk.in_chunk(later.c.creator_id),
        later.c.as_of > DiversificationSnapshot.as_of,
    )
    return (
        select(DiversificationSnapshot.__table__, chunk.creators.c.display_name)
        .join(chunk.creators, chunk.creators.c.id == DiversificationSnapshot.creator_id)
        .where(
            chunk.in_chunk(DiversificationSnapshot.creator_id),
            _active(chunk),
            is_latest,
            DiversificationSnapshot.risk_level != RiskLevel.no_data,
        )
        .subquery("latest")
    )


def _percent(share):
    """A share as the whole percent people read ("0.5790" -> 57, truncated): the digits of the
    share rounded to four places, without its point, divided by 100 (exact on both dialects)."""
    return cast(cast(func.replace(decimal_text(share, 4), ".", ""), Integer) // 100, String)


def _suggested(text, suggestion):
    """A message followed by the snapshot's suggestion (none: no trailing space)."""
    return func.rtrim(text + ". " + suggestion)


def _concentration(s: AlertSettings, chunk: ChunkSources):
    snap = _latest_snapshots(chunk)
    name, hhi = snap.c.display_name, decimal_text(snap.c.hhi, 4)
    effective = decimal_text(snap.c.effective_sources, 2)
    # Worded here: "<name> depends on one income source".
    return select(
        *_worded_row(
            literal(AlertKind.concentration_risk.value),
            literal(Severity.medium.value),
            snap.c.creator_id,
            literal("sources"),
            subject=name + " depends on one income source",
            message=_suggested(
                _percent(snap.c.top_source_share)
                + "% of "
                + name
                + "'s income over "
                + cast(snap.c.window_days, String)
                + " days comes from "
                + func.replace(snap.c.top_source, "_", " ")
                + " (HHI "
                + hhi
                + func.coalesce(", worth " + effective + " equal sources", "")
                + ")",
                snap.c.suggestion,
            ),
            payload={"hhi": hhi, "effective_sources": effective, "top_source": snap.c.top_source},
        )
    ).where(snap.c.hhi >= s.hhi_high)


def _platform_dependency(s: AlertSettings, chunk: ChunkSources):
    snap = _latest_snapshots(chunk)
    name, platform = snap.c.display_name, snap.c.top_platform
    # Platform income only: income with no platform (merch, courses...) never makes a platform.
    # Worded here: "<name> depends on <platform>".
    return select(
        *_worded_row(
            literal(AlertKind.platform_dependency.value),
            literal(Severity.medium.value),
            snap.c.creator_id,
            literal("platform:") + platform,
            subject=name + " depends on " + platform,
            message=_suggested(
                _percent(snap.c.top_platform_share)
                + "% of "
                + name
                + "'s platform income ("
                + decimal_text(snap.c.platform_total, 2)
                + " of "
                + decimal_text(snap.c.total, 2)
                + " "
                + snap.c.currency
                + " in all) comes from "
                + platform,
                snap.c.suggestion,
            ),
            payload={"platform": platform, "share": decimal_text(snap.c.top_platform_share, 4)},
        )
    ).where(platform.is_not(None), snap.c.top_platform_share >= s.platform_high)


# --- deals --------------------------------------------------------------------------------------


def _deliverables(s: AlertSettings, chunk: ChunkSources):
    overdue = Deliverable.due_date < s.today
    name, title = chunk.creators.c.display_name, Deal.title
    deliverable, platform = cast(Deliverable.kind, String), cast(Deliverable.platform, String)
    # Worded here: "<name>: video for '<deal>' is overdue" / "is due soon".
    return (
        select(
            *_worded_row(
                case((overdue, AlertKind.deliverable_overdue.value), else_=AlertKind.deliverable_due.value),
                case((overdue, Severity.high.value), else_=Severity.medium.value),
                Deal.creator_id,
                literal("deliverable:") + cast(Deliverable.id, String),
                subject=name
                + ": "
                + deliverable
                + " for '"
                + title
                + "' "
                + case((overdue, "is overdue"), else_="is due soon"),
                message="The "
                + platform
                + " "
                + deliverable
                + " for '"
                + title
                + "' "
                + case((overdue, "was"), else_="is")
                + " due on "
                + _day_sql(Deliverable.due_date)
                + ".",
                payload={
                    "deal_id": Deal.id,
                    "deliverable_id": Deliverable.id,
                    "due_date": cast(Deliverable.due_date, String),
                },
            )
        )
        .join(Deal, Deal.id == Deliverable.deal_id)
        .join(chunk.creators, chunk.creators.c.id == Deal.creator_id)
        .where(
            chunk.in_chunk(Deal.creator_id),
            _active(chunk),
            Deal.stage.not_in([DealStage.cancelled, DealStage.lost, DealStage.paid]),
            Deal.archived_at.is_(None),
            Deliverable.status.not_in([DeliverableStatus.published, DeliverableStatus.cancelled]),
            Deliverable.due_date <= s.today + timedelta(days=s.deliverable_due_days),
        )
    )


def _invoices(s: AlertSettings, chunk: ChunkSources):
    name, title = chunk.creators.c.display_name, Deal.title
    fee = decimal_text(Deal.fee_amount, minor_unit_sql(Deal.fee_currency))
    # Worded here: "Invoice for '<deal>' (<name>) is unpaid".
    return (
        select(
            *_worded_row(
                literal(AlertKind.invoice_overdue.value),
                literal(Severity.high.value),
                Deal.creator_id,
                literal("deal:") + cast(Deal.id, String),
                subject="Invoice for '" + title + "' (" + name + ") is unpaid",
                message="'"
                + title
                + "' with "
                + Brand.name
                + " was invoiced on "
                + _day_sql(Deal.invoiced_on)
                + " ("
                + fee
                + " "
                + Deal.fee_currency
                + ") and is still unpaid.",
                payload={"deal_id": Deal.id},
            )
        )
        .join(chunk.creators, chunk.creators.c.id == Deal.creator_id)
        .join(Brand, Brand.id == Deal.brand_id)
        .where(
            chunk.in_chunk(Deal.creator_id),
            _active(chunk),
            Deal.archived_at.is_(None),
            Deal.stage == DealStage.invoiced,
            Deal.invoiced_on < s.today - timedelta(days=s.invoice_overdue_days),
            # A deal with an issued invoice is chased by its invoice's reminders instead.
            ~exists().where(
                Invoice.deal_id == Deal.id,
                Invoice.kind == InvoiceKind.invoice,
                Invoice.status != InvoiceStatus.draft,
                Invoice.status != InvoiceStatus.void,
            ),
        )
    )


REMINDER_DAYS = (30, 14, 7)  # days after the due date; one alert at each, the later replacing the earlier


def _invoice_reminders(s: AlertSettings, chunk: ChunkSources):
    """An issued invoice still owing money 7, 14 and 30 days after its due date: one alert per
    step (its subject key names the step), so each reminder is opened, and emailed, once."""
    step = case(
        *[(Invoice.due_on <= s.today - timedelta(days=days), literal(str(days))) for days in REMINDER_DAYS[:-1]],
        else_=literal(str(REMINDER_DAYS[-1])),
    )
    number, brand = func.coalesce(Invoice.number, "(unnumbered)"), Brand.name
    owed = decimal_text(Invoice.total - Invoice.amount_paid - Invoice.amount_credited, minor_unit_sql(Invoice.currency))
    # Worded here: "Chase invoice <number> (<brand>): <step> days past due".
    return (
        select(
            *_worded_row(
                literal(AlertKind.invoice_reminder.value),
                literal(Severity.high.value),
                Invoice.creator_id,
                literal("invoice:") + cast(Invoice.id, String) + literal(":") + step,
                subject="Chase invoice " + number + " (" + brand + "): " + step + " days past due",
                message="Invoice "
                + number
                + " to "
                + brand
                + " for "
                + chunk.creators.c.display_name
                + " was due on "
                + _day_sql(Invoice.due_on)
                + "; "
                + owed
                + " "
                + Invoice.currency
                + " is still owed, "
                + step
                + " days later. Open it at /money/invoices/"
                + cast(Invoice.id, String)
                + " to print it or record the payment.",
                payload={
                    "invoice_id": Invoice.id,
                    "step_days": cast(step, Integer),
                    "due_on": cast(Invoice.due_on, String),
                },
            )
        )
        .join(chunk.creators, chunk.creators.c.id == Invoice.creator_id)
        .join(Brand, Brand.id == Invoice.brand_id)
        .where(
            chunk.in_chunk(Invoice.creator_id),
            Invoice.kind == InvoiceKind.invoice,
            Invoice.status.in_([InvoiceStatus.issued, InvoiceStatus.partially_paid]),
            Invoice.due_on <= s.today - timedelta(days=REMINDER_DAYS[-1]),
        )
    )


def _agreement_renewals(s: AlertSettings, chunk: ChunkSources):
    days_left = day_number(Agreement.ends_on) - day_number(literal(s.today, Date))
    name, ends = chunk.creators.c.display_name, _day_sql(Agreement.ends_on)
    # Worded here: "<name>'s representation agreement ends on <day>".
    return (
        select(
            *_worded_row(
                literal(AlertKind.agreement_renewal.value),
                literal(Severity.medium.value),
                Agreement.creator_id,
                literal("agreement:") + cast(Agreement.id, String),
                subject=name + "'s representation agreement ends on " + ends,
                message="The representation agreement with "
                + name
                + " ends on "
                + ends
                + ": agree a renewal (or its end) before then.",
                payload={"agreement_id": Agreement.id, "ends_on": cast(Agreement.ends_on, String)},
            )
        )
        .join(chunk.creators, chunk.creators.c.id == Agreement.creator_id)
        .where(
            chunk.in_chunk(Agreement.creator_id),
            _active(chunk),
            Agreement.archived_at.is_(None),
            Agreement.ends_on >= s.today,
            days_left <= Agreement.renewal_notice_days,
        )
    )


# --- roster -------------------------------------------------------------------------------------


def _strikes(s: AlertSettings, chunk: ChunkSources):
    name = chunk.creators.c.display_name
    reason = func.coalesce(func.nullif(GuidelineStrike.reason, ""), "no reason recorded")
    # Worded here: "<name> received a community-guidelines strike".
    return (
        select(
            *_worded_row(
                literal(AlertKind.guideline_strike.value),
                literal(Severity.high.value),
                GuidelineStrike.creator_id,
                literal("strike:") + cast(GuidelineStrike.id, String),
                subject=name + " received a community-guidelines strike",
                message="Strike on "
                + _day_sql(GuidelineStrike.occurred_on)
                + ": "
                + reason
                + ". Standing is now "
                + chunk.creators.c.guideline_standing
                + "; monetisation programmes may be at risk.",
                payload={"strike_id": GuidelineStrike.id},
            )
        )
        .join(chunk.creators, chunk.creators.c.id == GuidelineStrike.creator_id)
        .where(
            chunk.in_chunk(GuidelineStrike.creator_id),
            _active(chunk),
            GuidelineStrike.occurred_on > s.today - timedelta(days=s.strike_days),
        )
    )


def _stale_metrics(s: AlertSettings, chunk: ChunkSources):
    # Stale: no snapshot in the last `stale_days` days: one probe of the (account, day) key in the
    # newest partitions per account of the chunk (a correlated subquery with a limit is always
    # probed per account: an EXISTS could be planned as a hash of every account's recent snapshots,
    # the whole roster's, in every chunk); the last day (the message's fact) is read for the stale
    # accounts without an open alert only (service._conditions_select).
    recent = (
        select(literal(1))
        .where(
            MetricSnapshot.account_id == PlatformAccount.id,
            MetricSnapshot.day >= s.today - timedelta(days=s.stale_days),
        )
        .limit(1)
        .scalar_subquery()
    )
    last_day = (
        select(func.max(MetricSnapshot.day)).where(MetricSnapshot.account_id == PlatformAccount.id).scalar_subquery()
    )
    platform, handle = cast(PlatformAccount.platform, String), PlatformAccount.handle
    # Worded here: "No recent metrics for <name> on <platform>".
    return (
        select(
            *_worded_row(
                literal(AlertKind.metrics_stale.value),
                literal(Severity.low.value),
                PlatformAccount.creator_id,
                literal("account:") + cast(PlatformAccount.id, String),
                subject="No recent metrics for " + chunk.creators.c.display_name + " on " + platform,
                message=func.coalesce(
                    "The last " + platform + " snapshot for @" + handle + " is from " + day_text(last_day) + ".",
                    "@" + handle + " on " + platform + " has no metrics yet.",
                ),
                payload={"account_id": PlatformAccount.id, "last_day": cast(last_day, String)},
            )
        )
        .join(chunk.creators, chunk.creators.c.id == PlatformAccount.creator_id)
        .where(
            chunk.in_chunk(PlatformAccount.creator_id),
            _active(chunk),
            chunk.creators.c.status == CreatorStatus.active.value,
            recent.is_(None),
        )
    )


EVALUATORS: tuple[Evaluator, ...] = (
    Evaluator("eligibility_transitions", (AlertKind.eligibility_gained, AlertKind.eligibility_lost), _transitions),
    Evaluator("near_threshold", (AlertKind.near_threshold,), _near, _word_near),
    Evaluator("eligible_not_activated", (AlertKind.eligible_not_activated,), _not_activated),
    Evaluator("revenue_concentration", (AlertKind.concentration_risk,), _concentration),
    Evaluator("platform_dependency", (AlertKind.platform_dependency,), _platform_dependency),
    Evaluator("deliverables", (AlertKind.deliverable_due, AlertKind.deliverable_overdue), _deliverables),
    Evaluator("invoices", (AlertKind.invoice_overdue,), _invoices),
    Evaluator("invoice_reminders", (AlertKind.invoice_reminder,), _invoice_reminders),
    Evaluator("agreement_renewals", (AlertKind.agreement_renewal,), _agreement_renewals),
    Evaluator("guideline_strikes", (AlertKind.guideline_strike,), _strikes),
    Evaluator("stale_metrics", (AlertKind.metrics_stale,), _stale_metrics),
)
