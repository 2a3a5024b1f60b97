"""The creator portal in a real browser: a manager invites a creator, the creator opens their
account from the link and sees only their own numbers; another creator's page or API resource is
refused."""

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from agency.alerts.models import OutboxMessage
from agency.core.users.models import User
from agency.metrics.models import MetricSnapshot
from agency.roster.models import Creator
from tests.web.conftest import login


def _two_creators_of_manager1(database):
    with database.session_scope() as session:
        rows = session.execute(
            select(Creator.id, Creator.display_name)
            .join(User, User.id == Creator.manager_id)
            .where(User.email == "manager1@agency.example", Creator.archived_at.is_(None))
            .order_by(Creator.id.desc())
            .limit(2)
        ).all()
    return rows[0], rows[1]


def test_a_manager_invites_a_creator_who_sees_only_their_own_page(open_page, page, live_server):
    base_url, database = live_server
    (creator_id, name), (other_id, other_name) = _two_creators_of_manager1(database)
    login(page, base_url)
    page.goto(f"{base_url}/creators/{creator_id}")
    page.get_by_role("link", name="Portal access").click()
    page.get_by_label("Their email address (required)").fill("invited.creator@example.com")
    page.get_by_role("button", name="Email an invitation").click()
    link = page.locator("#invitation-link").inner_text().strip()
    assert link.startswith(f"{base_url}/invitations/accept?token=inv_")
    expect(page.locator("section[aria-labelledby=link-heading]")).to_contain_text(
        "emailed to invited.creator@example.com"
    )
    with database.session_scope() as session:  # the same link waits in the outbox for the creator
        email = session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "invited.creator@example.com")
        ).one()
    assert email.kind == "invitation" and link in email.body_text
    expect(page.get_by_role("table")).to_contain_text("waiting")

    portal = open_page(390, 844)
    portal.goto(link)
    expect(portal.get_by_role("heading", name="Open your creator account")).to_be_visible()
    portal.get_by_label("Your name").fill(name)
    portal.get_by_label("Password (required)", exact=True).fill("short")
    portal.get_by_label("The same password again (required)").fill("short")
    portal.get_by_role("button", name="Open my account").click()
    expect(portal.get_by_role("alert")).to_contain_text("at least 12 characters")
    portal.get_by_label("Password (required)", exact=True).fill("my-own-password-42")
    portal.get_by_label("The same password again (required)").fill("my-own-password-42")
    portal.get_by_role("button", name="Open my account").click()
    portal.wait_for_url(f"{base_url}/portal")
    expect(portal.get_by_role("heading", name=f"Hello {name}")).to_be_visible()
    expect(portal.get_by_role("heading", name="My programmes")).to_be_visible()
    expect(portal.locator(".programme").first).to_be_visible()
    expect(portal.get_by_role("navigation", name="Main")).not_to_contain_text("Creators")
    assert portal.evaluate("() => document.documentElement.scrollWidth") <= 390

    # Isolation: another creator's page, the staff pages and another creator's API resources.
    assert portal.goto(f"{base_url}/creators/{other_id}").status == 403
    assert portal.goto(f"{base_url}/creators").status == 403
    assert portal.goto(f"{base_url}/deals").status == 403
    assert portal.goto(f"{base_url}/revenue").status == 403
    assert portal.goto(f"{base_url}/").url == f"{base_url}/portal"  # the dashboard sends creators home
    api = portal.context.request
    assert api.get(f"{base_url}/api/v1/creators/{other_id}").status == 403
    assert api.get(f"{base_url}/api/v1/creators/{other_id}/eligibility").status == 403
    assert api.get(f"{base_url}/api/v1/creators/{other_id}/statements/2026-01").status == 403
    assert api.get(f"{base_url}/api/v1/creators").status == 403
    assert api.get(f"{base_url}/api/v1/deals").status == 403
    # The staff's record of the creator (internal notes included) stays with the staff.
    assert api.get(f"{base_url}/api/v1/creators/{creator_id}").status == 403
    own = api.get(f"{base_url}/api/v1/creators/{creator_id}/eligibility")
    assert own.status == 200 and {row["creator_name"] for row in own.json()} == {name}
    assert other_name not in portal.goto(f"{base_url}/portal").text()

    # The link worked once.
    again = open_page()
    assert again.goto(link).status == 404
    expect(again.get_by_role("heading", name="This link does not work")).to_be_visible()


def test_a_creator_uploads_their_metrics_and_cannot_upload_someone_elses(page, live_server, portal_user, tmp_path):
    base_url, database = live_server
    with database.session_scope() as session:
        own = session.get(Creator, portal_user["creator_id"]).accounts[0]
        other = session.scalars(
            select(Creator).where(Creator.id != portal_user["creator_id"], Creator.archived_at.is_(None))
        ).first()
        own_line = f"{own.platform.value},{own.handle},2026-01-15,12345,999"
        foreign_line = f"{other.accounts[0].platform.value},{other.accounts[0].handle},2026-01-15,1,1"
    login(page, base_url, portal_user["email"], portal_user["password"])
    page.get_by_role("link", name="Upload metrics").click()
    foreign = tmp_path / "foreign.csv"
    foreign.write_text(f"platform,handle,day,followers,views\n{own_line}\n{foreign_line}\n")
    page.set_input_files("#file", str(foreign))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report")).to_contain_text("not yours: nothing was imported")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"platform,handle,day,followers,views\n{own_line}\n{own.platform.value},{own.handle},2026-01-16,-5,1\n"
    )
    page.set_input_files("#file", str(bad))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report table.errors")).to_contain_text("followers")
    good = tmp_path / "good.csv"
    good.write_text(f"platform,handle,day,followers,views\n{own_line}\n")
    page.set_input_files("#file", str(good))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#import-report")).to_contain_text(re.compile(r"Imported 1 row"))
    assert page.locator("#upload-progress").get_attribute("value") == "100"
    with database.session_scope() as session:
        followers = session.scalars(
            select(MetricSnapshot.followers).where(
                MetricSnapshot.account_id.in_([own.id, other.accounts[0].id]), MetricSnapshot.day == date(2026, 1, 15)
            )
        ).all()
    assert followers == [12345]
