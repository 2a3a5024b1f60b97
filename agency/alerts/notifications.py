"""Account-manager emails: preferences, daily digests and immediate alerts, through an outbox.

Emails are rows in `email_outbox`, written in the same transaction as what they report. The
sender (workers/mailer.py) claims rows, records the attempt, sends, then marks them sent. Every
message has a stable Message-ID, so a retry after a crash between "sent" and "marked sent" carries
the same ID: that one edge is at-least-once, and mail systems de-duplicate on Message-ID.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import BindParameter, Row, Select, and_, bindparam, case, func, literal, null, or_, select, update
from sqlalchemy.orm import Session

from agency.alerts.models import (
    Alert,
    AlertKind,
    AlertStatus,
    NotificationPreference,
    OutboxMessage,
    OutboxStatus,
    Severity,
)
from agency.core.database import UTCDateTime, bulk_insert, conflict_insert, utcnow
from agency.core.users.models import CreatorInvitation, Role, User
from agency.roster.chunks import bisect_failures, failure_text, savepoint
from agency.roster.models import Creator

# What an email says of an alert, with its creator's name and manager, and the invoice a reminder
# chases (its PDF is attached): read out of the payload in SQL, rather than every alert's payload
# decoded in Python (45,724 alerts emailed at once by a run at 100,000 creators).
MAILED_FIELDS = (
    Alert.id,
    Alert.kind,
    Alert.severity,
    Alert.creator_id,
    Alert.subject,
    Alert.message,
    case((Alert.kind == AlertKind.invoice_reminder, Alert.payload["invoice_id"].as_integer())).label("invoice_id"),
    Creator.display_name,
    Creator.manager_id,
)
SEVERITY_ORDER = {Severity.high: 0, Severity.medium: 1, Severity.low: 2}


@dataclass(slots=True)
class MailedAlert:
    """An alert as an email says it: a row of `MAILED_FIELDS`, read once into attributes (a
    result row's attributes are looked up by name, about a microsecond each: wording the 45,724
    alerts a run at 100,000 creators mails at once read a dozen per alert, 0.6 s)."""

    id: int
    kind: AlertKind
    severity: Severity
    creator_id: int
    subject: str
    message: str
    invoice_id: int | None
    display_name: str
    manager_id: int | None


def _mailed_alerts(db_session: Session, *conditions, order_by=()) -> list[MailedAlert]:
    """The alerts meeting `conditions`, with their creator's name and manager."""
    rows = db_session.execute(
        select(*MAILED_FIELDS).join(Creator, Creator.id == Alert.creator_id).where(*conditions).order_by(*order_by)
    )
    return [MailedAlert(*row) for row in rows]


def _default_preferences() -> dict:
    """What a manager who never set their preferences receives: every email, the digest at 8,
    high severity at once, nothing muted (stored as such the first time they are needed)."""
    return {"email_enabled": True, "digest_hour": 8, "immediate_severities": ["high"], "muted_kinds": []}


def preferences_for(db_session: Session, user: User) -> NotificationPreference:
    prefs = db_session.scalar(select(NotificationPreference).where(NotificationPreference.user_id == user.id))
    if prefs is None:
        prefs = NotificationPreference(user_id=user.id, **_default_preferences())
        db_session.add(prefs)
        db_session.flush()
    return prefs


def _recipients(db_session: Session, creator_ids: set[int]) -> dict[int, User]:
    """creator -> the manager who gets mail about them."""
    rows = db_session.execute(
        select(Creator.id, User)
        .join(User, User.id == Creator.manager_id)
        .where(Creator.id.in_(creator_ids), User.is_active.is_(True))
    ).all()
    return {creator_id: user for creator_id, user in rows}


