"""Creator portal accounts: a manager invites their creator; the link is single use, expires,
and is stored only as a digest; the account it opens sees only that creator."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from agency.core.audit.models import AuditEntry
from agency.core.audit.service import Actor
from agency.core.database import utcnow
from agency.core.errors import Forbidden, InvalidInput, NotFound
from agency.core.users.invitations import accept_invitation, find_invitation
from agency.core.users.models import CreatorInvitation, Role, User
from agency.roster.service import invite_creator
from tests.factories import PASSWORD

NEW_PASSWORD = "creator-password-77"
PUBLIC = "https://agency.example.com"


def _csrf(client, path="/login"):
    return re.search(
        r'name="csrf[-_]token" (?:value|content)="([^"]+)"', client.get(path).get_data(as_text=True)
    ).group(1)


def _login(client, email, password=PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": _csrf(client)})


def test_an_invitation_is_single_use_expires_and_is_stored_hashed(session, manager, make_creator):
    creator = make_creator(manager=manager)
    token, invitation = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="Lina@Example.com", public_url=PUBLIC
    )
    assert invitation.email == "lina@example.com" and token.startswith("inv_")
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(session.scalars(select(CreatorInvitation.token_hash)).all())
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "creator.invite")).one()
    assert audit.after["email"] == "lina@example.com" and token not in str(audit.after)

    with pytest.raises(InvalidInput):
        accept_invitation(db_session=session, token=token, password="short")
    user = accept_invitation(db_session=session, token=token, password=NEW_PASSWORD, full_name="Lina")
    assert user.role is Role.creator and user.creator_id == creator.id
    with pytest.raises(NotFound):
        accept_invitation(db_session=session, token=token, password=NEW_PASSWORD)  # used

    late, _ = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="other@example.com", public_url=PUBLIC
    )
    with pytest.raises(NotFound):
        find_invitation(db_session=session, token=late, now=utcnow() + timedelta(days=8))  # expired
    first, _ = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="third@example.com", public_url=PUBLIC
    )
    second, _ = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="third@example.com", public_url=PUBLIC
    )
    with pytest.raises(NotFound):
        find_invitation(db_session=session, token=first)  # replaced by the newer link
    assert find_invitation(db_session=session, token=second).email == "third@example.com"
    with pytest.raises(InvalidInput):  # an address that already has an account
        invite_creator(
            db_session=session, actor=Actor(user=manager), creator=creator, email="lina@example.com", public_url=PUBLIC
        )


def test_only_the_creators_manager_or_an_admin_invites(session, manager, analyst, admin, make_user, make_creator):
    creator = make_creator(manager=manager)
    for user in (analyst, make_user(Role.manager)):
        with pytest.raises(Forbidden):
            invite_creator(
                db_session=session, actor=Actor(user=user), creator=creator, email="x@example.com", public_url=PUBLIC
            )
    token, _ = invite_creator(
        db_session=session, actor=Actor(user=admin), creator=creator, email="y@example.com", public_url=PUBLIC
    )
    assert token


def test_the_invitation_page_opens_the_account_and_signs_in(client, session, manager, make_creator):
    creator = make_creator(manager=manager)
    assert _login(client, manager.email).status_code == 302
    page = client.post(
        f"/creators/{creator.id}/portal", data={"csrf_token": _csrf(client, "/"), "email": "new@example.com"}
    )
    link = re.search(r'id="invitation-link">([^<]+)<', page.get_data(as_text=True)).group(1)
    path = link.removeprefix(client.application.config["AGENCY"].public_url).replace("&amp;", "&")
    client.post("/logout", data={"csrf_token": _csrf(client, "/")})

    form = client.get(path)
    assert form.status_code == 200 and "new@example.com" in form.get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', form.get_data(as_text=True)).group(1)
    data = {
        "csrf_token": _csrf(client, path),
        "token": token,
        "password": NEW_PASSWORD,
        "password_again": "different-pass-1",
    }
    refused = client.post("/invitations/accept", data=data)
    assert refused.status_code == 422 and 'id="f-password_again-error"' in refused.get_data(as_text=True)
    data["password_again"] = NEW_PASSWORD
    opened = client.post("/invitations/accept", data=data)
    assert opened.status_code == 302 and opened.headers["Location"] == "/portal"
    assert creator.display_name in client.get("/portal").get_data(as_text=True)
    assert client.get(path).status_code == 404  # the link worked once
    user = session.scalars(select(User).where(User.email == "new@example.com")).one()
    assert user.role is Role.creator and user.creator_id == creator.id
    assert session.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == user.id)).all() == [
        "invitation.accept"
    ]


def test_a_creator_sees_only_their_portal(client, manager, make_creator, make_portal_user):
    mine, other = make_creator(manager=manager), make_creator(manager=manager)
    user = make_portal_user(mine)
    assert _login(client, user.email).status_code == 302
    assert client.get("/").headers["Location"] == "/portal"
    home = client.get("/portal").get_data(as_text=True)
    assert mine.display_name in home and other.display_name not in home
    for path in (
        "/creators",
        f"/creators/{other.id}",
        f"/creators/{mine.id}",
        "/deals",
        "/brands",
        "/revenue",
        "/alerts",
        "/metrics/import",
        "/admin/users",
        f"/creators/{mine.id}/accounts",
    ):
        assert client.get(path).status_code == 403, path
    assert client.get("/portal/statements/2026-01").status_code == 200
    assert client.get("/portal/statements/2026-13").status_code == 404
    assert client.get(f"/api/v1/creators/{other.id}/statements/2026-01").status_code == 403
    assert client.get(f"/api/v1/creators/{mine.id}/statements/2026-01?format=csv").status_code == 200


def test_staff_do_not_use_the_portal(client, manager):
    _login(client, manager.email)
    assert client.get("/portal").status_code == 403


def test_staff_accounts_cannot_be_given_the_creator_role(client, admin, auth_for):
    created = client.post(
        "/api/v1/users",
        json={"email": "c@example.com", "role": "creator", "password": "a-long-password-1"},
        headers=auth_for(admin),
    )
    assert created.status_code == 422 and "invitation" in str(created.json["errors"])


# What a creator's account may open: the portal, their own sessions and password, signing in and out.
CREATOR_PAGES = {"web.dashboard", "web.login", "web.accept_invitation", "web.account_sessions", "web.account_password"}
NOT_PAGES = {"health.healthz", "health.readyz", "metrics", "static"}


def test_every_staff_page_answers_403_to_a_creator(app, client, manager, make_creator, make_portal_user):
    """Walks the app's routes rather than a list, so a new staff page cannot forget the creator
    role: each page outside the portal is refused, for another creator's ids and their own."""
    mine, other = make_creator(manager=manager), make_creator(manager=manager)
    _login(client, make_portal_user(mine).email)
    refused = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/") or "GET" not in rule.methods or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint.startswith("portal.") or rule.endpoint in CREATOR_PAGES:
            continue
        for creator in (mine, other):
            values = {
                arg: (creator.id if arg == "creator_id" else "2026-01" if arg == "month" else 1)
                for arg in rule.arguments
            }
            path = rule.build(values)[1]
            refused[path] = client.get(path).status_code
    assert refused and set(refused.values()) == {403}, {p: s for p, s in refused.items() if s != 403}
