"""The money pages: an invoice page (printable) with a credit note, a payment recorded and
allocated from its form, the aging report, a payout batch drafted, approved by an admin and paid,
and the creator's balance; CSRF on every form, analysts read only."""

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from agency.core.users.models import Role
from agency.deals.models import Brand, Deal, DealStage
from agency.money.chain_models import Invoice, PayoutBatch
from tests.factories import PASSWORD

TODAY = date.today().isoformat()


def _login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def _invoiced_deal(client, csrf, session, creator, brand):
    deal = Deal(
        creator_id=creator.id, brand_id=brand.id, title="Autumn", source="direct", fee_amount="2000.00",
        fee_currency="EUR", stage=DealStage.delivered, commission_percent="20.00",
    )  # fmt: skip
    session.add(deal)
    session.commit()
    moved = client.post(f"/deals/{deal.id}/move", data={"csrf_token": csrf, "to_stage": "invoiced"})
    assert moved.status_code in (200, 302), moved.get_data(as_text=True)[:500]
    return session.scalars(select(Invoice).where(Invoice.deal_id == deal.id)).one()


def test_invoice_payment_payout_and_balance_pages(
    client, app, session, make_user, manager, make_creator, make_portal_user
):
    creator = make_creator(manager=manager)
    brand = Brand(name="Pages & Co")
    session.add(brand)
    session.commit()
    csrf = _login(client, manager)
    invoice = _invoiced_deal(client, csrf, session, creator, brand)
    page = client.get(f"/money/invoices/{invoice.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and invoice.number in html and "Print" in html and "Pages &amp; Co" in html
    assert invoice.number in client.get("/money/invoices").get_data(as_text=True)
    # A credit note from the page; a bad amount is shown inline.
    bad = client.post(f"/money/invoices/{invoice.id}", data={"csrf_token": csrf, "amount": "abc", "reason": "x"})
    assert bad.status_code == 422 and 'id="f-amount-error"' in bad.get_data(as_text=True)
    assert client.post(f"/money/invoices/{invoice.id}", data={"amount": "1.00", "reason": "x"}).status_code == 400
    credited = client.post(
        f"/money/invoices/{invoice.id}", data={"csrf_token": csrf, "amount": "200.00", "reason": "late video"}
    )
    assert credited.status_code == 302
    session.refresh(invoice)
    assert invoice.amount_credited == Decimal("200.00")
    # A payment of the 1,800 still owed, allocated from the form: the deal is paid.
    form = {"csrf_token": csrf, "brand_id": str(brand.id), "received_on": TODAY, "amount": "1800.00",
            "currency": "EUR", "bank_reference": "UI-1", "invoice_id": str(invoice.id),
            "allocate": "1800.00"}  # fmt: skip
    assert client.post("/money/payments", data=form).status_code == 302
    session.refresh(invoice)
    assert invoice.status.value == "paid" and invoice.deal.stage is DealStage.paid
    again = client.post("/money/payments", data=form)
    assert again.status_code == 422 and "already" in again.get_data(as_text=True)
    aging = client.get("/money/aging")
    assert aging.status_code == 200 and "Nothing is owed" in aging.get_data(as_text=True)
    # Payout: drafted by the manager, approved and paid by an admin.
    assert client.post("/money/payouts", data={"csrf_token": csrf, "action": "create"}).status_code == 302
    batch = session.scalars(select(PayoutBatch)).one()
    assert batch.total == Decimal("1440.00")  # 80 % of the 1,800 invoiced net of the credit note
    approve = {"csrf_token": csrf, "action": "approve", "batch_id": str(batch.id), "version": str(batch.version)}
    assert client.post("/money/payouts", data=approve).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    admin_csrf = _login(client, make_user(Role.admin))
    assert client.post("/money/payouts", data=approve | {"csrf_token": admin_csrf}).status_code == 302
    session.refresh(batch)
    paid = {"csrf_token": admin_csrf, "action": "paid", "batch_id": str(batch.id), "version": str(batch.version),
            "paid_on": TODAY, "reference": "SEPA-UI"}  # fmt: skip
    assert client.post("/money/payouts", data=paid).status_code == 302
    session.refresh(batch)
    assert batch.status.value == "paid"
    balance = client.get(f"/money/creators/{creator.id}/balance").get_data(as_text=True)
    assert "Closing balance" in balance and "SEPA-UI" in balance
    # The creator sees the same balance in their portal, and nobody else's money page.
    client.post("/logout", data={"csrf_token": admin_csrf})
    portal_user = make_portal_user(creator)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": portal_user.email, "password": PASSWORD, "csrf_token": token})
    mine = client.get("/portal/balance")
    assert mine.status_code == 200 and "SEPA-UI" in mine.get_data(as_text=True)
    assert "1,440.00" in mine.get_data(as_text=True) or "1440.00" in mine.get_data(as_text=True)
    assert client.get(f"/money/creators/{creator.id}/balance").status_code in (302, 403)
    assert client.get("/money/invoices").status_code in (302, 403)


def test_analysts_read_the_money_pages_but_cannot_write(client, analyst):
    csrf = _login(client, analyst)
    for url in ("/money/invoices", "/money/payments", "/money/aging", "/money/payouts"):
        assert client.get(url).status_code == 200, url
    refused = client.post("/money/payouts", data={"csrf_token": csrf, "action": "create"})
    assert refused.status_code == 403