def _render(user, alerts: list[MailedAlert], names: dict[int, str], public_url: str, title: str) -> tuple[str, str]:
    """Plain text and HTML bodies, grouped by creator then severity, each alert linking to the UI.
    `user` (a `User` or a row) has the recipient's `email` and `full_name`."""
    base = public_url.rstrip("/")
    html_base = escape(base)
    by_creator: dict[int, list] = defaultdict(list)
    for alert in alerts:
        # Sorted by severity, then id (unique: the words are never compared)
        by_creator[alert.creator_id].append(
            (SEVERITY_ORDER[alert.severity], alert.id, alert.severity.value.upper(), alert.subject, alert.message)
        )
    text_parts = [f"Hello {user.full_name or user.email},", "", title, ""]
    html_parts = [f"<p>Hello {escape(user.full_name or user.email)},</p><p>{escape(title)}</p>"]
    for creator_id in sorted(by_creator, key=lambda c: names.get(c, "")):
        name = names.get(creator_id, f"Creator {creator_id}")
        text_parts.append(f"== {name} ({base}/creators/{creator_id})")
        html_parts.append(f'<h3><a href="{html_base}/creators/{creator_id}">{escape(name)}</a></h3><ul>')
        for _rank, alert_id, label, subject, message in sorted(by_creator[creator_id]):
            text_parts.append(f"  [{label}] {subject}\n      {message}\n      {base}/alerts/{alert_id}")
            html_parts.append(
                f'<li><strong>{label}</strong> <a href="{html_base}/alerts/{alert_id}">{escape(subject)}</a>'
                f"<br>{escape(message)}</li>"
            )
        html_parts.append("</ul>")
        text_parts.append("")
    text_parts.append(f"Change what you receive: {base}/settings/notifications")
    html_parts.append(
        f'<p style="color:#52606d"><a href="{html_base}/settings/notifications">Change what you receive</a></p>'
    )
    return "\n".join(text_parts), "<html><body>" + "".join(html_parts) + "</body></html>"


ATTACHED_TEXT = "\nThe invoice to chase is attached as a PDF, as it was issued.\n"
ATTACHED_HTML = "<p>The invoice to chase is attached as a PDF, as it was issued.</p>"


def invoice_attachments(alerts: list[MailedAlert]) -> list[dict]:
    """The issued PDF of each invoice a reminder among `alerts` chases,
    at most ten per email."""
    ids = []
    for alert in alerts:
        if alert.invoice_id is not None and alert.invoice_id not in ids:
            ids.append(alert.invoice_id)
    return [{"kind": "invoice_pdf", "invoice_id": invoice_id} for invoice_id in ids[:10]]


def _wanted_severities(db_session: Session) -> set[str]:
    """Severities anyone receives at once (a manager without preferences gets "high"): a superset,
    each alert is still checked against its own manager's preferences."""
    wanted = {Severity.high.value}
    for severities in db_session.scalars(select(NotificationPreference.immediate_severities)):
        wanted.update(severities or [])
    return wanted


# What a manager receives at once, read off their preferences: the severities (none with email
# off) and the kinds muted.
AtOnce = tuple[frozenset[str], frozenset[str]]


def _at_once(prefs: NotificationPreference) -> AtOnce:
    severities = frozenset(prefs.immediate_severities or ()) if prefs.email_enabled else frozenset()
    return severities, frozenset(prefs.muted_kinds or ())


def _wants_at_once(at_once: AtOnce, kind: str, severity: str) -> bool:
    severities, muted = at_once
    return severity in severities and kind not in muted


def _managers_and_at_once(db_session: Session, manager_ids) -> tuple[dict[int, User], dict[int, AtOnce]]:
    """The active managers among `manager_ids`, and what each receives at once. Every manager's
    preferences are read at once, not once per alert (a recompute opens thousands), and turned
    into sets once per manager; a manager without any gets the defaults, stored."""
    managers = {
        user.id: user
        for user in db_session.scalars(select(User).where(User.id.in_(set(manager_ids)), User.is_active.is_(True)))
    }
    preferences = {
        prefs.user_id: prefs
        for prefs in db_session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id.in_(managers))
        )
    }
    for user_id, user in managers.items():
        if user_id not in preferences:
            preferences[user_id] = preferences_for(db_session, user)
    return managers, {user_id: _at_once(preferences[user_id]) for user_id in managers}


log = structlog.get_logger(__name__)


def _ids(ids) -> BindParameter:
    """Integer ids for an `IN`, written into the statement as literals rather than bound one by
    one: the statement writing a chunk's alerts names the managers of each kind and severity
    mailed at once, thousands of ids a chunk at 100,000 creators. Bound, each was processed by
    SQLAlchemy and converted by the driver: written as literals, a run from no alerts made 6%
    fewer Python calls (5.87 to 5.52 million) and the driver's query conversion took half as
    long under the profiler (0.90 to 0.45 s)."""
    return bindparam(None, sorted(ids), expanding=True, literal_execute=True)


