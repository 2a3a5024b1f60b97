"""The money chain in the browser: a delivered deal invoiced, paid in two parts, its creator
paid out in a batch an admin approves and marks paid, and the creator's statement showing it."""

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from agency.core.users.models import User
from agency.deals.models import Brand, Deal, DealSource, DealStage
from agency.money.chain_models import Invoice
from agency.roster.models import Creator
from tests.web.conftest import login


def test_deal_to_invoice_to_payments_to_payout_to_statement(open_page, live_server):
    base_url, database = live_server
    with database.session_scope() as session:
        creator = session.scalars(
            select(Creator)
            .join(User, User.id == Creator.manager_id)
            .where(User.email == "manager1@agency.example", Creator.archived_at.is_(None))
            .order_by(Creator.id.desc())
        ).first()
        brand = Brand(name="Chain Walk Ltd")
        session.add(brand)
        session.flush()
        deal = Deal(
            creator_id=creator.id, brand_id=brand.id, title="Chain walk", source=DealSource.direct,
            fee_amount="3000.00", fee_currency="EUR", stage=DealStage.delivered, commission_percent="20.00",
        )  # fmt: skip
        session.add(deal)
        session.flush()
        deal_id, creator_id, creator_name = deal.id, creator.id, creator.display_name

    page = open_page()
    login(page, base_url)
    page.goto(f"{base_url}/deals/{deal_id}")
    page.get_by_role("button", name="Move to invoiced").click()
    expect(page.get_by_role("status").first).to_contain_text("moved to invoiced")
    with database.session_scope() as session:
        number = session.scalars(select(Invoice.number).where(Invoice.deal_id == deal_id)).one()

    page.get_by_role("link", name="Money").click()
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", name=f"Invoice {number}")).to_be_visible()
    for reference, amount in (("WALK-1", "1000.00"), ("WALK-2", "2000.00")):
        page.get_by_role("link", name="Record a payment for this invoice").click()
        page.get_by_label("Brand").select_option(label="Chain Walk Ltd")
        page.get_by_label(re.compile(r"^Amount \(required\)")).fill(amount)
        page.get_by_label(re.compile("^Bank reference")).fill(reference)
        expect(page.get_by_label("Allocate to invoice")).to_have_value(str(page_invoice_id(database, number)))
        page.get_by_label(re.compile("^Amount allocated")).fill(amount)
        page.get_by_role("button", name="Record").click()
        expect(page.get_by_role("status").first).to_contain_text(f"Payment {reference} recorded")
        page.goto(f"{base_url}/money/invoices/{page_invoice_id(database, number)}")
        expect(
            page.get_by_text("partially paid" if reference == "WALK-1" else "Paid", exact=False).first
        ).to_be_visible()
    page.goto(f"{base_url}/deals/{deal_id}")
    expect(page.get_by_text("Paid").first).to_be_visible()

    page.goto(f"{base_url}/money/payouts")
    page.get_by_label(f"Pay {creator_name}").check()
    page.get_by_role("button", name="Draft a batch for the selected creators").click()
    expect(page.get_by_role("status").first).to_contain_text("drafted: 2400.00 EUR")

    admin = open_page()
    login(admin, base_url, email="admin@agency.example")
    admin.goto(f"{base_url}/money/payouts")
    admin.get_by_role("button", name="Approve").first.click()
    expect(admin.get_by_role("status").first).to_contain_text("approved")
    admin.get_by_label("Bank reference").first.fill("SEPA-WALK")
    admin.get_by_role("button", name="Mark paid").first.click()
    expect(admin.get_by_role("status").first).to_contain_text("marked paid")

    page.goto(f"{base_url}/money/creators/{creator_id}/balance?month={date.today():%Y-%m}")
    statement = page.locator("table").first
    expect(statement).to_contain_text("Paid out")
    expect(page.get_by_role("cell", name="SEPA-WALK")).to_be_visible()


def page_invoice_id(database, number: str) -> int:
    with database.session_scope() as session:
        return session.scalars(select(Invoice.id).where(Invoice.number == number)).one()
