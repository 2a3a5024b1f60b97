"""Every page passes axe-core with no serious or critical violation, for each role that sees it;
the deal board, the roster and a creator's page fit 1280 and 390 pixels wide; the main journey
works with the keyboard alone."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agency import create_app
from agency.alerts.models import Alert
from agency.core.audit.service import Actor
from agency.core.config import Config
from agency.core.jobs.models import JobRecord
from agency.core.users.models import User
from agency.deals.models import Brand, Deal
from agency.demo.loader import DEMO_PASSWORD
from agency.money.chain_models import Invoice
from agency.money.models import RevenueRecord
from agency.programmes.models import Program
from agency.roster.models import Creator
from agency.roster.service import invite_creator
from tests.web.conftest import login, serious_violations


@pytest.fixture(scope="module")
def ids(live_server):
    _base_url, database = live_server
    with database.session_scope() as session:
        mine = (
            select(Creator.id).join(User, User.id == Creator.manager_id).where(User.email == "manager1@agency.example")
        )
        creator = session.scalar(mine.order_by(Creator.id))
        deal = session.scalar(select(Deal.id).where(Deal.creator_id.in_(mine)).order_by(Deal.id))
        return {
            "creator": creator,
            "deal": deal,
            "brand": session.scalar(select(Brand.id).order_by(Brand.id)),
            "account": session.scalar(select(Creator).where(Creator.id == creator)).accounts[0].id,
            "record": session.scalar(select(RevenueRecord.id).where(RevenueRecord.creator_id.in_(mine))),
            "program": session.scalar(select(Program.id).order_by(Program.id)),
            "job": session.scalar(select(JobRecord.id)),
            "invoice": session.scalar(select(Invoice.id).order_by(Invoice.id)),
            "alert": session.scalar(select(Alert.id).where(Alert.creator_id.in_(mine)).order_by(Alert.id)),
        }


def staff_pages(i: dict) -> list[str]:
    return [
        "/",
        "/creators",
        f"/creators/{i['creator']}",
        "/creators/new",
        f"/creators/{i['creator']}/edit",
        f"/creators/{i['creator']}/accounts",
        f"/creators/{i['creator']}/portal",
        f"/accounts/{i['account']}/metrics/day",
        "/metrics/import",
        "/deals",
        "/deals/new",
        f"/deals/new?creator_id={i['creator']}",
        f"/deals/{i['deal']}",
        f"/deals/{i['deal']}/edit",
        "/brands",
        "/brands/new",
        f"/brands/{i['brand']}",
        "/revenue",
        "/revenue/new",
        f"/revenue/{i['record']}/edit",
        f"/revenue/new?refund_of={i['record']}",
        "/alerts",
        f"/alerts/{i['alert']}",
        "/settings/notifications",
        f"/deals/new?brand_id={i['brand']}",
        f"/deals/{i['deal']}/adjustments",
        "/money/invoices",
        f"/money/invoices/{i['invoice']}",
        "/money/payments",
        "/money/aging",
        "/money/payouts",
        "/money/platform-payouts",
        "/money/commissions",
        f"/money/creators/{i['creator']}/balance",
        "/account/sessions",
        "/account/password",
    ]


ADMIN_PAGES = ["/admin/users", "/admin/programs", "/admin/fx-rates", "/admin/jobs"]


def admin_only_pages(i: dict) -> list[str]:
    # A brand used by several managers' deals is edited by admins only.
    # The write-off and commission-payment forms are admins' only.
    return [f"/brands/{i['brand']}/edit", f"/money/invoices/{i['invoice']}", "/money/commissions"]


PORTAL_PAGES = ["/portal", "/portal/metrics", "/portal/statements/2026-01", "/portal/balance", "/account/sessions"]
SIGNED_OUT_PAGES = ["/login", "/invitations/accept?token=inv_not-a-real-one"]
# Routes that answer GET without being a page to check: files, probes, the metrics scrape.
NOT_PAGES = {"money_chain_ui.invoice_pdf", "health.healthz", "health.readyz", "metrics", "static"}


def test_the_sweeps_visit_every_page_the_app_serves():
    """Each GET route of the UI (not the API) is in one of the sweeps below, so a new page cannot
    be left out of the accessibility check."""
    app = create_app(Config.from_env({}, database_url="sqlite://", secret_key="routes"))
    adapter = app.url_map.bind("localhost")
    i = dict.fromkeys(["creator", "deal", "brand", "account", "record", "program", "job", "invoice", "alert"], 1)
    swept = [*staff_pages(i), *ADMIN_PAGES, *admin_only_pages(i), *PORTAL_PAGES, *SIGNED_OUT_PAGES]
    covered = {adapter.match(path.split("?")[0], method="GET")[0] for path in swept}
    pages = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.rule.startswith("/api/") and rule.endpoint not in NOT_PAGES
    }
    assert pages - covered == set()


def _sweep(page, base_url, paths) -> dict:
    found = {}
    for path in paths:
        response = page.goto(f"{base_url}{path}")
        assert response.status == 200, path
        violations = serious_violations(page, base_url)
        if violations:
            found[path] = violations
    return found


def test_staff_pages_have_no_serious_accessibility_violation(page, live_server, ids):
    base_url, _ = live_server
    login(page, base_url)
    assert _sweep(page, base_url, staff_pages(ids)) == {}


def test_admin_and_analyst_pages_have_no_serious_accessibility_violation(page, open_page, live_server, ids):
    base_url, _ = live_server
    login(page, base_url, "admin@agency.example")
    assert _sweep(page, base_url, [*ADMIN_PAGES, *admin_only_pages(ids)]) == {}
    # An analyst sees the same pages without edit controls: their markup differs, so check it too.
    analyst = open_page()
    login(analyst, base_url, "analyst@agency.example")
    assert _sweep(analyst, base_url, ["/", "/creators", f"/creators/{ids['creator']}", "/deals", "/revenue"]) == {}


def test_sign_in_portal_and_error_pages_have_no_serious_accessibility_violation(page, live_server, portal_user, ids):
    base_url, database = live_server
    for path in SIGNED_OUT_PAGES:
        page.goto(f"{base_url}{path}")
        assert serious_violations(page, base_url) == [], path
    # The form a valid invitation link opens (the page above is the one for a dead link).
    with database.session_scope() as session:
        creator = session.get(Creator, ids["creator"])
        manager = session.get(User, creator.manager_id)
        token, _ = invite_creator(
            db_session=session,
            actor=Actor(user=manager),
            creator=creator,
            email="a11y@example.com",
            public_url=base_url,
        )
    assert _sweep(page, base_url, [f"/invitations/accept?token={token}"]) == {}
    login(page, base_url, portal_user["email"], portal_user["password"])
    assert _sweep(page, base_url, PORTAL_PAGES) == {}
    page.goto(f"{base_url}/creators")  # a 403 page
    assert serious_violations(page, base_url) == []


@pytest.mark.parametrize("width", [1280, 390])
def test_board_roster_and_creator_page_fit_the_window(open_page, live_server, ids, width):
    base_url, _ = live_server
    page = open_page(width)
    login(page, base_url)
    for path in ("/deals", "/creators", f"/creators/{ids['creator']}"):
        page.goto(f"{base_url}{path}")
        # Nothing sticks out of the page: wide tables scroll inside their own box.
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, (path, width)
        assert serious_violations(page, base_url) == [], (path, width)
    page.goto(f"{base_url}/deals")
    # Every stage's column is on screen (it wraps or stacks; none is hidden past the edge).
    for column in page.locator(".board .column").all():
        box = column.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 1, (width, column.get_attribute("aria-label"))


def test_every_page_fits_a_phone(open_page, live_server, ids, portal_user):
    """At 390 pixels nothing sticks out sideways on any page, for any role: wide tables scroll
    inside their own box."""
    base_url, _ = live_server
    wide = {}
    for email, password, paths in (
        ("manager1@agency.example", DEMO_PASSWORD, staff_pages(ids)),
        ("admin@agency.example", DEMO_PASSWORD, [*ADMIN_PAGES, *admin_only_pages(ids)]),
        (portal_user["email"], portal_user["password"], PORTAL_PAGES),
    ):
        page = open_page(390, 844)
        login(page, base_url, email, password)
        for path in paths:
            assert page.goto(f"{base_url}{path}").status == 200, path
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > 390:
                wide[f"{email} {path}"] = width
    assert wide == {}


def test_keyboard_alone_finds_a_creator_and_opens_a_deal_form(page, live_server, ids):
    """Sign in, search the roster, open a creator and start a deal, pressing keys only."""
    base_url, database = live_server
    with database.session_scope() as session:
        name = session.get(Creator, ids["creator"]).display_name
    page.goto(f"{base_url}/login")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator("a.skip")).to_be_focused()
    page.locator("#email").focus()
    page.keyboard.type("manager1@agency.example")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password-2026")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")
    _tab_to(page, "a", "Creators")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/creators$"))
    _tab_to(page, "input", "search")
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q="))
    _tab_to(page, "a", name)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/creators/{ids['creator']}")
    _tab_to(page, "a", "Open a deal")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Open a deal")).to_be_visible()
    _tab_to(page, "input", "text")  # the deal's title
    page.keyboard.type("Keyboard-only deal")
    focused = page.evaluate("() => [document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]")
    assert focused == ["f-title", "solid"]  # where the focus is can be seen


def test_keyboard_alone_acknowledges_an_alert_and_a_creator_reads_their_balance(
    page, open_page, live_server, portal_user
):
    base_url, _ = live_server
    login(page, base_url)
    page.goto(f"{base_url}/alerts")
    for _ in range(200):  # to the first alert's box
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name === 'ids'"):
            break
    row_id = page.evaluate("() => document.activeElement.closest('tr').id")
    page.keyboard.press("Space")
    _tab_to(page, "button", "Acknowledge selected", key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("1 alert(s) acknowledged")
    expect(page.locator(f"#{row_id}")).to_contain_text("acknowledged")

    creator = open_page()
    creator.goto(f"{base_url}/login")
    creator.locator("#email").focus()
    creator.keyboard.type(portal_user["email"])
    creator.keyboard.press("Tab")
    creator.keyboard.type(portal_user["password"])
    creator.keyboard.press("Enter")
    creator.wait_for_url(f"{base_url}/portal")
    _tab_to(creator, "a", "My balance: what the agency owes me")
    creator.keyboard.press("Enter")
    creator.wait_for_url(f"{base_url}/portal/balance")
    _tab_to(creator, "a", "Upload metrics")
    creator.keyboard.press("Enter")
    creator.wait_for_url(f"{base_url}/portal/metrics")
    _tab_to(creator, "input", "file")
    assert creator.evaluate("() => document.activeElement.id") == "file"


def _tab_to(page, tag: str, text: str, limit: int = 80, key: str = "Tab") -> None:
    """Press Tab (or `key`) until the focused element is a `tag` whose text (or type) is `text`."""
    for _ in range(limit):
        page.keyboard.press(key)
        found = page.evaluate(
            "([tag, text]) => { const e = document.activeElement; return e.tagName.toLowerCase() === tag &&"
            " ((e.innerText || '').trim() === text || e.type === text); }",
            [tag, text],
        )
        if found:
            return
    raise AssertionError(f"no {tag} '{text}' reachable with Tab")


def test_the_check_finds_what_it_looks_for(page, live_server):
    """The sweep above would catch a problem: an image without a text alternative is critical."""
    base_url, _ = live_server
    page.goto(f"{base_url}/login")
    page.evaluate("() => document.querySelector('main').insertAdjacentHTML('beforeend', '<img src=\"/static/x.png\">')")
    assert "image-alt" in {v["rule"] for v in serious_violations(page, base_url)}


def test_the_aging_report_draws_its_buckets_with_the_figures_beside_them(page, live_server):
    base_url, _ = live_server
    login(page, base_url, "admin@agency.example")
    page.goto(f"{base_url}/money/aging")
    bars = page.evaluate(
        "() => { const c = window.Chart && Chart.getChart(document.getElementById('aging-chart'));"
        " return c ? [c.data.labels, c.data.datasets[0].data] : null; }"
    )
    assert bars is not None and bars[0][0] == "Not yet due" and len(bars[1]) == 5
    assert sum(bars[1]) > 0  # the demo agency has invoices owing
    expect(page.locator("#aging-totals")).to_contain_text("Over 90 days")