# Alerts per immediate email at most: the alerts a run opens for one manager go out together, in
# emails of this many (a rule change that drops forty creators from a programme is one email, not
# forty; a list longer than this is split rather than cut).
IMMEDIATE_ALERTS = 50
# Alerts whose emails an evaluation writes at a time (a manager with more is written alone): each
# batch reads its managers' alerts of the run in one scan of the run's alerts, so fewer, larger
# batches read less (at 100,000 creators, 45,724 alerts mailed at once: ten batches of 100
# managers read them in 0.39 s), while what a batch holds stays bounded however large the roster.
IMMEDIATE_BATCH_ALERTS = 25_000


def _immediate_messages(user: User, alerts: list[MailedAlert], names: dict[int, str], public_url: str) -> list[dict]:
    """The immediate emails to `user` for `alerts` (in id order), the alerts one run opens
    for them: one email per `IMMEDIATE_ALERTS` alerts. An email of one alert is titled with it
    and identified by it (`<alert-ID@agency>`); one of several says how many, about how many
    creators, at the highest severity among them (`<alerts-FIRST_ID-COUNT@agency>`: an alert is
    in one email only, so its first alert identifies it)."""
    messages = []
    for start in range(0, len(alerts), IMMEDIATE_ALERTS):
        batch = alerts[start : start + IMMEDIATE_ALERTS]
        first = batch[0]
        if len(batch) == 1:
            subject, title = f"[{first.severity.value.upper()}] {first.subject}", "A new alert needs your attention:"
            message_id = f"<alert-{first.id}@agency>"
        else:
            severity = min((alert.severity for alert in batch), key=SEVERITY_ORDER.__getitem__)
            creators = len({alert.creator_id for alert in batch})
            about = "1 creator" if creators == 1 else f"{creators} creators"
            subject = f"[{severity.value.upper()}] {len(batch)} new alerts about {about}"
            title = f"{len(batch)} new alerts need your attention:"
            message_id = f"<alerts-{first.id}-{len(batch)}@agency>"
        text, html = _render(user, batch, names, public_url, title)
        files = invoice_attachments(batch)
        if files:
            text, html = text + ATTACHED_TEXT, html + ATTACHED_HTML
        messages.append(
            {
                "user_id": user.id,
                "kind": "immediate",
                "message_id": message_id,
                "recipient": user.email,
                "subject": subject[:300],
                "body_text": text,
                "body_html": html,
                "alert_ids": [alert.id for alert in batch],
                "attachments": files,
                "status": OutboxStatus.pending.value,
                "attempts": 0,
            }
        )
    return messages


def _immediate_emails_of(alerts: list[MailedAlert], managers: dict[int, User], public_url: str) -> list[dict]:
    """The immediate emails of `alerts`: each manager's alerts together, in id order
    (`_immediate_messages`); `managers` are their recipients."""
    by_manager: dict[int, list] = defaultdict(list)
    for alert in sorted(alerts, key=lambda a: a.id):
        by_manager[alert.manager_id].append(alert)
    names = {alert.creator_id: alert.display_name for alert in alerts}
    return [
        message
        for manager_id, theirs in by_manager.items()
        for message in _immediate_messages(managers[manager_id], theirs, names, public_url)
    ]


def queue_immediate(*, db_session: Session, alert_ids: list[int] | Select, public_url: str) -> int:
    """Immediate emails for new alerts whose severity the manager wants at once (same transaction).
    `alert_ids` is a list of ids or a select of them.
    A run may open thousands of alerts: only those of a severity some manager wants at once are
    read, as rows (not ORM objects) with their creator's name and manager, the emails written
    with one bulk insert and the alerts stamped with one update. (An evaluation stamps the alerts
    it opens as they are written instead: `ImmediateEmails`.)"""
    if isinstance(alert_ids, list) and not alert_ids:
        return 0
    alerts = _mailed_alerts(
        db_session,
        Alert.id.in_(alert_ids),
        Alert.notified_at.is_(None),
        Alert.severity.in_(sorted(_wanted_severities(db_session))),
        Creator.manager_id.is_not(None),
    )
    if not alerts:
        return 0
    managers, at_once = _managers_and_at_once(db_session, {a.manager_id for a in alerts})
    wanted = [
        alert
        for alert in alerts
        if alert.manager_id in at_once
        and _wants_at_once(at_once[alert.manager_id], alert.kind.value, alert.severity.value)
    ]
    messages = _immediate_emails_of(wanted, managers, public_url)
    notified = [alert.id for alert in wanted]
    if messages:
        # One COPY for every email (the outbox's send time and creation default to now).
        bulk_insert(db_session.connection(), OutboxMessage.__table__, messages)
        db_session.execute(update(Alert).where(Alert.id.in_(notified)).values(notified_at=utcnow()))
    return len(messages)


