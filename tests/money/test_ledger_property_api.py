"""Random sequences of money events (invoices in two currencies with or without VAT and with
commission splits, payments in either currency, partial allocations, credit notes, payout
batches, reversals, platform payouts and refunds, write-offs, commission paid to a manager or a
referrer) keep the books right: every entry balances, the trial balance is zero, each invoice's
receivable on the ledger matches what it still owes, no payee is paid more commission than owed,
and each creator's monthly statement reconciles to the cent with the ledger, month after month
(PostgreSQL and SQLite)."""

import contextlib
from datetime import date, timedelta
from decimal import Decimal

import hypothesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from agency.core.audit.service import Actor
from agency.core.errors import ServiceError
from agency.core.users.models import Role, User
from agency.currencies.models import FxRate
from agency.deals.models import Brand, Deal, DealSource, DealStage
from agency.money.agreements import save_agreement
from agency.money.chain_models import InvoiceStatus, JournalEntry, JournalLine
from agency.money.creator_statements import month_statements
from agency.money.invoices import MoneySettings, create_invoice, issue_credit_note
from agency.money.ledger import CREATOR_PAYABLES, RECEIVABLES, exact, reverse_entry, trial_balance, unbalanced_entries
from agency.money.ledger_events import (
    commission_payable_balances,
    pay_commission,
    post_platform_payout,
    write_off_invoice,
)
from agency.money.models import RevenueRecord, RevenueSource
from agency.money.payments import allocate_payment, amount_payment_covers, record_payment
from agency.money.payouts import approve_batch, create_batch, mark_batch_paid
from agency.roster.models import Creator

START = date(2026, 1, 5)
MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
SETTINGS = MoneySettings("EUR", Decimal("20.00"), render_pdf=False)
amounts = st.integers(1, 500_000).map(lambda c: Decimal(c) / 100)

event = st.one_of(
    st.tuples(
        st.just("invoice"),
        st.integers(0, 2),
        amounts,
        st.sampled_from(["EUR", "USD"]),
        st.sampled_from(["0", "20", "5.5"]),
    ),
    st.tuples(st.just("payment"), st.integers(0, 1), amounts.map(lambda a: a * 3), st.sampled_from(["EUR", "USD"])),
    st.tuples(st.just("allocate"), st.integers(0, 20), st.integers(0, 20), st.sampled_from([100, 100, 100, 50, 7])),
    st.tuples(st.just("credit"), st.integers(0, 20), st.integers(1, 100)),
    st.tuples(st.just("payout")),
    st.tuples(st.just("reverse"), st.integers(0, 40)),
    st.tuples(st.just("write_off"), st.integers(0, 20)),
    st.tuples(st.just("platform"), st.sampled_from([0, 0, 1]), amounts, st.sampled_from(["EUR", "USD"]), st.booleans()),
    st.tuples(st.just("commission"), st.integers(0, 1), st.sampled_from([100, 50, 1, 101])),
)


def _setup(session):
    session.execute(
        insert(FxRate),
        [
            {"day": date(2026, 1, 1), "base": "USD", "quote": "EUR", "rate": Decimal("0.91234567")},
            {"day": date(2026, 2, 1), "base": "USD", "quote": "EUR", "rate": Decimal("0.93")},
            {"day": date(2026, 3, 10), "base": "EUR", "quote": "USD", "rate": Decimal("1.17")},
        ],
    )
    admin = User(email="ledger-admin@test.example", password_hash="x", role=Role.admin, full_name="Admin")
    session.add(admin)
    brands = [Brand(name="Brand A"), Brand(name="Brand B")]
    creators = [Creator(display_name=f"Gen {n}", country="FR", niche="other") for n in range(3)]
    session.add_all(brands + creators)
    session.flush()
    actor = Actor(user=admin)
    save_agreement(
        db_session=session,
        actor=actor,
        default_commission=Decimal("20.00"),
        data={
            "creator_id": creators[0].id,
            "starts_on": date(2025, 1, 1),
            "payout_currency": "USD",
            "commission_rates": {"brand_deal": "17.5"},
            "splits": [
                {"role": "agency", "share_percent": Decimal("50")},
                {"role": "primary_manager", "user_id": admin.id, "share_percent": Decimal("33.33")},
                {"role": "referrer", "referrer_name": "Ref", "share_percent": Decimal("16.67")},
            ],
        },
    )
    return actor, brands, creators


