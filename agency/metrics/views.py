"""Metrics pages: one account's day entered by hand, and file imports with an upload progress bar
and the per-row report (the API's validation, the importer's rules)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.audit.service import record_audit
from agency.core.database import utcnow
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.imports import format_from_content_type
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.metrics.models import METRIC_FIELDS, MetricSnapshot
from agency.metrics.schemas import SnapshotSchema
from agency.metrics.service import put_snapshot
from agency.metrics.uploads import import_metrics_as
from agency.roster.models import PlatformAccount
from agency.roster.service import can_write_creator

bp = ui_blueprint("metrics_ui", __name__)


def _today() -> date:
    return utcnow().date() + timedelta(days=1)  # "today" somewhere ahead of UTC, as the API


@bp.route("/metrics/import", methods=["GET", "POST"])
def metrics_import():
    require_writer()
    report, problem = None, None
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problem = "Choose a CSV or JSON-lines file to import."
        else:
            session = get_session()
            try:
                report, problem = import_metrics_as(
                    db_session=session,
                    user=current_user,
                    stream=upload.stream,
                    fmt=format_from_content_type(upload.mimetype, upload.filename),
                    mode="partial" if request.form.get("partial") else "all",
                    today=_today(),
                )
            except ServiceError as exc:
                problem = exc.message
            if report is not None and report.committed:
                record_audit(
                    db_session=session,
                    actor=actor(),
                    action="metrics.import",
                    entity_type="metrics",
                    entity_id=None,
                    after={k: v for k, v in report.as_dict().items() if k != "errors"},
                )
                # Its creators' eligibility and alerts refresh at the request's end (freshness.py).
        if request.headers.get("HX-Request"):
            return render_template("metrics/partials/import_report.html", report=report, problem=problem)
    return render_template("metrics/import.html", report=report, problem=problem), 422 if problem else 200


@bp.route("/accounts/<int:account_id>/metrics/day", methods=["GET", "POST"])
def account_day(account_id: int):
    """Enter (or correct) one day of an account's metrics; on a day already recorded, the fields
    left empty keep their value."""
    session = get_session()
    account = session.get(PlatformAccount, account_id) or abort(404)
    if not can_write_creator(current_user, account.creator):
        abort(403, description="You can only enter metrics for creators you manage.")
    errors, values = {}, {"day": (utcnow().date() - timedelta(days=1)).isoformat()}
    if request.method == "POST":
        values = {k: v.strip() for k, v in request.form.items() if k in ("day", *METRIC_FIELDS) and v.strip()}
        try:
            data = SnapshotSchema().load({k: v for k, v in values.items() if k != "day"})
            snapshot, created = put_snapshot(
                db_session=session, account_id=account.id, day=values.get("day", ""), values=data, today=_today()
            )
            record_audit(
                db_session=session,
                actor=actor(),
                action="metrics.put",
                entity_type="platform_account",
                entity_id=account.id,
                after={"day": snapshot.day.isoformat(), **{k: str(v) for k, v in data.items()}},
            )
            flash(f"@{account.handle}, {snapshot.day:%d %b %Y}: {'recorded' if created else 'updated'}.", "success")
            return redirect(url_for("metrics_ui.account_day", account_id=account.id))
        except ValidationError as exc:
            errors = exc.messages
        except ServiceError as exc:
            errors = exc.errors or {"_": [exc.message]}
    recent = session.scalars(
        select(MetricSnapshot)
        .where(MetricSnapshot.account_id == account.id)
        .order_by(MetricSnapshot.day.desc())
        .limit(14)
    ).all()
    return render_template(
        "metrics/day.html", account=account, errors=errors, values=values, recent=recent, fields=METRIC_FIELDS
    ), 422 if errors else 200