class ImmediateEmails:
    """The immediate emails of the alerts an evaluation opens, in two steps around their write:
    the new alerts a manager wants at once are marked as notified as they are written (each
    alert is written once, already stamped, instead of written and then updated): `stamp` on
    rows worded in Python, `notified_at` in the statement that writes the alerts worded in SQL;
    then, once every chunk is done, `queue` writes the emails of the alerts stamped (same
    transaction): each manager's alerts of the whole run together, as `queue_immediate` writes
    them for the same alerts. A manager whose emails fail is recorded in `failed`
    (`{"user_id", "error"}`) and their alerts are left for the next digest."""

    def __init__(self, db_session: Session, public_url: str) -> None:
        self.db_session, self.public_url = db_session, public_url
        self.queued = 0
        self.failed: list[dict] = []
        self._managers: dict[int, User] = {}  # the recipients of the alerts stamped
        # What each manager receives at once, read off their preferences once (`wants` is asked
        # for every kind, severity and manager of every chunk's new alerts: thousands of times).
        self._at_once: dict[int, AtOnce] = {}
        # What the evaluation has read (once: a roster's chunks share most managers): the
        # severities anyone receives at once, and the managers looked up, active or not.
        self._wanted: set[str] | None = None
        self._looked_up: set[int] = set()
        self._stamped: set[int] = set()  # the managers of the alerts stamped

    def severities(self) -> set[str]:
        """The severities anyone receives at once (read once per evaluation)."""
        if self._wanted is None:
            self._wanted = _wanted_severities(self.db_session)
        return self._wanted

    def recipients(self, groups) -> None:
        """Read, per chunk, the managers and preferences `stamp` and `notified_at` decide from:
        of the (kind, severity, manager id) of the alerts to be written, the managers of those of
        a severity anyone receives at once, each read once per evaluation (reading a thousand
        managers again in each of 20 chunks was 0.7 s of a run at 100,000 creators)."""
        wanted = self.severities()
        manager_ids = {manager_id for _kind, severity, manager_id in groups if severity in wanted}
        manager_ids -= self._looked_up | {None}
        if not manager_ids:
            return
        self._looked_up |= manager_ids
        managers, at_once = _managers_and_at_once(self.db_session, manager_ids)
        self._managers.update(managers)
        self._at_once.update(at_once)

    def wants(self, manager_id: int | None, kind: str, severity: str) -> bool:
        """Whether the creator's manager (read by `recipients`) gets this alert at once."""
        at_once = self._at_once.get(manager_id)
        return at_once is not None and _wants_at_once(at_once, kind, severity)

    def stamp(self, rows: list[dict], manager_ids: list[int | None], now: datetime) -> None:
        """Set `notified_at` to `now` on the alert rows (kind, severity) to be mailed at once;
        `manager_ids` are their creators' managers, in the same order."""
        for row, manager_id in zip(rows, manager_ids):
            if self.wants(manager_id, row["kind"], row["severity"]):
                row["notified_at"] = now
                self._stamped.add(manager_id)

    def notified_at(self, kind, severity, manager_id, groups, now: datetime):
        """The `notified_at` of alerts written by a statement, as an expression of their kind,
        severity and manager columns: `now` for those to be mailed at once, else null. `groups`
        are the (kind, severity, manager id) the statement writes."""
        wanted: dict[tuple[str, str], list[int]] = defaultdict(list)
        for group_kind, group_severity, group_manager in groups:
            if self.wants(group_manager, group_kind, group_severity):
                wanted[(group_kind, group_severity)].append(group_manager)
        if not wanted:
            return null()
        self._stamped.update(manager for managers in wanted.values() for manager in managers)
        return case(
            (
                or_(
                    *(
                        and_(kind == group_kind, severity == group_severity, manager_id.in_(_ids(managers)))
                        for (group_kind, group_severity), managers in sorted(wanted.items())
                    )
                ),
                literal(now, UTCDateTime()),
            ),
        )

    def queue(self, now: datetime) -> int:
        """Write the emails of the alerts stamped at `now` (the evaluation's time), once every
        chunk is done: managers in batches of at most `IMMEDIATE_BATCH_ALERTS` alerts (counted
        with one query), each manager's alerts in id order, `IMMEDIATE_ALERTS` to an email. A
        batch that fails is split down to the managers that fail alone (`bisect_failures`): each
        is recorded in `failed` and their alerts lose their stamp, so the next digest carries
        them."""
        managers = sorted(self._stamped)
        self._stamped.clear()

        def unstamp(manager_id: int, exc: Exception) -> None:
            self.failed.append({"user_id": manager_id, "error": failure_text(exc)})
            self.db_session.execute(
                update(Alert)
                .where(Alert.creator_id.in_(select(Creator.id).where(Creator.manager_id == manager_id)))
                .where(Alert.opened_at == now, Alert.notified_at == now)
                .values(notified_at=None)
            )

        counts = _alerts_by_manager(self.db_session, and_(Alert.opened_at == now, Alert.notified_at == now))
        queued = 0
        for batch in _packed(managers, lambda manager_id: counts.get(manager_id, 0), IMMEDIATE_BATCH_ALERTS):
            queued += sum(bisect_failures(self.db_session, batch, partial(self._queue_managers, now=now), unstamp))
        self.queued += queued
        if self.failed:
            log.warning("immediate_emails_failed", failed=self.failed)
        return queued

    def _queue_managers(self, manager_ids: list[int], now: datetime) -> int:
        """The emails of these managers' alerts stamped at `now`, written with one COPY."""
        # Opened and stamped by this evaluation: read through the creator's alerts by opening time.
        alerts = _mailed_alerts(
            self.db_session, Creator.manager_id.in_(manager_ids), Alert.opened_at == now, Alert.notified_at == now
        )
        messages = _immediate_emails_of(alerts, self._managers, self.public_url)
        if messages:
            bulk_insert(self.db_session.connection(), OutboxMessage.__table__, messages)
        return len(messages)


