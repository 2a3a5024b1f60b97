"""The demo agency's money chain: invoices in every state, payments, splits and a paid payout
batch, posted through the services, so its books balance; a reset removes it all."""

from sqlalchemy import func, select

from agency.demo.loader import load_demo
from agency.money.chain_models import CommissionSplit, Invoice, InvoiceKind, JournalEntry, PayoutBatch
from agency.money.ledger import trial_balance, unbalanced_entries


def test_demo_has_invoices_in_every_state_and_balanced_books(app, db, session):
    summary = load_demo(db_session=session, creators=12, days=40)
    assert summary["invoices"] > 0
    states = set(session.scalars(select(Invoice.status).where(Invoice.kind == InvoiceKind.invoice)))
    assert {s.value for s in states} == {"draft", "issued", "partially_paid", "paid", "void"}
    assert session.scalar(select(func.count()).select_from(Invoice).where(Invoice.kind == InvoiceKind.credit_note))
    assert session.scalar(select(func.count(CommissionSplit.id))) > 0
    assert [b.status.value for b in session.scalars(select(PayoutBatch))] == ["paid"]
    assert unbalanced_entries(session) == [] and sum(r["balance"] for r in trial_balance(session)) == 0
    load_demo(db_session=session, creators=12, days=40, reset=True)
    assert session.scalar(select(func.count(PayoutBatch.id))) == 1
    assert session.scalar(select(func.count(JournalEntry.id))) == summary["journal_entries"]
