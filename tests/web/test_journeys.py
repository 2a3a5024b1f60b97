"""The main journeys of an account manager, in a real browser."""

import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from agency.core.users.models import User
from agency.deals.models import Deal, DealStage
from agency.programmes.models import EligibilityEvaluation
from agency.roster.models import Creator
from tests.web.conftest import login


def test_sign_in_and_see_the_dashboard(page, live_server):
    base_url, _ = live_server
    page.goto(f"{base_url}/creators")
    expect(page).to_have_url(re.compile(r"/login"))
    page.fill("#email", "manager1@agency.example")
    page.fill("#password", "wrong-password-123")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password")
    login(page, base_url)
    expect(page.get_by_role("heading", name="My creators")).to_be_visible()
    expect(page.get_by_text("Open alerts")).to_be_visible()


def test_find_a_creator_and_read_why_they_are_not_eligible(page, live_server):
    base_url, database = live_server
    with database.session_scope() as session:
        creator_id, name = session.execute(
            select(Creator.id, Creator.display_name)
            .join(EligibilityEvaluation, EligibilityEvaluation.creator_id == Creator.id)
            .join(User, User.id == Creator.manager_id)
            .where(EligibilityEvaluation.eligible.is_(False), User.email == "manager1@agency.example")
            .limit(1)
        ).one()
    login(page, base_url)
    page.get_by_role("link", name="Creators").first.click()
    page.get_by_label("Search").fill(name)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name=name).click()
    expect(page).to_have_url(f"{base_url}/creators/{creator_id}")
    expect(page.get_by_role("heading", name="Monetisation programmes")).to_be_visible()
    expect(page.locator(".programme.not-eligible").first).to_be_visible()
    expect(page.locator(".criteria li.fail").first).to_be_visible()
    expect(page.locator("#audience-chart")).to_be_visible()
    # Chart.js is a deferred script: it runs once the page is parsed, which can be after the
    # chart's canvas is visible. Waits for it (and fails if it never loads).
    page.wait_for_function("() => !!window.Chart")


def test_move_a_deal_only_along_legal_transitions(page, live_server):
    base_url, database = live_server
    with database.session_scope() as session:
        deal = session.scalars(
            select(Deal)
            .join(Creator)
            .join(User, User.id == Creator.manager_id)
            .where(Deal.stage == DealStage.lead, User.email == "manager1@agency.example", Deal.archived_at.is_(None))
        ).first()
        if deal is None:  # make sure there is one lead to move
            deal = session.scalars(
                select(Deal)
                .join(Creator)
                .join(User, User.id == Creator.manager_id)
                .where(User.email == "manager1@agency.example", Deal.archived_at.is_(None))
            ).first()
            deal.stage = DealStage.lead
        deal_id, title = deal.id, deal.title
    login(page, base_url)
    page.goto(f"{base_url}/deals")
    card = page.locator(f"#deal-{deal_id}")
    expect(card.get_by_role("button", name=re.compile("Move .* to negotiating"))).to_be_visible()
    expect(card.get_by_role("button", name=re.compile("to paid"))).to_have_count(0)  # illegal jumps not offered
    card.get_by_role("button", name=re.compile("Move .* to negotiating")).click()
    expect(page.get_by_role("status").first).to_contain_text(f"'{title}' moved to negotiating")
    with database.session_scope() as session:
        assert session.get(Deal, deal_id).stage is DealStage.negotiating


def test_upload_a_revenue_csv_with_a_bad_row_and_see_the_error(page, live_server, tmp_path):
    base_url, database = live_server
    with database.session_scope() as session:
        creator_id = session.scalar(
            select(Creator.id).join(User, User.id == Creator.manager_id).where(User.email == "manager1@agency.example")
        )
    csv = tmp_path / "revenue.csv"
    csv.write_text(
        "creator_id,date,source,platform,amount,currency,external_ref\n"
        f"{creator_id},2026-01-02,affiliate,instagram,12.50,EUR,browser-1\n"
        f"{creator_id},2026-01-03,affiliate,instagram,-4.00,EUR,browser-2\n"
    )
    login(page, base_url)
    page.goto(f"{base_url}/revenue")
    page.set_input_files("#file", str(csv))
    page.get_by_role("button", name="Import").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("nothing was imported")
    expect(report.locator("table.errors")).to_contain_text("amount")
    expect(report.locator("table.errors td").first).to_have_text("3")


