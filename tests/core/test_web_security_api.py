"""UI security with the Flask test client: CSRF on every form, roles, headers, safe redirects."""

import re

from agency.core.users.models import Role
from tests.factories import PASSWORD

POST_ROUTES = [
    "/logout",
    "/creators/new",
    "/creators/{cid}/edit",
    "/creators/{cid}/activations/1",
    "/deals/1/move",
    "/revenue",
    "/alerts/action",
    "/settings/notifications",
    "/admin/users",
    "/admin/users/1/active",
    "/admin/programs",
    "/admin/programs/1/rules/1/end",
    "/admin/programs/1/close",
    "/admin/fx-rates",
    "/admin/jobs/1/retry",
    "/creators/{cid}/archive",
    "/creators/{cid}/restore",
    "/creators/{cid}/accounts",
    "/creators/{cid}/accounts/1",
    "/creators/{cid}/accounts/1/delete",
    "/creators/{cid}/strikes",
    "/creators/{cid}/portal",
    "/accounts/1/metrics/day",
    "/metrics/import",
    "/brands/new",
    "/brands/1/edit",
    "/brands/1/archive",
    "/deals/new",
    "/deals/1/edit",
    "/deals/1/archive",
    "/deals/1/deliverables",
    "/deals/1/deliverables/1",
    "/revenue/new",
    "/revenue/1/edit",
    "/revenue/1/archive",
    "/portal/metrics",
    "/invitations/accept",
    "/account/sessions/1/revoke",
    "/account/sessions/revoke-others",
    "/account/password",
    "/admin/users/1/password",
    "/admin/users/1/sessions/revoke",
    "/login",
    "/deals/1/adjustments",
    "/money/invoices/1",
    "/money/payments",
    "/money/payouts",
    "/money/platform-payouts",
    "/money/commissions",
]


def _login(client, user, password=PASSWORD):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})


def test_every_form_refuses_a_post_without_the_csrf_token(client, admin, make_creator):
    creator = make_creator(manager=admin)
    assert _login(client, admin).status_code == 302
    for route in POST_ROUTES:
        response = client.post(route.format(cid=creator.id), data={"anything": "1"})
        assert response.status_code == 400, route
        assert "CSRF" in response.get_data(as_text=True)


def test_the_csrf_check_above_names_every_form_the_app_accepts(app):
    """Every route a page posts to (the API excepted) is in POST_ROUTES, so a new form cannot be
    left out of the CSRF check."""
    adapter = app.url_map.bind("localhost")
    listed = {adapter.match(route.format(cid=1), method="POST")[0] for route in POST_ROUTES}
    forms = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not rule.rule.startswith("/api/")
    }
    assert forms - listed == set()


def test_pages_need_a_session_and_next_stays_local(client, manager):
    response = client.get("/creators")
    assert response.status_code == 302 and "/login?next=/creators" in response.headers["Location"]
    page = client.get("/login?next=https://evil.example/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login?next=https://evil.example/", data={"email": manager.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_analysts_get_403_when_posting_anyway(client, analyst, make_creator, make_user):
    creator = make_creator(manager=make_user(Role.manager))
    _login(client, analyst)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    assert client.post("/creators/new", data={"csrf_token": token, "display_name": "x"}).status_code == 403
    assert client.post(f"/creators/{creator.id}/edit", data={"csrf_token": token}).status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.post("/alerts/action", data={"csrf_token": token, "ids": ["1"], "action": "resolve"}).status_code in (
        403,
        404,
    )


def test_ui_pages_send_security_headers(client, manager):
    _login(client, manager)
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in csp
        and "script-src 'self'" in csp
        and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert client.get_cookie("session").http_only


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
)


def test_every_response_sends_each_security_header_once(app, client, manager, auth_for):
    api = client.get("/api/v1/creators", headers=auth_for(manager))
    docs = client.get("/api/docs")
    missing = client.get("/api/v1/nowhere", headers=auth_for(manager))
    for response in (api, docs, missing):
        assert [len(response.headers.getlist(name)) for name in SECURITY_HEADERS] == [1] * len(SECURITY_HEADERS)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP must not pin HTTPS
    assert "default-src 'self'" in api.headers["Content-Security-Policy"]
    # Swagger UI's page keeps its inline scripts and may still not be framed.
    assert docs.headers["Content-Security-Policy"] == "frame-ancestors 'none'"

    config = app.config["AGENCY"]
    config.session_cookie_secure = True
    try:
        secured = client.get("/healthz")
    finally:
        config.session_cookie_secure = False
    assert secured.headers.getlist("Strict-Transport-Security") == ["max-age=31536000; includeSubDomains"]


def test_creator_form_shows_inline_errors_and_keeps_input(client, manager):
    _login(client, manager)
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    response = client.post(
        "/creators/new",
        data={"csrf_token": token, "display_name": "Nova", "country": "XX", "niche": "music", "status": "prospect"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="country-error"' in html and "ISO 3166" in html and 'value="Nova"' in html


def test_ui_login_is_rate_limited(client, manager):
    codes = [_login(client, manager, "wrong-password-123").status_code for _ in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429


def test_sign_out_forgets_remember_me(client, manager):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token, "remember": "on"})
    assert client.get_cookie("remember_token") is not None
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/").status_code == 302


def test_the_roster_page_reads_its_filters_with_the_api_schema_and_shows_its_errors(client, manager, make_creator):
    make_creator(display_name="Alpha Gaming", niche="gaming", country="US")
    beta = make_creator(display_name="Beta Beauty", niche="beauty", country="FR", accounts=("youtube", "tiktok"))
    assert _login(client, manager).status_code == 302
    page = client.get("/creators?country=fr&niche=beauty&status=").get_data(as_text=True)
    assert "Beta Beauty" in page and "Alpha Gaming" not in page and "Filters ignored" not in page
    # Each row lists the creator's handles, in the order they were added.
    handles = [f"{a.platform.value} @{a.handle}" for a in beta.accounts]
    assert handles[0].startswith("youtube") and " ".join(handles) in page
    refused = client.get("/creators?country=XX&sort=bogus").get_data(as_text=True)
    assert "Filters ignored" in refused and "country" in refused and "sort" in refused
    assert "Alpha Gaming" in refused and "Beta Beauty" in refused  # the roster, unfiltered
