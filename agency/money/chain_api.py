"""/api/v1: representation agreements, invoices and credit notes, payments and their allocation,
creator payouts, the ledger (trial balance, journal, reversals, export) and receivables aging."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from agency.core.auth import authenticate_request, current_actor, current_user, for_creators, roles_required
from agency.core.errors import InvalidInput, NotFound
from agency.core.extensions import agency_today, get_session
from agency.core.pagination import paginated
from agency.core.users.models import Role
from agency.deals.service import get_deal
from agency.money import chain_schemas as s
from agency.money.aging import aging_report
from agency.money.agreements import (
    agreements_query,
    archive_agreement,
    contract_date,
    get_agreement,
    get_deal_terms,
    save_agreement,
    save_deal_terms,
    terms_for_deal,
)
from agency.money.chain_models import SplitRole
from agency.money.creator_statements import creator_statement
from agency.money.invoice_pdf import get_invoice_pdf
from agency.money.invoices import (
    MoneySettings,
    create_invoice,
    get_invoice,
    invoices_query,
    issue_credit_note,
    issue_invoice,
    void_invoice,
)
from agency.money.ledger import (
    export_journal_csv,
    get_entry,
    journal_query,
    reverse_entry,
    trial_balance,
)
from agency.money.ledger_events import (
    commission_payable_balances,
    pay_commission,
    write_off_invoice,
)
from agency.money.payments import (
    allocate_payment,
    get_payment,
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
from agency.roster.service import get_creator

blp = Blueprint(
    "money_chain",
    __name__,
    url_prefix="/api/v1",
    description="Agreements, invoices, payments, creator payouts, the ledger and receivables aging.",
)
blp.before_request(authenticate_request)
STAFF = (Role.admin, Role.manager, Role.analyst)


def _settings() -> MoneySettings:
    return MoneySettings.from_config(current_app.config["AGENCY"])


def _plain(value):
    """Reports as JSON: decimals as strings, dates as ISO days."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


# --- agreements -------------------------------------------------------------------------------


@blp.route("/agreements")
class Agreements(MethodView):
    @blp.arguments(s.AgreementQuerySchema, location="query")
    @paginated(blp, s.AgreementOutSchema(many=True))
    @roles_required(*STAFF)
    def get(self, args, pagination_parameters):
        """List representation agreements (filter by creator, or your own creators with mine=true)"""
        return agreements_query(
            creator_id=args.get("creator_id"), manager_id=current_user().id if args["mine"] else None
        )

    @blp.arguments(s.AgreementSchema)
    @blp.response(201, s.AgreementOutSchema)
    def post(self, data):
        """Add a creator's agreement (dates must not overlap another; split shares sum to 100 %)"""
        return save_agreement(
            db_session=get_session(),
            actor=current_actor(),
            data=data,
            default_commission=_settings().default_commission,
        )


@blp.route("/agreements/<int:agreement_id>")
class AgreementById(MethodView):
    @blp.response(200, s.AgreementOutSchema)
    @roles_required(*STAFF)
    def get(self, agreement_id):
        """Get an agreement"""
        return get_agreement(db_session=get_session(), agreement_id=agreement_id)

    @blp.arguments(s.AgreementUpdateSchema)
    @blp.response(200, s.AgreementOutSchema)
    def patch(self, data, agreement_id):
        """Change an agreement (send the `version` you read)"""
        session = get_session()
        version = data.pop("version")
        agreement = get_agreement(db_session=session, agreement_id=agreement_id)
        return save_agreement(
            db_session=session,
            actor=current_actor(),
            data=data,
            default_commission=_settings().default_commission,
            agreement=agreement,
            expected_version=version,
        )

    @blp.response(204)
    def delete(self, agreement_id):
        """Archive an agreement"""
        session = get_session()
        archive_agreement(
            db_session=session,
            actor=current_actor(),
            agreement=get_agreement(db_session=session, agreement_id=agreement_id),
        )


