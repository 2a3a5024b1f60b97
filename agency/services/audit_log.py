"""Reading the audit log (writing it is agency.services.audit.record_audit)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from agency.models import AuditEntry, User


def audit_filter(*, entity_type: str | None = None, entity_id: int | None = None, actor: str | None = None,
                 action: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> Select:
    """Entries matching every given filter, newest first. `actor` is an email or system label."""
    stmt = select(AuditEntry).order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
    if entity_type:
        stmt = stmt.where(AuditEntry.entity_type == entity_type)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    if actor:
        # The label is the user's email at the time, or "system:<job>"; the id catches renamed users.
        stmt = stmt.where((AuditEntry.actor_label == actor)
                          | AuditEntry.actor_id.in_(select(User.id).where(User.email == actor.lower())))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since:
        stmt = stmt.where(AuditEntry.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEntry.occurred_at < until)
    return stmt


def entry_as_dict(entry: AuditEntry) -> dict:
    return {"id": entry.id, "occurred_at": entry.occurred_at.isoformat(), "actor_id": entry.actor_id,
            "actor_label": entry.actor_label, "action": entry.action, "entity_type": entry.entity_type,
            "entity_id": entry.entity_id, "before": entry.before, "after": entry.after,
            "request_id": entry.request_id}
