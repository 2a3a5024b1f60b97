"""Browser tests: the app served by a real HTTP server thread over a committed demo database,
driven by Playwright in Debian's chromium. A screenshot of the page is saved on failure."""

import re
import threading
from pathlib import Path

import pytest
from alembic import command
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from agency import create_app
from agency.core.cli import alembic_config
from agency.core.config import Config
from agency.core.database import Database
from agency.core.users.models import CreatorLogin, Role, User
from agency.core.users.service import create_user
from agency.demo.loader import DEMO_PASSWORD, load_demo
from agency.roster.models import Creator
from tests.conftest import _create_database, _drop_database, _worker_id

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(base_database_url):

    name = f"agency_web_{_worker_id()}"
    url = _create_database(base_database_url, name) if not base_database_url.startswith("sqlite") else None
    command.upgrade(alembic_config(url), "head")
    database = Database(url)
    with database.session_scope() as session:
        load_demo(db_session=session, creators=24, days=60, seed=5)
    config = Config.from_env(
        {},
        password_hash_profile="cheapest",
        database_url=url,
        secret_key="browser-tests",
        log_json=False,
        log_level="WARNING",
        login_rate_limit="1000 per minute",
    )
    app = create_app(config)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["recompute", "all"]).exit_code == 0
    assert runner.invoke(args=["alerts", "evaluate"]).exit_code == 0
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # Links the app builds for outside (invitation emails) point at this server.
    config.public_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", database
    server.shutdown()
    app.extensions["agency_db"].dispose()
    database.dispose()
    _drop_database(base_database_url, name)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture()
def open_page(browser, request):
    """New pages in their own contexts (another user, another width); each is screenshotted to
    test-artifacts/ when the test fails, and closed after it."""
    pages = []

    def _open(width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        pages.append(context.new_page())
        return pages[-1]

    yield _open
    failed = getattr(request.node, "rep_call", None)
    for n, opened in enumerate(pages):
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            suffix = "" if n == 0 else f"-{n}"
            opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}{suffix}.png"), full_page=True)
        opened.context.close()


@pytest.fixture()
def page(open_page):
    return open_page()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def login(page, base_url: str, email: str = "manager1@agency.example", password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(re.escape(base_url) + r"/(portal)?$"))


PORTAL_EMAIL = "portal.creator@agency.example"
PORTAL_PASSWORD = "portal-password-2026"


@pytest.fixture(scope="session")
def portal_user(live_server):
    """A creator account (as an accepted invitation leaves it) for the first creator of manager1."""
    _base_url, database = live_server
    with database.session_scope() as session:
        creator = session.scalars(
            select(Creator)
            .join(User, User.id == Creator.manager_id)
            .where(User.email == "manager1@agency.example")
            .order_by(Creator.id)
        ).first()
        user = create_user(
            db_session=session, email=PORTAL_EMAIL, password=PORTAL_PASSWORD, role=Role.creator, full_name="Portal"
        )
        session.add(CreatorLogin(user_id=user.id, creator_id=creator.id))
        return {"email": PORTAL_EMAIL, "password": PORTAL_PASSWORD, "creator_id": creator.id}


AXE = "/static/vendor/axe-core/axe.min.js"
SERIOUS = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({rule: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""


def serious_violations(page, base_url: str) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now (loaded from our own
    static folder, which the pages' CSP allows)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(url=f"{base_url}{AXE}")
    return page.evaluate(SERIOUS)
