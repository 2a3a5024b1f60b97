"""The audit log: who did what, with the state before and after; writing and reading it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session

from agency.core.audit.models import AuditEntry
from agency.core.users.models import User


def _jsonable(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj, exclude: tuple[str, ...] = ("password_hash", "token_hash")) -> dict:
    """The column values of a model instance, JSON-ready, for before/after in the audit log."""
    mapper = inspect(obj).mapper
    return {attr.key: _jsonable(getattr(obj, attr.key)) for attr in mapper.column_attrs if attr.key not in exclude}


class Actor:
    """Who is acting: a user, or a named system process (scheduler, CLI import)."""

    def __init__(self, user: User | None = None, label: str | None = None, request_id: str | None = None):
        self.user = user
        self.label = label or (user.email if user else "system")
        self.request_id = request_id

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(label=f"system:{label}")


def record_audit(
    *,
    db_session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEntry:
    if before is not None and after is not None:
        # Keep only what changed (plus the id), so the log stays readable.
        changed = {k for k in after if before.get(k) != after.get(k)}
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    entry = AuditEntry(
        actor_id=actor.user.id if actor.user else None,
        actor_label=actor.label,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        request_id=actor.request_id,
    )
    db_session.add(entry)
    return entry


def audit_filter(
    *,
    entity_type: str | None = None,
    entity_id: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Entries matching every given filter, newest first. `actor` is an email or system label."""
    stmt = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor:
        # The label is the user's email at the time, or "system:<job>"; the id catches renamed users.
        stmt = stmt.where(
            (AuditEntry.actor_label == actor)
            | AuditEntry.actor_id.in_(select(User.id).where(User.email == actor.lower()))
        )
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    return stmt


def entry_as_dict(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "occurred_at": entry.occurred_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "entity_type": entry.entity_type,
        "entity_id": entry.entity_id,
        "before": entry.before,
        "after": entry.after,
        "request_id": entry.request_id,
    }
