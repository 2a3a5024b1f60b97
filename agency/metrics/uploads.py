"""Metrics files brought in by a person through the UI (a manager for their creators, a creator
for themself): the import, held to what that person may change."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from agency.core.errors import Forbidden
from agency.core.imports import ImportReport
from agency.core.users.models import Role, User
from agency.metrics.service import import_metrics
from agency.roster.service import creators_outside_scope


def import_metrics_as(
    *, db_session: Session, user: User, stream, fmt: str, mode: str, today: date
) -> tuple[ImportReport, str | None]:
    """Import a metrics file as `user`; a file that reaches a creator outside their scope writes
    nothing (the import runs in a savepoint that is rolled back) and the second value says why."""
    if user.role is Role.analyst:
        raise Forbidden("Analysts have read-only access.")
    savepoint = db_session.begin_nested()
    report = import_metrics(db_session=db_session, stream=stream, fmt=fmt, mode=mode, today=today)
    foreign = (
        creators_outside_scope(db_session=db_session, user=user, creator_ids=report.affected_creator_ids)
        if report.committed
        else []
    )
    if not foreign:
        savepoint.commit()
        return report, None
    savepoint.rollback()
    report.committed = False
    report.inserted = report.updated = report.unchanged = 0
    report.affected_creator_ids = []
    if user.role is Role.creator:
        return report, "The file has metrics for accounts that are not yours: nothing was imported."
    return report, f"The file has metrics for creators you do not manage ({foreign[:20]}): nothing was imported."
