"""A creator's portal invitation is emailed to them through the outbox (as the manager also sees
it once): the link is built from the configured public address, and the plain token is not kept
in the outbox once the email has gone."""

import re

from sqlalchemy import select

from agency.alerts.mailer import send_pending
from agency.alerts.models import OutboxMessage, OutboxStatus
from agency.core.audit.service import Actor
from agency.roster.service import invite_creator
from tests.factories import PASSWORD

PUBLIC = "https://agency.example.com"


def _csrf(client, path):
    return re.search(r'name="csrf[-_]token" (?:value|content)="([^"]+)"', client.get(path).get_data(as_text=True))[1]


def test_the_invitation_is_emailed_to_the_creator_with_the_public_link(
    client, session, manager, make_creator, mail_config, smtp_server
):
    _, mailbox = smtp_server
    saved, mail_config.public_url = mail_config.public_url, PUBLIC
    try:
        creator = make_creator(manager=manager, display_name="Lina Park")
        client.post(
            "/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")}
        )
        page = client.post(
            f"/creators/{creator.id}/portal",
            data={"csrf_token": _csrf(client, f"/creators/{creator.id}/portal"), "email": "lina@example.com"},
        )
        html = page.get_data(as_text=True)
        shown = re.search(r'id="invitation-link">([^<]+)<', html)[1].replace("&amp;", "&")
        assert shown.startswith(f"{PUBLIC}/invitations/accept?token=inv_")  # the manager still sees it
        assert "emailed to lina@example.com" in html

        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "lina@example.com")).one()
        assert queued.kind == "invitation" and queued.status is OutboxStatus.pending

        assert send_pending(session.get_bind(), mail_config)["sent"] == 1
        (email,) = mailbox.messages
        assert email["To"] == "lina@example.com"
        assert "Lina Park" in email["Subject"]
        text = email.get_body(("plain",)).get_content()
        assert shown in text and manager.full_name in text
        assert f'href="{shown.replace("&", "&amp;")}"' in email.get_body(("html",)).get_content()

        # Once sent, the outbox keeps no usable copy of the single-use token.
        session.expire_all()
        sent = session.get(OutboxMessage, queued.id)
        token = shown.split("token=", 1)[1]
        assert sent.status is OutboxStatus.sent and token not in sent.body_text + sent.body_html

        # The emailed link opens the account form.
        client.post("/logout", data={"csrf_token": _csrf(client, "/")})
        form = client.get(shown.removeprefix(PUBLIC))
        assert form.status_code == 200 and "lina@example.com" in form.get_data(as_text=True)
    finally:
        mail_config.public_url = saved


def test_a_new_invitation_emails_a_new_link_and_an_unsendable_one_is_not_kept_either(
    session, manager, make_creator, mail_config, smtp_server
):
    _, mailbox = smtp_server
    creator = make_creator(manager=manager)
    first, _ = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="a@example.com", public_url=PUBLIC
    )
    second, _ = invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="a@example.com", public_url=PUBLIC
    )
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["sent"] == 2
    bodies = [m.get_body(("plain",)).get_content() for m in mailbox.messages]
    assert first in bodies[0] and second in bodies[1]

    # A message that can never be sent gives up without keeping the link either.
    invite_creator(
        db_session=session, actor=Actor(user=manager), creator=creator, email="b@example.com", public_url=PUBLIC
    )
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "b@example.com")).one()
    message.recipient, message.attempts = "someone@example.com\nBcc: all@example.com", 4
    session.commit()
    assert send_pending(session.get_bind(), mail_config)["dead"] == 1
    session.expire_all()
    dead = session.get(OutboxMessage, message.id)
    assert dead.status is OutboxStatus.dead and "inv_" not in dead.body_text + dead.body_html