# How many managers a digest run reads at a time, and how many alerts it reads, words and stamps
# at a time (a manager with more alerts than that is read alone): memory and statement sizes stay
# bounded however large the roster, a manager's list of alerts, or the number of managers.
DIGEST_MANAGERS = 500
DIGEST_ALERTS = 5000
STAMP_IDS = 10000  # alert ids per stamping statement


@dataclass
class _Digest:
    """A manager whose digest is due: whom it goes to, their local time and what they muted."""

    user: Row  # id, email, full_name
    local: datetime
    message_id: str
    muted: tuple[str, ...]
    alerts: int = 0


def queue_due_digests(
    *, db_session: Session, now: datetime, public_url: str, force: bool = False, failed: list[dict] | None = None
) -> int:
    """One digest per manager per local day, once their digest hour has passed (or at once with
    `force`), covering their creators' open alerts not yet mailed. Managers are read
    `DIGEST_MANAGERS` at a time with their preferences (a manager without any gets the defaults,
    stored); the due digests' alerts are read, worded, written (one COPY) and stamped batch by
    batch, a batch holding at most `DIGEST_ALERTS` alerts (or one manager's): a bounded number of
    statements per batch, not per manager or alert. Each batch is written in a savepoint: one that
    fails is split in halves down to the managers that fail alone, each appended to `failed`
    (`{"user_id", "error"}`), and the other managers still get theirs (without `failed`, the
    first failure is raised)."""
    queued, after = 0, 0
    while managers := _digest_managers(db_session, after):
        after = managers[-1].id
        for batch in _digest_batches(db_session, _due_digests(db_session, managers, now, force)):
            queued += _queue_isolated(db_session, batch, public_url, failed)
    db_session.flush()
    return queued


