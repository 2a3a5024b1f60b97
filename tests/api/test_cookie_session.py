"""The sign-in cookie: requests without one skip Flask's cookie machinery, and every response
carries exactly the cookies and Vary headers Flask's own session interface would send."""
import re

from flask.sessions import SecureCookieSessionInterface

from agency.cookie_session import CookieSessionInterface
from tests.conftest import PASSWORD


def _visit(client, manager, token):
    """A bearer API client, then a person signing in, browsing, calling the API, signing out."""
    seen = []

    def record(response):
        cookies = sorted(value.split("=", 1)[0] + (" (deleted)" if "Expires=Thu, 01 Jan 1970" in value else "")
                         for value in response.headers.getlist("Set-Cookie"))
        seen.append((response.status_code, cookies, response.headers.get("Vary")))
        return response

    record(client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}))
    record(client.get("/healthz"))
    page = record(client.get("/login")).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    record(client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": csrf}))
    home = record(client.get("/")).get_data(as_text=True)
    record(client.get("/api/v1/users/me"))
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', home).group(1)
    record(client.post("/logout", data={"csrf_token": csrf}))
    record(client.get("/"))
    return seen


def test_cookies_and_vary_are_those_of_flasks_session_interface(app, db, manager, auth_for):
    token = auth_for(manager)["Authorization"].removeprefix("Bearer ")
    assert isinstance(app.session_interface, CookieSessionInterface)
    ours = _visit(app.test_client(), manager, token)
    original = app.session_interface
    app.session_interface = SecureCookieSessionInterface()
    try:
        flasks = _visit(app.test_client(), manager, token)
    finally:
        app.session_interface = original
    assert ours == flasks
    # and the journey is the expected one: no cookie for the API client, a session once signed in
    assert ours[0][:2] == (200, []) and "session" in ours[2][1] and ours[3][0] == 302
    assert ours[-1][0] == 302


def test_a_tampered_session_cookie_is_an_empty_session(client, manager):
    client.set_cookie("session", "not-a-signed-value")
    assert client.get("/").status_code == 302  # to the sign-in page, no error
    assert client.get("/api/v1/users/me").status_code == 401
