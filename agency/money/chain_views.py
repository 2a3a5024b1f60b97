"""The money chain's pages: invoices (list, printable page, credit note, void, write-off),
payments (record and allocate, import a bank export), receivables aging, payout batches, platform
payouts, managers' and referrers' commission, and a creator's balance.
Forms are validated by the API's schemas and the services check roles, ownership and audit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError
from sqlalchemy import select

from agency.core.errors import Conflict, ServiceError
from agency.core.extensions import agency_today, get_session
from agency.core.pagination import UI_PAGE_SIZE
from agency.core.ui import actor, require_writer, ui_blueprint
from agency.core.users.models import User
from agency.currencies.service import format_money
from agency.deals.models import Brand
from agency.money.aging import BUCKETS, aging_report
from agency.money.chain_models import InvoiceStatus, JournalEntry
from agency.money.chain_schemas import (
    AgingQuerySchema,
    CommissionPayoutSchema,
    CreditNoteSchema,
    PaymentSchema,
    PayoutPaidSchema,
    PlatformPayoutSchema,
    WriteOffSchema,
)
from agency.money.creator_statements import creator_statement
from agency.money.invoice_pdf import get_invoice_pdf
from agency.money.invoices import MoneySettings, get_invoice, invoices_query, issue_credit_note, void_invoice
from agency.money.ledger_events import (
    PLATFORM_SOURCES,
    commission_payable_balances,
    pay_commission,
    unposted_platform_records,
    write_off_invoice,
)
from agency.money.payments import (
    BankImportRejected,
    allocate_payment,
    import_bank_export,
    payments_query,
    record_payment,
)
from agency.money.payouts import (
    approve_batch,
    batches_query,
    create_batch,
    get_batch,
    mark_batch_paid,
    payable_balances,
)
from agency.money.revenue import record_platform_payout
from agency.roster.models import Creator, Platform
from agency.roster.service import get_creator

bp = ui_blueprint("money_chain_ui", __name__)


def _settings() -> MoneySettings:
    return MoneySettings.from_config(current_app.config["AGENCY"])


def _errors(exc: Exception) -> dict:
    if isinstance(exc, ValidationError):
        return exc.messages if isinstance(exc.messages, dict) else {"_": exc.messages}
    if getattr(exc, "status", 422) == 403:
        abort(403, description=exc.message)
    return exc.errors if exc.errors and exc.status != 409 else {"_": [exc.message]}


@bp.route("/money/invoices")
def invoices():
    session = get_session()
    status = [s for s in request.args.getlist("status") if s in {x.value for x in InvoiceStatus}] or None
    page = max(1, request.args.get("page", 1, type=int))
    stmt = invoices_query(
        status=status,
        brand_id=request.args.get("brand_id", type=int),
        creator_id=request.args.get("creator_id", type=int),
        manager_id=current_user.id if request.args.get("mine") == "1" else None,
    )
    rows = session.scalars(stmt.limit(UI_PAGE_SIZE + 1).offset((page - 1) * UI_PAGE_SIZE)).all()
    return render_template(
        "money_chain/invoices.html",
        rows=rows[:UI_PAGE_SIZE],
        has_next=len(rows) > UI_PAGE_SIZE,
        page=page,
        statuses=list(InvoiceStatus),
    )


@bp.route("/money/invoices/<int:invoice_id>", methods=["GET", "POST"])
def invoice_page(invoice_id: int):
    """The printable invoice; staff who may act on the creator add a credit note or void it here."""
    session = get_session()
    invoice = get_invoice(db_session=session, invoice_id=invoice_id)
    errors = {}
    if request.method == "POST":
        require_writer()
        try:
            if request.form.get("action") == "void":
                void_invoice(
                    db_session=session, actor=actor(), invoice=invoice, settings=_settings(), today=agency_today()
                )
                flash(f"Invoice {invoice.number or invoice.id} voided.", "success")
            elif request.form.get("action") == "write_off":
                if not current_user.is_admin:
                    abort(403, description="Only an admin writes an invoice off.")
                _check_version(invoice, request.form.get("version", type=int))
                data = WriteOffSchema().load({"reason": request.form.get("reason", "")})
                write_off_invoice(
                    db_session=session, actor=actor(), invoice=invoice, reason=data["reason"], settings=_settings(),
                    today=agency_today(),
                )  # fmt: skip
                flash(f"Invoice {invoice.number} written off.", "success")
            else:
                data = CreditNoteSchema().load({k: request.form.get(k, "") for k in ("amount", "reason")})
                note = issue_credit_note(
                    db_session=session, actor=actor(), invoice=invoice, amount=data["amount"], reason=data["reason"],
                    settings=_settings(), today=agency_today(),
                )  # fmt: skip
                flash(f"Credit note {note.number} issued.", "success")
            return redirect(url_for("money_chain_ui.invoice_page", invoice_id=invoice.id))
        except (ValidationError, ServiceError) as exc:
            session.rollback()
            invoice = get_invoice(db_session=session, invoice_id=invoice_id)
            errors = _errors(exc)
    return render_template("money_chain/invoice.html", invoice=invoice, errors=errors), 422 if errors else 200


def _check_version(invoice, version: int | None) -> None:
    if version != invoice.version:
        raise Conflict(
            f"Invoice {invoice.number or invoice.id} was changed by someone else: reload the page.",
            {"version": [f"current version is {invoice.version}"]},
        )


@bp.route("/money/invoices/<int:invoice_id>.pdf")
def invoice_pdf(invoice_id: int):
    document = get_invoice_pdf(get_session(), invoice_id)
    if document is None:
        abort(404, description="This invoice has no PDF (a draft has none).")
    return Response(
        document.content, mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )  # fmt: skip


@bp.route("/money/payments", methods=["GET", "POST"])
def payments():
    """Record a payment (optionally allocated to one invoice at once), or import a bank export."""
    session = get_session()
    errors, values, report = {}, {"received_on": agency_today().isoformat(), "currency": "EUR"}, None
    if request.method == "POST":
        require_writer()
        upload = request.files.get("file")
        try:
            if upload is not None and upload.filename:
                report = import_bank_export(
                    db_session=session, actor=actor(), stream=upload.stream, settings=_settings(), today=agency_today()
                )
                flash(f"{report.inserted} payment(s) imported, {report.unchanged} already known.", "success")
                return redirect(url_for("money_chain_ui.payments"))
            fields = ("brand_id", "received_on", "amount", "currency", "bank_reference", "payer", "notes")
            values = {k: request.form.get(k, "").strip() for k in fields}
            values |= {k: request.form.get(k, "").strip() for k in ("invoice_id", "allocate")}
            data = PaymentSchema().load({k: v for k, v in values.items() if k in fields and v})
            data.pop("allocations")
            payment = record_payment(
                db_session=session, actor=actor(), data=data, settings=_settings(), today=agency_today()
            )
            if values["invoice_id"] and values["allocate"]:
                allocate_payment(
                    db_session=session, actor=actor(), payment=payment, settings=_settings(), today=agency_today(),
                    allocations=[{"invoice_id": int(values["invoice_id"]), "amount": _decimal(values["allocate"])}],
                )  # fmt: skip
            flash(f"Payment {payment.bank_reference} recorded.", "success")
            return redirect(url_for("money_chain_ui.payments"))
        except BankImportRejected as exc:
            session.rollback()
            report = exc.report
        except (ValidationError, ServiceError, ValueError) as exc:
            session.rollback()
            errors = _errors(exc) if not isinstance(exc, ValueError) else {"allocate": ["must be an amount"]}
    open_invoices = session.scalars(invoices_query(status=["issued", "partially_paid"]).limit(200)).all()
    rows = session.scalars(payments_query().limit(UI_PAGE_SIZE)).all()
    brands = session.scalars(select(Brand).where(Brand.archived_at.is_(None)).order_by(Brand.name)).all()
    return render_template(
        "money_chain/payments.html", rows=rows, errors=errors, values=values, report=report,
        open_invoices=open_invoices, brands=brands,
    ), 422 if errors or report else 200  # fmt: skip


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(text)


@bp.route("/money/aging")
def aging():
    """Receivables aging as of a day: a day that has not begun yet is refused as the API refuses it
    (422, the reason beside the field), never answered with money that is not owed yet."""
    errors = {}
    try:
        asked = {"as_of": request.args["as_of"]} if request.args.get("as_of") else {}
        as_of = AgingQuerySchema().load(asked).get("as_of")
    except ValidationError as exc:
        errors, as_of = exc.messages, None
    report = aging_report(
        get_session(),
        as_of=as_of or agency_today(),
        base_currency=_settings().base_currency,
        manager_id=current_user.id if request.args.get("mine") == "1" else None,
    )
    return render_template(
        "money_chain/aging.html", report=report, buckets=BUCKETS, errors=errors, asked=request.args.get("as_of")
    ), 422 if errors else 200


@bp.route("/money/payouts", methods=["GET", "POST"])
def payouts():
    session = get_session()
    errors = {}
    if request.method == "POST":
        require_writer()
        try:
            action = request.form.get("action")
            if action == "create":
                ids = [int(i) for i in request.form.getlist("creator_id") if i.isdigit()] or None
                batch = create_batch(db_session=session, actor=actor(), creator_ids=ids, settings=_settings())
                total = format_money(batch.total, batch.currency)
                flash(f"Payout batch {batch.id} drafted: {total} {batch.currency}.", "success")
            else:
                batch = get_batch(db_session=session, batch_id=request.form.get("batch_id", type=int) or 0)
                version = request.form.get("version", type=int)
                if action == "approve":
                    approve_batch(db_session=session, actor=actor(), batch=batch, expected_version=version)
                    flash(f"Payout batch {batch.id} approved.", "success")
                else:
                    data = PayoutPaidSchema().load(
                        {"version": version, "paid_on": request.form.get("paid_on", ""),
                         "reference": request.form.get("reference", "")}
                    )  # fmt: skip
                    mark_batch_paid(
                        db_session=session, actor=actor(), batch=batch, paid_on=data["paid_on"],
                        reference=data["reference"], settings=_settings(), today=agency_today(),
                        expected_version=version,
                    )  # fmt: skip
                    flash(f"Payout batch {batch.id} marked paid.", "success")
            return redirect(url_for("money_chain_ui.payouts"))
        except (ValidationError, ServiceError) as exc:
            session.rollback()
            errors = _errors(exc)
    return render_template(
        "money_chain/payouts.html",
        payables=payable_balances(session),
        batches=session.scalars(batches_query().limit(UI_PAGE_SIZE)).all(),
        errors=errors,
        today=agency_today().isoformat(),
        base_currency=_settings().base_currency,
    ), 422 if errors else 200


@bp.route("/money/creators/<int:creator_id>/balance")
def creator_balance(creator_id: int):
    session = get_session()
    creator = get_creator(db_session=session, creator_id=creator_id)
    month = request.args.get("month") or agency_today().strftime("%Y-%m")
    try:
        date.fromisoformat(f"{month}-01")
    except ValueError:
        abort(404)
    rows = payable_balances(session, creator_ids=[creator_id])
    statement = creator_statement(session, creator_id=creator_id, month=month, base_currency=_settings().base_currency)
    return render_template(
        "money_chain/balance.html", creator=creator, payable=rows[0] if rows else None, statement=statement
    )


@bp.route("/money/platform-payouts", methods=["GET", "POST"])
def platform_payouts():
    """Record a platform's payout of a creator's revenue (the posting follows from the record), or
    post a recorded one whose posting waited for an exchange rate."""
    session = get_session()
    errors, values = {}, {"date": agency_today().isoformat(), "currency": "EUR"}
    if request.method == "POST":
        require_writer()
        fields = ("creator_id", "date", "source", "platform", "amount", "currency", "external_ref", "notes")
        try:
            if request.form.get("revenue_record_id"):
                data = PlatformPayoutSchema().load({"revenue_record_id": request.form.get("revenue_record_id")})
            else:
                values = {k: request.form.get(k, "").strip() for k in fields}
                data = PlatformPayoutSchema().load({"revenue": {k: v for k, v in values.items() if v}})
            entry = record_platform_payout(db_session=session, actor=actor(), data=data, today=agency_today())
            flash(f"Platform payout posted (journal entry {entry.id}).", "success")
            return redirect(url_for("money_chain_ui.platform_payouts"))
        except (ValidationError, ServiceError) as exc:
            session.rollback()
            errors = _errors(exc)
            if isinstance(errors.get("revenue"), dict):  # the form's fields, not the nested schema's
                errors = errors | errors.pop("revenue")
    creators = session.scalars(
        select(Creator).where(Creator.archived_at.is_(None)).order_by(Creator.display_name).limit(500)
    ).all()
    if not current_user.is_admin:
        creators = [c for c in creators if c.manager_id == current_user.id]
    entries = session.scalars(
        select(JournalEntry).where(JournalEntry.kind == "platform_payout").order_by(JournalEntry.id.desc()).limit(50)
    ).all()
    return render_template(
        "money_chain/platform_payouts.html", errors=errors, values=values, creators=creators, entries=entries,
        waiting=unposted_platform_records(session, limit=50), sources=PLATFORM_SOURCES, platforms=list(Platform),
        base_currency=_settings().base_currency,
    ), 422 if errors else 200  # fmt: skip


@bp.route("/money/commissions", methods=["GET", "POST"])
def commissions():
    """What each manager and outside referrer is owed in commission; an admin records a payment."""
    session = get_session()
    errors, values = {}, {"paid_on": agency_today().isoformat()}
    if request.method == "POST":
        if not current_user.is_admin:
            abort(403, description="Only an admin records commission paid.")
        values = {k: request.form.get(k, "").strip() for k in ("payee", "amount", "paid_on", "reference")}
        try:
            data = CommissionPayoutSchema().load({k: v for k, v in values.items() if v})
            pay_commission(
                db_session=session, actor=actor(), payee=data["payee"], amount=data["amount"],
                paid_on=data["paid_on"], reference=data["reference"], settings=_settings(),
            )  # fmt: skip
            flash(f"Commission paid to {data['payee']} recorded.", "success")
            return redirect(url_for("money_chain_ui.commissions"))
        except (ValidationError, ServiceError) as exc:
            session.rollback()
            errors = _errors(exc)
    owed = commission_payable_balances(session)
    user_ids = [int(p[5:]) for p in owed if p.startswith("user:") and p[5:].isdigit()]
    names = dict(session.execute(select(User.id, User.full_name).where(User.id.in_(user_ids))).all())
    rows = [
        {"payee": payee, "name": names.get(int(payee[5:]), payee) if payee.startswith("user:") else payee,
         "balance": balance}
        for payee, balance in owed.items()
    ]  # fmt: skip
    return render_template(
        "money_chain/commissions.html", rows=rows, errors=errors, values=values,
        base_currency=_settings().base_currency,
    ), 422 if errors else 200  # fmt: skip