def _digest_managers(db_session: Session, after: int) -> list[Row]:
    """The next active managers and admins (by id, after `after`) with their preferences; those
    without preferences get the defaults, stored (as `preferences_for` does, for all at once)."""
    columns = (
        NotificationPreference.id.label("preferences_id"),
        NotificationPreference.email_enabled,
        NotificationPreference.digest_hour,
        NotificationPreference.muted_kinds,
    )
    managers = (
        select(User.id, User.email, User.full_name, User.timezone, *columns)
        .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
        .where(User.is_active.is_(True), User.role.in_([Role.manager, Role.admin]), User.id > after)
        .order_by(User.id)
        .limit(DIGEST_MANAGERS)
    )
    rows = db_session.execute(managers).all()
    missing = [row.id for row in rows if row.preferences_id is None]
    if missing:
        db_session.execute(
            conflict_insert(db_session.get_bind().dialect.name, NotificationPreference)
            .values([{"user_id": user_id, **_default_preferences()} for user_id in missing])
            .on_conflict_do_nothing(index_elements=["user_id"])
        )
        rows = db_session.execute(managers).all()  # as stored (a concurrent writer may have won)
    return rows


def _due_digests(db_session: Session, managers: list[Row], now: datetime, force: bool) -> list[_Digest]:
    """The managers whose digest is due (email on, digest hour passed) and not queued yet today."""
    due = []
    for manager in managers:
        if not manager.email_enabled:
            continue
        try:
            local = now.astimezone(ZoneInfo(manager.timezone))
        except (KeyError, ValueError):
            local = now.astimezone(ZoneInfo("UTC"))
        if not force and local.hour < manager.digest_hour:
            continue
        message_id = f"<digest-{manager.id}-{local.date().isoformat()}@agency>"
        due.append(_Digest(manager, local, message_id, tuple(manager.muted_kinds or ["-"])))
    if not due:
        return []
    queued = set(
        db_session.scalars(
            select(OutboxMessage.message_id).where(OutboxMessage.message_id.in_([d.message_id for d in due]))
        )
    )  # today's digest already queued (or sent)
    return [digest for digest in due if digest.message_id not in queued]


def _unmailed(digests: list[_Digest]):
    """The open alerts not yet mailed of these managers' creators, of kinds they did not mute."""
    by_muted: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for digest in digests:
        by_muted[digest.muted].append(digest.user.id)
    return and_(
        Alert.notified_at.is_(None),
        Alert.status != AlertStatus.resolved,
        or_(
            *(
                and_(Creator.manager_id.in_(managers), Alert.kind.not_in(muted))
                for muted, managers in sorted(by_muted.items())
            )
        ),
    )


def _digest_batches(db_session: Session, due: list[_Digest]) -> list[list[_Digest]]:
    """The due digests with any alert, in batches of at most `DIGEST_ALERTS` alerts (a manager
    with more is a batch alone), counted with one query."""
    if not due:
        return []
    counts = _alerts_by_manager(db_session, _unmailed(due))
    for digest in due:
        digest.alerts = counts.get(digest.user.id, 0)
    return _packed(due, lambda digest: digest.alerts, DIGEST_ALERTS)


def _alerts_by_manager(db_session: Session, condition) -> dict[int, int]:
    """How many alerts meet `condition`, by their creator's manager (one query): what the
    batches of emails are packed by (`_packed`)."""
    return dict(
        db_session.execute(
            select(Creator.manager_id, func.count())
            .select_from(Alert)
            .join(Creator, Creator.id == Alert.creator_id)
            .where(condition)
            .group_by(Creator.manager_id)
        ).all()
    )


def _packed(items: list, size: Callable[[Any], int], limit: int) -> list[list]:
    """`items` in order, in batches whose sizes add up to at most `limit` (an item larger than
    that is a batch alone); items of size 0 are left out."""
    batches: list[list] = []
    total = 0
    for item in items:
        if not (count := size(item)):
            continue
        if batches and total + count <= limit:
            batches[-1].append(item)
            total += count
        else:
            batches.append([item])
            total = count
    return batches


def _queue_isolated(db_session: Session, batch: list[_Digest], public_url: str, failed: list[dict] | None) -> int:
    """Write a batch's digests in a savepoint; if that fails, each half again, down to the
    managers that fail alone (`bisect_failures`), recorded in `failed`. Without `failed`, the
    first failure is raised."""
    if failed is None:
        with savepoint(db_session):
            return _queue_digests(db_session, batch, public_url, None)

    def work(part: list[_Digest]) -> int:
        errors: list[dict] = []
        queued = _queue_digests(db_session, part, public_url, errors)
        failed.extend(errors)  # the part is written: its managers whose wording failed stand
        return queued

    def record(digest: _Digest, exc: Exception) -> None:
        failed.append({"user_id": digest.user.id, "error": failure_text(exc)})

    return sum(bisect_failures(db_session, batch, work, record))