def test_acknowledge_an_alert(page, live_server):
    base_url, _ = live_server
    login(page, base_url)
    page.goto(f"{base_url}/alerts")
    first = page.locator('#alerts-form input[name="ids"]').first
    alert_row = first.locator("xpath=ancestor::tr")
    row_id = alert_row.get_attribute("id")
    first.check()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.get_by_role("status").first).to_contain_text("1 alert(s) acknowledged")
    expect(page.locator(f"#{row_id}")).to_contain_text("acknowledged")


def test_analysts_see_no_edit_controls(page, live_server):
    base_url, _ = live_server
    login(page, base_url, "analyst@agency.example")
    page.goto(f"{base_url}/creators")
    expect(page.get_by_role("link", name="Add a creator")).to_have_count(0)
    page.locator("table.roster tbody a").first.click()
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.locator(".activation select").first).to_be_disabled()
    page.goto(f"{base_url}/alerts")
    expect(page.get_by_role("button", name="Acknowledge selected")).to_have_count(0)


def test_phone_width_roster_is_usable(open_page, live_server):
    base_url, _ = live_server
    page = open_page(390, 844)
    login(page, base_url)
    page.goto(f"{base_url}/creators")
    expect(page.get_by_role("heading", name=re.compile("Creators"))).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400  # the table scrolls inside its box, not the whole page


def test_the_dashboard_draws_its_trends_beside_their_tables(page, live_server):
    """Revenue by month stacked by source, the pipeline by stage, gains and losses per week: each
    chart is drawn from the numbers of its table, and the creators nearest to a threshold show
    their progress and ETA."""
    base_url, _ = live_server
    login(page, base_url, "admin@agency.example")
    charts = page.evaluate(
        "() => Object.fromEntries(['revenue-chart', 'pipeline-chart', 'eligibility-chart'].map(id => {"
        " const c = Chart.getChart(document.getElementById(id));"
        " return [id, {stacked: !!c.options.scales.x.stacked, labels: c.data.labels,"
        " sums: c.data.labels.map((_, i) => c.data.datasets.reduce((t, d) => t + Number(d.data[i] || 0), 0)),"
        " datasets: c.data.datasets.length, totals: Object.fromEntries(c.data.datasets.map(d =>"
        " [d.label, d.data.reduce((t, v) => t + Number(v || 0), 0)]))}]; }))"
    )
    revenue = charts["revenue-chart"]
    assert revenue["stacked"] and len(revenue["labels"]) == 12 and revenue["datasets"] > 1
    page.get_by_text("Revenue by month and source as a table").click()
    totals = page.locator("article:has(#revenue-trend) details table tbody tr td:last-child").all_inner_texts()
    # The table's amounts (decimal strings) are the chart's stacks (JavaScript numbers), to the cent.
    cent = Decimal("0.01")
    shown = [Decimal(re.sub(r"[^0-9.\-]", "", t)) for t in totals]
    assert shown == [Decimal(str(s)).quantize(cent) for s in revenue["sums"]]
    pipeline_rows = page.locator("#pipeline-table tbody tr").count()
    assert len(charts["pipeline-chart"]["labels"]) >= pipeline_rows > 0
    weeks = charts["eligibility-chart"]
    assert len(weeks["labels"]) == 12 and weeks["datasets"] == 2
    gained, lost = weeks["totals"]["gained"], weeks["totals"]["lost"]
    expect(page.locator("#eligibility-summary")).to_contain_text(f"{gained} gained and {lost} lost in 12 weeks")
    near = page.locator("ol.near li")
    expect(near.first.locator("progress")).to_be_visible()
    expect(near.first).to_contain_text(re.compile(r"ETA|no ETA"))