def _terms(session, deal_id: int) -> dict:
    deal = get_deal(db_session=session, deal_id=deal_id)
    terms = terms_for_deal(session, deal, default_commission=_settings().default_commission)
    splits = []
    for split in terms.splits:
        user_id = int(split["payee"][5:]) if split["payee"].startswith("user:") else None
        referrer = split["payee"] if split["role"] == "referrer" else ""
        splits.append(
            {
                "role": SplitRole(split["role"]),
                "user_id": user_id,
                "referrer_name": referrer,
                "share_percent": Decimal(split["share"]),
            }
        )
    return {
        "contract_date": contract_date(session, deal, get_deal_terms(session, deal.id)),
        "commission_percent": terms.commission_percent,
        "commission_source": terms.commission_source,
        "splits_source": terms.splits_source,
        "agreement_id": terms.agreement_id,
        "payment_terms_days": terms.payment_terms_days,
        "vat_rate": terms.vat_rate,
        "reverse_charge": terms.reverse_charge,
        "splits": splits,
    }


@blp.route("/deals/<int:deal_id>/money-terms")
class DealMoneyTerms(MethodView):
    @blp.response(200, s.DealTermsSchema)
    @roles_required(*STAFF)
    def get(self, deal_id):
        """The commission, splits, payment terms and VAT this deal's invoice will take"""
        return _terms(get_session(), deal_id)

    @blp.arguments(s.DealTermsSchema)
    @blp.response(200, s.DealTermsSchema)
    def put(self, data, deal_id):
        """Override the deal's commission, splits, payment terms or VAT (before it is invoiced)"""
        session = get_session()
        save_deal_terms(
            db_session=session, actor=current_actor(), deal=get_deal(db_session=session, deal_id=deal_id), data=data
        )
        return _terms(session, deal_id)


# --- invoices ---------------------------------------------------------------------------------


@blp.route("/invoices")
class Invoices(MethodView):
    @blp.arguments(s.InvoiceQuerySchema, location="query")
    @paginated(blp, s.InvoiceSchema(many=True))
    @roles_required(*STAFF)
    def get(self, args, pagination_parameters):
        """List invoices and credit notes (filter by status, kind, creator, brand, deal, mine)"""
        return invoices_query(
            status=args.get("status"),
            kind=args.get("kind"),
            creator_id=args.get("creator_id"),
            brand_id=args.get("brand_id"),
            deal_id=args.get("deal_id"),
            manager_id=current_user().id if args["mine"] else None,
        )

    @blp.arguments(s.InvoiceCreateSchema)
    @blp.response(201, s.InvoiceSchema)
    def post(self, data):
        """Invoice a deal (issued at once unless draft=true; a delivered deal moves to invoiced)"""
        session = get_session()
        deal = get_deal(db_session=session, deal_id=data.pop("deal_id"))
        return create_invoice(
            db_session=session, actor=current_actor(), deal=deal, data=data, settings=_settings(), today=agency_today()
        )


@blp.route("/invoices/<int:invoice_id>")
class InvoiceById(MethodView):
    @blp.response(200, s.InvoiceSchema)
    @roles_required(*STAFF)
    def get(self, invoice_id):
        """Get an invoice with its lines"""
        return get_invoice(db_session=get_session(), invoice_id=invoice_id)


