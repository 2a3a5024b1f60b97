"""Exchange rates (admins): the latest rates, one dated rate by hand, and CSV imports."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.audit.service import record_audit
from agency.core.errors import ServiceError
from agency.core.extensions import get_session
from agency.core.imports import format_from_content_type
from agency.core.ui import actor, admins_only, ui_blueprint
from agency.currencies.models import FxRate
from agency.currencies.schemas import FxRateSchema
from agency.currencies.service import import_fx_rates, save_rate

bp = ui_blueprint("currencies_ui", __name__)
bp.before_request(admins_only)


@bp.route("/admin/fx-rates", methods=["GET", "POST"])
def fx_rates():
    session = get_session()
    errors, values, report, problem = {}, {}, None, None
    if request.method == "POST" and request.files.get("file"):
        upload = request.files["file"]
        try:
            report = import_fx_rates(
                db_session=session,
                stream=upload.stream,
                fmt=format_from_content_type(upload.mimetype, upload.filename),
                mode="partial" if request.form.get("partial") else "all",
            )
        except ServiceError as exc:
            problem = exc.message
        if report is not None and report.committed:
            record_audit(
                db_session=session,
                actor=actor(),
                action="fx.import",
                entity_type="fx_rate",
                entity_id=None,
                after={k: v for k, v in report.as_dict().items() if k != "errors"},
            )
    elif request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in ("day", "base", "quote", "rate", "source")}
        try:
            rate = save_rate(
                db_session=session,
                actor=actor(),
                data=FxRateSchema().load({k: v for k, v in values.items() if v}),
            )
            flash(f"1 {rate.base} = {rate.rate.normalize():f} {rate.quote} from {rate.day:%d %b %Y}.", "success")
            return redirect(url_for("currencies_ui.fx_rates"))
        except ValidationError as exc:
            errors = exc.messages
        except ServiceError as exc:
            errors = exc.errors or {"_": [exc.message]}
    rates = session.scalars(select(FxRate).order_by(FxRate.day.desc(), FxRate.base, FxRate.quote).limit(100)).all()
    failed = bool(errors or problem or (report and not report.committed))
    return render_template(
        "currencies/fx_rates.html", rates=rates, errors=errors, values=values, report=report, problem=problem
    ), 422 if failed else 200