def _run(session, actor, brands, creators, events):
    invoices, payments, day = [], [], START
    # Every sequence ends with a payout run, so paying out what was collected is always exercised.
    for n, item in enumerate([*events, ("payout",)]):
        day = START + timedelta(days=n * 4)
        kind = item[0]
        try:
            with session.begin_nested():
                if kind == "invoice":
                    _, who, fee, currency, vat = item
                    deal = Deal(
                        creator_id=creators[who].id, brand_id=brands[who % 2].id, title=f"Deal {n}",
                        source=DealSource.direct, fee_amount=fee, fee_currency=currency, stage=DealStage.delivered,
                        commission_percent=Decimal("20.00"),
                    )  # fmt: skip
                    session.add(deal)
                    session.flush()
                    invoice = create_invoice(
                        db_session=session, actor=actor, deal=deal, settings=SETTINGS, today=day,
                        data={"vat_rate": Decimal(vat), "issued_on": day},
                    )  # fmt: skip
                    invoices.append(invoice)
                elif kind == "payment":
                    _, which, amount, currency = item
                    payments.append(
                        record_payment(
                            db_session=session,
                            actor=actor,
                            settings=SETTINGS,
                            today=day,
                            data={
                                "brand_id": brands[which].id,
                                "received_on": day,
                                "amount": amount,
                                "currency": currency,
                                "bank_reference": f"ref-{n}",
                            },
                        )  # fmt: skip
                    )
                elif kind == "allocate" and payments and invoices:
                    payment, invoice = payments[item[1] % len(payments)], invoices[item[2] % len(invoices)]
                    covers = amount_payment_covers(session, payment, invoice, SETTINGS)
                    amount = (covers * item[3] / 100).quantize(Decimal("0.01"))
                    allocate_payment(
                        db_session=session, actor=actor, payment=payment, settings=SETTINGS, today=day,
                        allocations=[{"invoice_id": invoice.id, "amount": amount}],
                    )  # fmt: skip
                elif kind == "credit" and invoices:
                    invoice = invoices[item[1] % len(invoices)]
                    amount = (invoice.outstanding * item[2] / 100).quantize(Decimal("0.01"))
                    issue_credit_note(
                        db_session=session, actor=actor, invoice=invoice, amount=amount, reason="generated",
                        settings=SETTINGS, today=day,
                    )  # fmt: skip
                elif kind == "payout":
                    batch = create_batch(db_session=session, actor=actor, creator_ids=None, settings=SETTINGS)
                    approve_batch(db_session=session, actor=actor, batch=batch)
                    mark_batch_paid(
                        db_session=session, actor=actor, batch=batch, paid_on=day, reference=f"sepa-{n}",
                        settings=SETTINGS, today=day,
                    )  # fmt: skip
                elif kind == "reverse":
                    entries = session.scalars(select(JournalEntry).order_by(JournalEntry.id)).all()
                    if entries:
                        reverse_entry(
                            session, entries[item[1] % len(entries)], posted_on=day, reason="generated",
                            base_currency="EUR", actor_label="test",
                        )  # fmt: skip
                elif kind == "write_off" and invoices:
                    write_off_invoice(
                        db_session=session, actor=actor, invoice=invoices[item[1] % len(invoices)], reason="generated",
                        settings=SETTINGS, today=day,
                    )  # fmt: skip
                elif kind == "platform":
                    _, who, amount, currency, refund = item
                    record = RevenueRecord(
                        creator_id=creators[who].id, earned_on=day, source=RevenueSource.creator_rewards,
                        currency=currency, amount=-amount if refund else amount, is_refund=refund,
                    )  # fmt: skip
                    session.add(record)
                    session.flush()
                    post_platform_payout(db_session=session, actor=actor, record=record, settings=SETTINGS)
                elif kind == "commission":
                    payee = [f"user:{actor.user.id}", "Ref"][item[1]]
                    owed = commission_payable_balances(session).get(payee, Decimal("0.00"))
                    pay_commission(
                        db_session=session, actor=actor, payee=payee, paid_on=day, reference=f"com-{n}",
                        amount=(owed * item[2] / 100).quantize(Decimal("0.01")), settings=SETTINGS,
                    )  # fmt: skip
        except ServiceError:
            _note(f"{kind} refused")
            continue  # a refused event (nothing left to allocate, already reversed...) writes nothing
        _note(f"{kind} done")
    return invoices