def _queue_digests(db_session: Session, batch: list[_Digest], public_url: str, failed: list[dict] | None) -> int:
    """The batch's digests: its alerts read with one query (as rows, with their creator's name
    and manager), worded in Python (a manager whose wording fails is recorded in `failed`), the
    emails written with one COPY and their alerts stamped."""
    rows = _mailed_alerts(db_session, _unmailed(batch), order_by=(Creator.manager_id, Alert.id))
    by_manager: dict[int, list[MailedAlert]] = defaultdict(list)
    for row in rows:
        by_manager[row.manager_id].append(row)
    del rows
    messages, mailed = [], []
    for digest in batch:
        alerts = by_manager.pop(digest.user.id, [])
        if not alerts:
            continue
        try:
            messages.append(_digest_message(digest, alerts, public_url))
        except Exception as exc:  # recorded against this manager; the others go on
            if failed is None:
                raise
            failed.append({"user_id": digest.user.id, "error": failure_text(exc)})
            continue
        mailed.extend(alert.id for alert in alerts)
    if messages:
        bulk_insert(db_session.connection(), OutboxMessage.__table__, messages)
        stamped = utcnow()
        for start in range(0, len(mailed), STAMP_IDS):
            db_session.execute(
                update(Alert).where(Alert.id.in_(mailed[start : start + STAMP_IDS])).values(notified_at=stamped)
            )
    return len(messages)


def _digest_message(digest: _Digest, alerts: list[MailedAlert], public_url: str) -> dict:
    """The outbox row of one manager's digest of `alerts` (in id order)."""
    names = {alert.creator_id: alert.display_name for alert in alerts}
    counts: dict[str, int] = defaultdict(int)
    for alert in alerts:
        counts[alert.severity.value] += 1
    summary = ", ".join(f"{counts[s]} {s}" for s in ("high", "medium", "low") if counts[s])
    local, user = digest.local, digest.user
    text, html = _render(
        user,
        alerts,
        names,
        public_url,
        f"Your daily digest for {local:%A %d %B}: {len(alerts)} new alert(s) ({summary}).",
    )
    files = invoice_attachments(alerts)
    if files:
        text, html = text + ATTACHED_TEXT, html + ATTACHED_HTML
    return {
        "user_id": user.id,
        "kind": "digest",
        "message_id": digest.message_id,
        "recipient": user.email,
        "subject": f"Agency digest {local:%d %b}: {len(alerts)} alert(s), {summary}",
        "body_text": text,
        "body_html": html,
        "alert_ids": [alert.id for alert in alerts],
        "attachments": files,
        "status": OutboxStatus.pending.value,
        "attempts": 0,
    }


def queue_invitation_email(
    invitation: CreatorInvitation, *, db_session: Session, creator: Creator, invited_by: User, link: str
) -> None:
    """The email inviting a creator to their portal, to the invited address (connected to
    `creator_invited`, same transaction). The row is filed under the user who invited; its body
    holds the single-use link only until it is sent (see `OutboxMessage.forget_secret`)."""
    inviter = invited_by.full_name or invited_by.email
    expires = f"{invitation.expires_at:%d %B %Y, %H:%M} UTC"
    what = "your programmes and your progress, your deals and deliverables due, your statements and balance"
    text = "\n".join(
        [
            f"Hello {creator.display_name},",
            "",
            f"{inviter} invited you to your creator portal: {what}.",
            "",
            "Open your account and choose a password:",
            link,
            "",
            f"The link works once and expires on {expires}. If you did not expect this email, ignore it.",
        ]
    )
    html = (
        f"<html><body><p>Hello {escape(creator.display_name)},</p>"
        f"<p>{escape(inviter)} invited you to your creator portal: {escape(what)}.</p>"
        f'<p><a href="{escape(link)}">Open your account and choose a password</a></p>'
        f"<p>The link works once and expires on {escape(expires)}. "
        "If you did not expect this email, ignore it.</p></body></html>"
    )
    db_session.add(
        OutboxMessage(
            user_id=invited_by.id,
            kind="invitation",
            message_id=f"<invitation-{invitation.id}@agency>",
            recipient=invitation.email,
            subject=f"{creator.display_name}, your creator portal invitation"[:300],
            body_text=text,
            body_html=html,
            alert_ids=[],
            attachments=[],
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """Backoff between send attempts: 1, 2, 4, 8 ... minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))
