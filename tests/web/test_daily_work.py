"""A week of agency work in the browser, without the API: each journey a manager or an admin
runs, with the server's own validation shown beside the fields."""

import re
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

from playwright.sync_api import expect
from sqlalchemy import func, select

from agency.core.audit.models import AuditEntry
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.users.models import User
from agency.currencies.models import FxRate
from agency.deals.models import Brand, Deal, DeliverableStatus
from agency.metrics.models import MetricSnapshot
from agency.money.models import RevenueRecord
from agency.programmes.models import Program, RuleVersion
from agency.roster.models import Creator, GuidelineStrike, PlatformAccount
from tests.web.conftest import login

YESTERDAY = date.today() - timedelta(days=1)


def _manager1_creator(database, offset: int = 0):
    with database.session_scope() as session:
        return session.execute(
            select(Creator.id, Creator.display_name)
            .join(User, User.id == Creator.manager_id)
            .where(User.email == "manager1@agency.example", Creator.archived_at.is_(None))
            .order_by(Creator.id)
            .offset(offset)
            .limit(1)
        ).one()


def test_add_a_brand_open_a_deal_from_it_and_deliver(page, live_server):
    base_url, database = live_server
    creator_id, creator_name = _manager1_creator(database)
    login(page, base_url)
    page.goto(f"{base_url}/deals")
    page.get_by_role("link", name="Brands").click()
    page.get_by_role("link", name="Add a brand").click()
    page.get_by_label(re.compile("^Name")).fill("Fjord Outdoor")
    page.get_by_label("Website").fill("not a url")
    page.get_by_role("button", name="Save the brand").click()
    expect(page.locator("#f-website-error")).to_contain_text("valid URL")
    page.get_by_label("Website").fill("https://fjord.example")
    page.get_by_label("Contacts").fill("Ida Berg, ida@fjord.example, , partnerships")
    page.get_by_role("button", name="Save the brand").click()
    expect(page.get_by_role("heading", name="Fjord Outdoor")).to_be_visible()
    expect(page.get_by_text("Ida Berg (partnerships)")).to_be_visible()

    page.get_by_role("link", name="Open a deal with Fjord Outdoor").click()
    page.get_by_label("Creator").select_option(str(creator_id))
    page.get_by_label(re.compile("^Title")).fill("Winter hikes")
    page.get_by_label(re.compile("^Fee")).fill("12.345")
    page.get_by_role("button", name="Open the deal").click()
    expect(page.locator("#f-fee_amount-error")).to_contain_text("2 decimals")
    page.get_by_label(re.compile("^Fee")).fill("1800.00")
    page.get_by_role("button", name="Open the deal").click()
    expect(page.get_by_role("heading", name=re.compile("Winter hikes"))).to_be_visible()
    expect(page.get_by_text(creator_name).first).to_be_visible()

    page.get_by_label("Due").fill((date.today() + timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Add the deliverable").click()
    expect(page.get_by_role("status").first).to_contain_text("Deliverable added")
    row = page.locator("tr[id^=deliverable-]").first
    row.get_by_label(re.compile("Status of")).select_option("published")
    row.get_by_role("button", name=re.compile("Save the")).click()
    expect(page.locator("[id$=-error]").first).to_contain_text("required when published")
    row = page.locator("tr[id^=deliverable-]").first
    row.get_by_label(re.compile("Status of")).select_option("published")
    row.get_by_label(re.compile("Link to the published")).fill("https://tiktok.example/@x/video/1")
    row.get_by_role("button", name=re.compile("Save the")).click()
    expect(page.get_by_role("status").first).to_contain_text("published")
    page.get_by_role("button", name="Move to negotiating").click()
    expect(page.get_by_role("status").first).to_contain_text("moved to negotiating")
    with database.session_scope() as session:
        deal = session.scalars(select(Deal).where(Deal.title == "Winter hikes")).one()
        assert deal.stage.value == "negotiating" and deal.fee_amount == Decimal("1800.00")
        assert [d.status for d in deal.deliverables] == [DeliverableStatus.published]
        assert session.scalar(select(func.count()).where(AuditEntry.action == "deal.create")) >= 1


def test_a_stale_edit_of_deal_terms_is_refused_and_says_so(open_page, page, live_server):
    base_url, database = live_server
    creator_id, _ = _manager1_creator(database)
    with database.session_scope() as session:
        deal_id = session.scalar(select(Deal.id).where(Deal.creator_id == creator_id).order_by(Deal.id))
    login(page, base_url)
    page.goto(f"{base_url}/deals/{deal_id}/edit")
    other = open_page()
    login(other, base_url)
    other.goto(f"{base_url}/deals/{deal_id}/edit")
    other.get_by_label(re.compile("^Title")).fill("Changed first")
    other.get_by_role("button", name="Save the terms").click()
    expect(other.get_by_role("status").first).to_contain_text("Deal terms saved")
    page.get_by_label(re.compile("^Title")).fill("Changed second")
    page.get_by_role("button", name="Save the terms").click()
    expect(page.get_by_role("alert")).to_contain_text("changed by someone else")
    with database.session_scope() as session:
        assert session.get(Deal, deal_id).title == "Changed first"


def test_accounts_strikes_metrics_and_archive(page, live_server, tmp_path):
    base_url, database = live_server
    creator_id, name = _manager1_creator(database, offset=1)
    login(page, base_url)
    page.goto(f"{base_url}/creators/{creator_id}")
    page.get_by_role("link", name="Accounts and strikes").click()
    page.locator("#f-platform").select_option("twitch")
    page.get_by_label("Handle (required)").fill("bad handle!")
    page.get_by_role("button", name="Add the account").click()
    expect(page.locator("#f-handle-error")).to_contain_text("Handles use letters")
    page.get_by_label("Handle (required)").fill(f"@daily_work_{creator_id}")
    page.get_by_role("button", name="Add the account").click()
    expect(page.get_by_role("status").first).to_contain_text(f"twitch account @daily_work_{creator_id} added")

    page.get_by_label(re.compile("^Day of the strike")).fill(YESTERDAY.isoformat())
    page.get_by_label("Reason").fill("reused audio")
    page.get_by_role("button", name="Record the strike").click()
    expect(page.get_by_role("status").first).to_contain_text("Strike recorded")

    page.get_by_role("link", name=f"Enter a day for @daily_work_{creator_id}").click()
    page.get_by_label(re.compile("^Followers")).fill("-3")
    page.get_by_role("button", name="Save the day").click()
    expect(page.locator("#f-followers-error")).to_be_visible()
    page.get_by_label(re.compile("^Followers")).fill("4200")
    page.get_by_label("Views", exact=True).fill("900")
    page.get_by_role("button", name="Save the day").click()
    expect(page.get_by_role("status").first).to_contain_text("recorded")

    csv = tmp_path / "metrics.csv"
    csv.write_text(
        "platform,handle,day,followers,views\n"
        f"twitch,daily_work_{creator_id},{YESTERDAY - timedelta(days=1)},4100,800\n"
        f"twitch,daily_work_{creator_id},2999-01-01,4100,800\n"
    )
    page.get_by_role("link", name="Metrics").click()
    page.set_input_files("#file", str(csv))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report table.errors")).to_contain_text("in the future")
    expect(page.locator("#import-report")).to_contain_text("nothing was imported")
    page.get_by_label("Import the good rows even if some are bad").check()
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report")).to_contain_text("Imported 2 row(s): 1 new")

    page.goto(f"{base_url}/creators/{creator_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("status").first).to_contain_text("is archived")
    page.get_by_role("button", name="Restore to the roster").click()
    expect(page.get_by_role("status").first).to_contain_text("back on the roster, paused")
    with database.session_scope() as session:
        account = session.scalars(
            select(PlatformAccount).where(PlatformAccount.handle == f"daily_work_{creator_id}")
        ).one()
        days = session.scalars(select(MetricSnapshot.followers).where(MetricSnapshot.account_id == account.id)).all()
        assert sorted(days) == [4100, 4200]
        assert session.scalar(select(func.count()).where(GuidelineStrike.creator_id == creator_id)) >= 1
        creator = session.get(Creator, creator_id)
        assert creator.archived_at is None and creator.status.value == "paused"


def test_record_revenue_then_refund_it(page, live_server):
    base_url, database = live_server
    creator_id, _ = _manager1_creator(database)
    login(page, base_url)
    page.goto(f"{base_url}/creators/{creator_id}")
    page.get_by_role("link", name="Record revenue").click()
    page.get_by_label("Source").select_option("merch")
    page.get_by_label(re.compile("^Amount")).fill("-20.00")
    page.get_by_label(re.compile("^External reference")).fill(f"ui-merch-{creator_id}")
    page.get_by_role("button", name="Record the revenue").click()
    expect(page.locator("#f-amount-error")).to_contain_text("refund")
    page.get_by_label(re.compile("^Amount")).fill("80.00")
    page.get_by_role("button", name="Record the revenue").click()
    expect(page.get_by_role("status").first).to_contain_text("Revenue of 80.00 EUR recorded")
    with database.session_scope() as session:
        record_id = session.scalar(
            select(RevenueRecord.id).where(RevenueRecord.external_ref == f"ui-merch-{creator_id}")
        )
    page.get_by_role("link", name=f"Refund record {record_id}").click()
    expect(page.get_by_label(re.compile("^Amount"))).to_have_value("-80.00")
    page.get_by_role("button", name="Record the refund").click()
    expect(page.get_by_role("status").first).to_contain_text("Refund of -80.00 EUR recorded")
    with database.session_scope() as session:
        refund = session.scalars(
            select(RevenueRecord).where(RevenueRecord.notes == f"Refund of record {record_id}")
        ).one()
        assert refund.is_refund and refund.amount == Decimal("-80.00")


def test_admin_sets_a_rate_ends_a_rule_version_closes_a_programme_and_retries_a_job(page, live_server):
    base_url, database = live_server
    with database.session_scope() as session:
        program = session.scalars(select(Program).where(Program.code == "tiktok_live_subscription")).one()
        program_id, rule_id, starts = program.id, program.rules[0].id, program.rules[0].effective_from
        job = JobRecord(
            id="00000000-0000-0000-0000-00000000f00d",
            name="cleanup",
            queue="default",
            status=JobStatus.failed,
            arguments={},
            error="boom",
        )
        session.add(job)
    login(page, base_url, "admin@agency.example")
    page.goto(f"{base_url}/admin/fx-rates")
    page.get_by_label(re.compile("^From day")).fill("2026-01-05")
    page.get_by_label(re.compile("^One unit of")).fill("CHF")
    page.get_by_label(re.compile("^is worth")).fill("CHF")
    page.get_by_label(re.compile("^Rate")).fill("1.05")
    page.get_by_role("button", name="Save the rate").click()
    expect(page.locator("#f-quote-error")).to_contain_text("must differ")
    page.get_by_label(re.compile("^is worth")).fill("EUR")
    page.get_by_role("button", name="Save the rate").click()
    expect(page.get_by_role("status").first).to_contain_text("1 CHF = 1.05 EUR")

    page.get_by_role("link", name="Programmes").click()
    card = page.locator(f"#program-{program_id}")
    card.locator("summary").click()
    card.get_by_label("Ends on (empty: no end)").first.fill((starts - timedelta(days=1)).isoformat())
    card.get_by_role("button", name=re.compile("Save the end date")).first.click()
    expect(page.locator(f"#rule-{rule_id}-error")).to_contain_text("can only end after")
    card = page.locator(f"#program-{program_id}")
    card.get_by_label(re.compile("^Close .* from")).fill("2026-02-01")
    card.get_by_role("button", name="Close the programme").click()
    expect(page.get_by_role("status").first).to_contain_text("is closed from 01 Feb 2026")
    with database.session_scope() as session:
        assert session.get(RuleVersion, rule_id).effective_to == date(2026, 2, 1)
        assert session.scalar(select(FxRate.rate).where(FxRate.base == "CHF")) is not None

    page.get_by_role("link", name="Jobs").click()
    page.get_by_role("button", name="Retry cleanup (00000000)").click()
    expect(page.get_by_role("status").first).to_contain_text("cleanup queued again")


def test_edit_and_archive_a_brand_a_deal_an_account_and_a_revenue_record(page, live_server, tmp_path):
    """The corrections of a week: a brand's contacts, archiving it and a deal, renaming and
    removing an account, correcting and archiving a revenue record, a JSON-lines metrics file."""
    base_url, database = live_server
    creator_id, _ = _manager1_creator(database, offset=2)
    tag = uuid4().hex[:6]
    login(page, base_url)
    page.goto(f"{base_url}/brands/new")
    page.get_by_label(re.compile("^Name")).fill(f"Kelp Studio {tag}")
    page.get_by_role("button", name="Save the brand").click()
    brand_url = page.url
    page.get_by_role("link", name="Edit the brand").click()
    page.get_by_label("Contacts").fill("Noa Lind, noa@kelp.example, , press")
    page.get_by_role("button", name="Save the brand").click()
    expect(page.get_by_text("Noa Lind (press)")).to_be_visible()
    page.get_by_role("link", name=f"Open a deal with Kelp Studio {tag}").click()
    page.get_by_label("Creator").select_option(str(creator_id))
    page.get_by_label(re.compile("^Title")).fill(f"Kelp reel {tag}")
    page.get_by_label(re.compile("^Fee")).fill("300.00")
    page.get_by_role("button", name="Open the deal").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive the deal").click()
    expect(page.get_by_role("status").first).to_contain_text("archived")
    page.goto(brand_url)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive the brand").click()
    expect(page.get_by_role("status").first).to_contain_text(f"Brand 'Kelp Studio {tag}' archived")

    page.goto(f"{base_url}/creators/{creator_id}/accounts")
    page.locator("#f-platform").select_option("twitch")
    page.get_by_label("Handle (required)").fill(f"kelp_{tag}")
    page.get_by_role("button", name="Add the account").click()
    page.get_by_label("Handle of the twitch account").fill(f"kelp_live_{tag}")
    page.get_by_role("button", name=f"Save @kelp_{tag}").click()
    expect(page.get_by_role("status").first).to_contain_text(f"kelp_live_{tag}")
    jsonl = tmp_path / "metrics.jsonl"
    jsonl.write_text(f'{{"platform": "twitch", "handle": "kelp_live_{tag}", "day": "{YESTERDAY}", "followers": 77}}\n')
    page.goto(f"{base_url}/metrics/import")
    page.set_input_files("#file", str(jsonl))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report")).to_contain_text("Imported 1 row")
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    page.goto(f"{base_url}/creators/{creator_id}/accounts")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Remove @kelp_live_{tag}").click()
    expect(page.get_by_role("status").first).to_contain_text("removed")

    page.goto(f"{base_url}/creators/{creator_id}")
    page.get_by_role("link", name="Record revenue").click()
    page.get_by_label("Source").select_option("merch")
    page.get_by_label(re.compile("^Amount")).fill("55.00")
    page.get_by_label(re.compile("^External reference")).fill(f"kelp-{tag}")
    page.get_by_role("button", name="Record the revenue").click()
    expect(page.get_by_role("status").first).to_contain_text("Revenue of 55.00 EUR recorded")
    with database.session_scope() as session:
        record_id = session.scalar(select(RevenueRecord.id).where(RevenueRecord.external_ref == f"kelp-{tag}"))
    page.goto(f"{base_url}/revenue/{record_id}/edit")
    page.get_by_label(re.compile("^Amount")).fill("abc")
    page.get_by_role("button", name="Save the record").click()
    expect(page.locator("#f-amount-error")).to_be_visible()
    page.get_by_label(re.compile("^Amount")).fill("65.00")
    page.get_by_role("button", name="Save the record").click()
    expect(page.get_by_role("status").first).to_be_visible()
    page.goto(f"{base_url}/revenue/{record_id}/edit")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Archive this record").click()
    expect(page.get_by_role("status").first).to_contain_text("archived")
    with database.session_scope() as session:
        brand = session.scalars(select(Brand).where(Brand.name == f"Kelp Studio {tag}")).one()
        deal = session.scalars(select(Deal).where(Deal.title == f"Kelp reel {tag}")).one()
        record = session.get(RevenueRecord, record_id)
        assert brand.archived_at is not None and deal.archived_at is not None
        assert record.amount == Decimal("65.00") and record.archived_at is not None
        assert not session.scalars(select(PlatformAccount).where(PlatformAccount.handle == f"kelp_live_{tag}")).all()
        actions = set(
            session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id.in_([brand.id, deal.id, record_id])))
        )
        assert {"brand.archive", "deal.archive", "revenue.archive"} <= actions
