"""Signed-in devices in a real browser: the sessions page ends the other devices at once,
remember-me included, and a password change keeps only the device that made it."""

import re

from playwright.sync_api import expect

from agency.core.users.models import Role
from agency.core.users.service import create_user
from tests.web.conftest import login, serious_violations

EMAIL = "devices.analyst@agency.example"
PASSWORD = "devices-password-2026"
NEW_PASSWORD = "devices-password-2027"


def test_sign_out_everywhere_else_and_change_the_password(open_page, live_server):
    base_url, database = live_server
    with database.session_scope() as session:
        create_user(db_session=session, email=EMAIL, password=PASSWORD, role=Role.analyst)
    laptop, phone = open_page(), open_page(390)
    login(laptop, base_url, EMAIL, PASSWORD)
    phone.goto(f"{base_url}/login")
    phone.fill("#email", EMAIL)
    phone.fill("#password", PASSWORD)
    phone.check("input[name=remember]")
    phone.click("button[type=submit]")
    phone.wait_for_url(f"{base_url}/")

    laptop.get_by_role("link", name="Sessions").click()
    expect(laptop.get_by_role("heading", name="Where you are signed in")).to_be_visible()
    expect(laptop.locator("tbody tr")).to_have_count(2)
    expect(laptop.locator("tbody tr", has_text="(this device)")).to_have_count(1)
    assert serious_violations(laptop, base_url) == []
    laptop.get_by_role("button", name="Sign out everywhere else").click()
    expect(laptop.locator(".flash")).to_contain_text("1 other device")
    expect(laptop.locator("tbody tr")).to_have_count(1)

    phone.goto(f"{base_url}/creators")  # its session and its remember-me cookie are both ended
    expect(phone).to_have_url(re.compile(r"/login"))

    login(phone, base_url, EMAIL, PASSWORD)
    laptop.goto(f"{base_url}/account/password")
    assert serious_violations(laptop, base_url) == []
    laptop.fill("#f-current_password", PASSWORD)
    laptop.fill("#f-new_password", NEW_PASSWORD)
    laptop.fill("#f-new_password_again", NEW_PASSWORD)
    laptop.get_by_role("button", name="Change password").click()
    expect(laptop.locator(".flash")).to_contain_text("every other device is signed out")
    phone.goto(f"{base_url}/creators")
    expect(phone).to_have_url(re.compile(r"/login"))
    laptop.goto(f"{base_url}/creators")
    expect(laptop).to_have_url(f"{base_url}/creators")