@blp.route("/invoices/<int:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @blp.response(200, description="The PDF stored when the invoice or credit note was issued")
    @roles_required(*STAFF)
    def get(self, invoice_id):
        """The invoice's PDF as it was issued"""
        session = get_session()
        invoice = get_invoice(db_session=session, invoice_id=invoice_id)
        document = get_invoice_pdf(session, invoice.id)
        if document is None:
            raise NotFound(f"Invoice {invoice_id} has no PDF (a draft has none).")
        return _pdf_response(document)


def _pdf_response(document) -> Response:
    return Response(
        document.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
    )


@blp.route("/invoices/<int:invoice_id>/issue")
class InvoiceIssue(MethodView):
    @blp.arguments(s.IssueSchema)
    @blp.response(200, s.InvoiceSchema)
    def post(self, data, invoice_id):
        """Issue a draft: number, dates, exchange rate, ledger entry"""
        session = get_session()
        invoice = get_invoice(db_session=session, invoice_id=invoice_id)
        issued_on = data.get("issued_on") or agency_today()
        if issued_on > agency_today():
            raise InvalidInput("An invoice cannot be issued on a future day.", {"issued_on": ["is in the future"]})
        return issue_invoice(
            db_session=session, actor=current_actor(), invoice=invoice, issued_on=issued_on,
            settings=_settings(),
        )  # fmt: skip


@blp.route("/invoices/<int:invoice_id>/credit-notes")
class InvoiceCreditNotes(MethodView):
    @blp.arguments(s.CreditNoteSchema)
    @blp.response(201, s.InvoiceSchema)
    def post(self, data, invoice_id):
        """Credit part or all of what an issued invoice still owes (a numbered credit note)"""
        session = get_session()
        return issue_credit_note(
            db_session=session, actor=current_actor(), invoice=get_invoice(db_session=session, invoice_id=invoice_id),
            amount=data["amount"], reason=data["reason"], settings=_settings(), today=agency_today(),
        )  # fmt: skip


@blp.route("/invoices/<int:invoice_id>/void")
class InvoiceVoid(MethodView):
    @blp.response(200, s.InvoiceSchema)
    def post(self, invoice_id):
        """Void a draft, or an issued invoice nothing was paid on (by a credit note of its total)"""
        session = get_session()
        return void_invoice(
            db_session=session, actor=current_actor(), invoice=get_invoice(db_session=session, invoice_id=invoice_id),
            settings=_settings(), today=agency_today(),
        )  # fmt: skip


@blp.route("/invoices/<int:invoice_id>/write-off")
class InvoiceWriteOff(MethodView):
    @blp.arguments(s.WriteOffSchema)
    @blp.response(200, s.InvoiceSchema)
    @roles_required(Role.admin)
    def post(self, data, invoice_id):
        """Write off the unpaid remainder of an issued invoice as a bad debt (admins)"""
        session = get_session()
        return write_off_invoice(
            db_session=session, actor=current_actor(), invoice=get_invoice(db_session=session, invoice_id=invoice_id),
            reason=data["reason"], settings=_settings(), today=agency_today(),
        )  # fmt: skip


# --- payments ---------------------------------------------------------------------------------


@blp.route("/payments")
class Payments(MethodView):
    @blp.arguments(s.PaymentQuerySchema, location="query")
    @paginated(blp, s.PaymentOutSchema(many=True))
    @roles_required(*STAFF)
    def get(self, args, pagination_parameters):
        """List payments received (filter by brand, or those not fully allocated)"""
        return payments_query(brand_id=args.get("brand_id"), unallocated_only=args["unallocated"])

    @blp.arguments(s.PaymentSchema)
    @blp.response(201, s.PaymentOutSchema)
    def post(self, data):
        """Record a payment received, optionally allocating it to invoices of the brand at once"""
        session = get_session()
        allocations = data.pop("allocations")
        settings, actor = _settings(), current_actor()
        payment = record_payment(db_session=session, actor=actor, data=data, settings=settings, today=agency_today())
        if allocations:
            allocate_payment(
                db_session=session, actor=actor, payment=payment, allocations=allocations, settings=settings,
                today=agency_today(),
            )  # fmt: skip
        return payment


@blp.route("/payments/<int:payment_id>")
class PaymentById(MethodView):
    @blp.response(200, s.PaymentOutSchema)
    @roles_required(*STAFF)
    def get(self, payment_id):
        """Get a payment and its allocations"""
        return get_payment(db_session=get_session(), payment_id=payment_id)


@blp.route("/payments/<int:payment_id>/allocations")
class PaymentAllocations(MethodView):
    @blp.arguments(s.AllocateSchema)
    @blp.response(200, s.PaymentOutSchema)
    def post(self, data, payment_id):
        """Allocate what is left of a payment to one or several invoices (amounts in each invoice's currency)"""
        session = get_session()
        payment = get_payment(db_session=session, payment_id=payment_id)
        allocate_payment(
            db_session=session, actor=current_actor(), payment=payment, allocations=data["allocations"],
            settings=_settings(), today=agency_today(),
        )  # fmt: skip
        return payment


@blp.route("/payments/import")
class PaymentImport(MethodView):
    @blp.response(200, s.BankImportReportSchema)
    @blp.alt_response(422, description="Rejected rows (nothing imported)")
    def post(self):
        """Import a bank export CSV (date,amount,currency,bank_reference,brand_id[,payer,invoice_number]); a known bank reference changes nothing"""  # noqa: E501
        upload = request.files.get("file")
        stream = upload.stream if upload else request.stream
        # A rejected file is a 422: the request's transaction is rolled back, nothing is imported.
        return import_bank_export(
            db_session=get_session(), actor=current_actor(), stream=stream, settings=_settings(), today=agency_today()
        )


# --- payouts ----------------------------------------------------------------------------------


@blp.route("/payouts/payables")
class Payables(MethodView):
    @blp.response(200, s.PayableSchema(many=True))
    @roles_required(*STAFF)
    def get(self):
        """What each creator is owed, and what is available to pay out (collected, not in a batch)"""
        return payable_balances(get_session())


@blp.route("/payout-batches")
class PayoutBatches(MethodView):
    @paginated(blp, s.PayoutBatchSchema(many=True))
    @roles_required(*STAFF)
    def get(self, pagination_parameters):
        """List payout batches"""
        return batches_query()

    @blp.arguments(s.PayoutBatchCreateSchema)
    @blp.response(201, s.PayoutBatchSchema)
    def post(self, data):
        """Draft a batch paying the selected creators (or all) what is available to them"""
        return create_batch(
            db_session=get_session(), actor=current_actor(), creator_ids=data["creator_ids"], settings=_settings()
        )


@blp.route("/payout-batches/<int:batch_id>")
class PayoutBatchById(MethodView):
    @blp.response(200, s.PayoutBatchSchema)
    @roles_required(*STAFF)
    def get(self, batch_id):
        """Get a payout batch"""
        return get_batch(db_session=get_session(), batch_id=batch_id)


@blp.route("/payout-batches/<int:batch_id>/approval")
class PayoutApproval(MethodView):
    @blp.arguments(s.PayoutApproveSchema)
    @blp.response(200, s.PayoutBatchSchema)
    def post(self, data, batch_id):
        """Approve a draft batch (admins)"""
        session = get_session()
        return approve_batch(
            db_session=session, actor=current_actor(), batch=get_batch(db_session=session, batch_id=batch_id),
            expected_version=data["version"],
        )  # fmt: skip


@blp.route("/payout-batches/<int:batch_id>/payment")
class PayoutPaid(MethodView):
    @blp.arguments(s.PayoutPaidSchema)
    @blp.response(200, s.PayoutBatchSchema)
    def post(self, data, batch_id):
        """Mark an approved batch paid, with the bank reference and date (admins); posts the payouts"""
        session = get_session()
        return mark_batch_paid(
            db_session=session, actor=current_actor(), batch=get_batch(db_session=session, batch_id=batch_id),
            paid_on=data["paid_on"], reference=data["reference"], settings=_settings(), today=agency_today(),
            expected_version=data["version"],
        )  # fmt: skip


@blp.route("/creators/<int:creator_id>/balance")
class CreatorBalance(MethodView):
    @for_creators
    @blp.response(200, s.CreatorBalanceSchema)
    def get(self, creator_id):
        """What the agency owes a creator now, and what is available to pay out"""
        session = get_session()
        get_creator(db_session=session, creator_id=creator_id)
        rows = payable_balances(session, creator_ids=[creator_id])
        row = rows[0] if rows else {"balance": Decimal("0.00"), "available": Decimal("0.00"), "in_batches": 0}
        return {"creator_id": creator_id, "currency": _settings().base_currency} | row


@blp.route("/creators/<int:creator_id>/account-statement")
class CreatorAccountStatement(MethodView):
    @for_creators
    @blp.arguments(s.MonthQuerySchema, location="query")
    @blp.response(200, s.CreatorStatementSchema)
    def get(self, args, creator_id):
        """A creator's month from the ledger: opening, earned, commission, paid out, closing"""
        session = get_session()
        get_creator(db_session=session, creator_id=creator_id)
        statement = creator_statement(
            session, creator_id=creator_id, month=args["month"], base_currency=_settings().base_currency
        )
        statement.lines = _plain(statement.lines)
        statement.in_payout_currency = _plain(statement.in_payout_currency)
        return statement


# --- ledger and aging -------------------------------------------------------------------------


@blp.route("/ledger/accounts")
class LedgerAccounts(MethodView):
    @blp.arguments(s.AgingQuerySchema, location="query")
    @blp.response(200, s.TrialBalanceRowSchema(many=True))
    @roles_required(*STAFF)
    def get(self, args):
        """The chart of accounts with debits, credits and balances (a trial balance) as of a day"""
        return trial_balance(get_session(), on=args.get("as_of"), base_currency=_settings().base_currency)


@blp.route("/ledger/entries")
class LedgerEntries(MethodView):
    @blp.arguments(s.PeriodSchema, location="query")
    @paginated(blp, s.JournalEntrySchema(many=True))
    @roles_required(*STAFF)
    def get(self, args, pagination_parameters):
        """The journal: entries with their lines, by date"""
        return journal_query(date_from=args.get("date_from"), date_to=args.get("date_to"))


@blp.route("/ledger/entries/<int:entry_id>/reversal")
class LedgerReversal(MethodView):
    @blp.arguments(s.ReversalSchema)
    @blp.response(201, s.JournalEntrySchema)
    @roles_required(Role.admin)
    def post(self, data, entry_id):
        """Correct an entry by a reversing entry (admins); entries are never changed"""
        session = get_session()
        entry = get_entry(db_session=session, entry_id=entry_id)
        return reverse_entry(
            session, entry, posted_on=data.get("posted_on") or agency_today(), reason=data["reason"],
            base_currency=_settings().base_currency, actor_label=current_actor().label,
        )  # fmt: skip


@blp.route("/ledger/commission-payables")
class CommissionPayables(MethodView):
    @blp.response(200, s.CommissionPayableSchema(many=True))
    @roles_required(*STAFF)
    def get(self):
        """What is owed to each manager ("user:<id>") and outside referrer in commission"""
        return [{"payee": p, "balance": b} for p, b in commission_payable_balances(get_session()).items()]


@blp.route("/ledger/commission-payouts")
class CommissionPayouts(MethodView):
    @blp.arguments(s.CommissionPayoutSchema)
    @blp.response(201, s.JournalEntrySchema)
    @roles_required(Role.admin)
    def post(self, data):
        """Record commission paid to a manager or referrer (admins): at most what they are owed"""
        return pay_commission(
            db_session=get_session(), actor=current_actor(), payee=data["payee"], amount=data["amount"],
            paid_on=data["paid_on"], reference=data["reference"], settings=_settings(),
        )  # fmt: skip


@blp.route("/ledger/platform-payouts")
class PlatformPayouts(MethodView):
    @blp.arguments(s.PlatformPayoutSchema)
    @blp.response(201, s.JournalEntrySchema)
    @roles_required(Role.admin, Role.manager)
    def post(self, data):
        """Post a platform's payout: record the platform revenue (`revenue`), which posts it, or
        post a recorded record whose posting waited (`revenue_record_id`). Recording platform
        revenue through /revenue or an import posts it too: once per record, a refund reversed"""
        return record_platform_payout(db_session=get_session(), actor=current_actor(), data=data, today=agency_today())


@blp.route("/ledger/export")
class LedgerExport(MethodView):
    @blp.arguments(s.PeriodSchema, location="query")
    @blp.response(200, description="CSV: date, entry, account_code, account_name, description, debit, credit, ...")
    @roles_required(*STAFF)
    def get(self, args):
        """The journal of a period as CSV for the accountant"""
        if not args.get("date_from") or not args.get("date_to"):
            raise InvalidInput("Give the period: from and to.", {"from": ["required"], "to": ["required"]})
        body = export_journal_csv(
            get_session(), date_from=args["date_from"], date_to=args["date_to"], base_currency=_settings().base_currency
        )
        name = f"journal_{args['date_from']}_{args['date_to']}.csv"
        return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@blp.route("/aging")
class Aging(MethodView):
    @blp.arguments(s.AgingQuerySchema, location="query")
    @blp.response(200, s.AgingSchema)
    @roles_required(*STAFF)
    def get(self, args):
        """Receivables aging by bucket, per brand (with DSO) and per manager, as of a day"""
        report = aging_report(
            get_session(),
            as_of=args.get("as_of") or agency_today(),
            base_currency=_settings().base_currency,
            manager_id=current_user().id if args["mine"] else None,
        )
        lists = ("by_brand", "by_manager", "invoices")
        return {k: _plain(v) if k in lists else v for k, v in report.__dict__.items()}