def _note(what: str) -> None:
    """Counted in --hypothesis-show-statistics (and harmless outside a hypothesis run)."""
    with contextlib.suppress(hypothesis.errors.InvalidArgument):
        hypothesis.event(what)


def _ledger_payable(session, creator_id: int, last: date) -> Decimal:
    return exact(
        session.scalar(
            select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0)).where(
                JournalLine.account_code == CREATOR_PAYABLES,
                JournalLine.creator_id == creator_id,
                JournalLine.posted_on <= last,
            )
        )
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(event, min_size=1, max_size=30))
def test_money_events_keep_the_books_balanced_and_statements_reconciled(session, events):
    nested = session.begin_nested()
    try:
        actor, brands, creators = _setup(session)
        invoices = _run(session, actor, brands, creators, events)
        assert unbalanced_entries(session) == []
        assert sum(row["balance"] for row in trial_balance(session)) == 0
        reversed_ids = set(
            session.scalars(select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None)))
        )
        for invoice in invoices:
            session.refresh(invoice)
            assert invoice.amount_paid + invoice.amount_credited + invoice.outstanding == invoice.total
            touched = session.scalar(
                select(func.count())
                .select_from(JournalLine)
                .where(JournalLine.invoice_id == invoice.id, JournalLine.entry_id.in_(reversed_ids or {0}))
            )
            if not touched:
                owed = session.scalar(
                    select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0)).where(
                        JournalLine.account_code == RECEIVABLES, JournalLine.invoice_id == invoice.id
                    )
                )
                expected = (invoice.outstanding * invoice.rate_to_base).quantize(Decimal("0.01"))
                assert abs(exact(owed) - expected) <= Decimal("0.01")
                if invoice.status in (InvoiceStatus.paid, InvoiceStatus.void):
                    assert exact(owed) == 0
        # Commission is never paid out beyond what a payee was owed (unless a reversal or a platform's
        # refund took back what it was owed for).
        if not reversed_ids and not session.scalar(select(func.count()).where(RevenueRecord.is_refund)):
            assert all(balance >= 0 for balance in commission_payable_balances(session).values())
        previous = {c.id: Decimal("0.00") for c in creators}
        for month in MONTHS:
            statements = month_statements(session, month=month, base_currency="EUR")
            last = date.fromisoformat(f"{month}-01").replace(day=28) + timedelta(days=4)
            last = last.replace(day=1) - timedelta(days=1)
            for creator in creators:
                statement = statements.get(creator.id)
                if statement is None:
                    assert _ledger_payable(session, creator.id, last) == previous[creator.id]
                    continue
                assert statement.opening == previous[creator.id]
                assert statement.opening + statement.earned - statement.commission - statement.paid_out == (
                    statement.closing
                )
                assert statement.closing == _ledger_payable(session, creator.id, last)
                previous[creator.id] = statement.closing
    finally:
        nested.rollback()
