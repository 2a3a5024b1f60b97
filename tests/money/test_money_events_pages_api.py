"""The money events that had only an API, on their pages and on the command line: recording a
platform payout, paying a manager's or referrer's commission, writing an invoice off. CSRF on
every form, admins only where the API says so, each audited and read back from the ledger."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from agency.core.audit.models import AuditEntry
from agency.core.audit.service import Actor
from agency.core.users.models import Role
from agency.deals.models import Brand
from agency.money.chain_models import Agreement, CommissionSplit, JournalEntry
from agency.money.models import RevenueRecord, RevenueSource
from agency.money.revenue import create_record
from tests.money.test_money_pages_api import _invoiced_deal, _login

TODAY = date.today()


def _represented(session, creator, manager):
    session.add(
        Agreement(
            creator_id=creator.id, starts_on=TODAY - timedelta(days=60), payout_currency="EUR",
            commission_rates={"brand_deal": "20.00", "creator_rewards": "10.00"},
            default_commission_percent=Decimal("20.00"),
            splits=[CommissionSplit(role="agency", share_percent=Decimal("50")),
                    CommissionSplit(role="primary_manager", user_id=manager.id, share_percent=Decimal("50"))],
        )
    )  # fmt: skip
    session.commit()


def _entries(session, kind: str) -> int:
    return session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.kind == kind))


def test_platform_payout_page_records_and_posts_once(client, session, manager, make_user, make_creator):
    creator = make_creator(manager=manager)
    _represented(session, creator, manager)
    csrf = _login(client, manager)
    page = client.get("/money/platform-payouts")
    assert page.status_code == 200 and creator.display_name in page.get_data(as_text=True)
    form = {"creator_id": str(creator.id), "date": (TODAY - timedelta(days=1)).isoformat(),
            "source": "creator_rewards", "platform": "tiktok", "amount": "300.00", "currency": "EUR",
            "external_ref": "ui-rewards-1"}  # fmt: skip
    assert client.post("/money/platform-payouts", data=form).status_code == 400  # no CSRF token
    bad = client.post("/money/platform-payouts", data=form | {"csrf_token": csrf, "amount": "1.234"})
    assert bad.status_code == 422 and "amount" in bad.get_data(as_text=True)
    done = client.post("/money/platform-payouts", data=form | {"csrf_token": csrf})
    assert done.status_code == 302, done.get_data(as_text=True)[:800]
    assert _entries(session, "platform_payout") == 1
    again = client.post("/money/platform-payouts", data=form | {"csrf_token": csrf})
    assert again.status_code == 422 and _entries(session, "platform_payout") == 1  # same reference
    # A record whose posting waited (no USD rate) is posted from the page once the rate is known.
    record = create_record(
        db_session=session, actor=Actor(manager), today=TODAY,
        data={"creator_id": creator.id, "earned_on": TODAY - timedelta(days=1), "source": RevenueSource.live_gifts,
              "amount": Decimal("40.00"), "currency": "USD"},
    )  # fmt: skip
    session.commit()
    assert f'value="{record.id}"' in client.get("/money/platform-payouts").get_data(as_text=True)
    waiting = client.post("/money/platform-payouts", data={"csrf_token": csrf, "revenue_record_id": str(record.id)})
    assert waiting.status_code == 422 and "rate" in waiting.get_data(as_text=True)
    analyst = make_user(role=Role.analyst)
    client.post("/logout", data={"csrf_token": csrf})
    analyst_csrf = _login(client, analyst)
    assert client.post("/money/platform-payouts", data=form | {"csrf_token": analyst_csrf}).status_code == 403


def test_commission_page_lets_an_admin_pay_what_is_owed(client, session, admin, manager, make_creator):
    creator = make_creator(manager=manager)
    _represented(session, creator, manager)
    brand = Brand(name="Commission & Co")
    session.add(brand)
    session.commit()
    csrf = _login(client, manager)
    _invoiced_deal(client, csrf, session, creator, brand)  # 2,000: commission 400, the manager's half 200
    page = client.get("/money/commissions").get_data(as_text=True)
    assert "€200.00" in page and "Record commission paid" not in page
    form = {"payee": f"user:{manager.id}", "amount": "150.00", "paid_on": TODAY.isoformat(), "reference": "COM-UI-1"}
    assert client.post("/money/commissions", data=form | {"csrf_token": csrf}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    admin_csrf = _login(client, admin)
    assert client.post("/money/commissions", data=form).status_code == 400
    too_much = client.post("/money/commissions", data=form | {"csrf_token": admin_csrf, "amount": "250.00"})
    assert too_much.status_code == 422 and "owed" in too_much.get_data(as_text=True)
    paid = client.post("/money/commissions", data=form | {"csrf_token": admin_csrf})
    assert paid.status_code == 302
    assert "€50.00" in client.get("/money/commissions").get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "commission.paid")).actor_id == admin.id


def test_invoice_page_lets_an_admin_write_off_the_remainder(client, session, admin, manager, make_creator):
    creator = make_creator(manager=manager)
    brand = Brand(name="Insolvent Ltd")
    session.add(brand)
    session.commit()
    csrf = _login(client, manager)
    invoice = _invoiced_deal(client, csrf, session, creator, brand)
    url = f"/money/invoices/{invoice.id}"
    assert "Write off the remainder" not in client.get(url).get_data(as_text=True)
    form = {"action": "write_off", "reason": "brand insolvent", "version": str(invoice.version)}
    assert client.post(url, data=form | {"csrf_token": csrf}).status_code == 403
    client.post("/logout", data={"csrf_token": csrf})
    admin_csrf = _login(client, admin)
    assert "Write off the remainder" in client.get(url).get_data(as_text=True)
    assert client.post(url, data=form).status_code == 400
    stale = client.post(url, data=form | {"csrf_token": admin_csrf, "version": str(invoice.version - 1)})
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    assert client.post(url, data=form | {"csrf_token": admin_csrf, "reason": ""}).status_code == 422
    done = client.post(url, data=form | {"csrf_token": admin_csrf})
    assert done.status_code == 302
    session.refresh(invoice)
    assert invoice.status.value == "paid" and invoice.amount_written_off == Decimal("2000.00")
    assert "Written off: €2,000.00" in client.get(url).get_data(as_text=True)
    assert session.scalar(select(AuditEntry).where(AuditEntry.action == "invoice.write_off")).actor_id == admin.id


def test_the_command_line_records_the_same_events(app, session, manager, make_creator):
    creator = make_creator(manager=manager)
    _represented(session, creator, manager)
    runner = app.test_cli_runner()
    day = (TODAY - timedelta(days=2)).isoformat()
    args = ["ledger", "platform-payout", "--creator-id", str(creator.id), "--date", day, "--source",
            "creator_rewards", "--amount", "500.00", "--currency", "EUR", "--external-ref", "cli-1"]  # fmt: skip
    posted = runner.invoke(args=args)
    assert posted.exit_code == 0, posted.output
    assert runner.invoke(args=args).exit_code != 0  # recorded once
    merch = runner.invoke(args=args[:7] + ["merch"] + args[8:-1] + ["cli-2"])
    assert merch.exit_code != 0 and "not a platform payout" in merch.output
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(RevenueRecord)) == 1
    # 500 at 10 %: the manager's half of the commission is 25.
    pay = ["ledger", "pay-commission", "--payee", f"user:{manager.id}", "--paid-on", TODAY.isoformat(),
           "--reference", "CLI-COM"]  # fmt: skip
    assert "owed" in runner.invoke(args=pay + ["--amount", "30.00"]).output
    paid = runner.invoke(args=pay + ["--amount", "25.00"])
    assert paid.exit_code == 0, paid.output
    assert _entries(session, "commission_payout") == 1
    missing = runner.invoke(args=["ledger", "write-off", "--invoice", "INV-1999-00001", "--reason", "gone"])
    assert missing.exit_code != 0 and "No invoice" in missing.output


def test_the_command_line_writes_an_invoice_off(app, client, session, manager, make_creator):
    creator = make_creator(manager=manager)
    brand = Brand(name="Gone Ltd")
    session.add(brand)
    session.commit()
    invoice = _invoiced_deal(client, _login(client, manager), session, creator, brand)
    result = app.test_cli_runner().invoke(args=["ledger", "write-off", "--invoice", invoice.number, "--reason", "x"])
    assert result.exit_code == 0, result.output
    assert "2000.00 EUR written off" in result.output
    again = app.test_cli_runner().invoke(args=["ledger", "write-off", "--invoice", invoice.number, "--reason", "x"])
    assert again.exit_code != 0 and "nothing to write off" in again.output
