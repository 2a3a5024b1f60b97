"""An unpaid invoice's reminder email (due + 7, + 14, + 30) carries the invoice's PDF as it was
issued, sent through a real local SMTP server; a message whose attachment cannot be found fails
alone (then ends dead) and never holds up the queue."""

from datetime import date, timedelta

import time_machine
from sqlalchemy import select

from agency.alerts.mailer import MAX_ATTEMPTS, send_pending
from agency.alerts.models import OutboxMessage, OutboxStatus
from agency.alerts.notifications import queue_immediate
from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.core.database import utcnow
from agency.money.chain_models import InvoiceDocument

ISSUED = date(2026, 3, 2)
DUE = ISSUED + timedelta(days=30)


def _issued_invoice(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager, status="active")
    headers = auth_for(manager)
    brand = client.post("/api/v1/brands", json={"name": "Late Payer"}, headers=headers).json
    deal = client.post(
        "/api/v1/deals",
        json={"creator_id": creator.id, "brand_id": brand["id"], "title": "Launch", "source": "direct",
              "fee_amount": "900.00", "fee_currency": "EUR"},
        headers=headers,
    ).json  # fmt: skip
    for stage in ["negotiating", "contracted", "in_progress", "delivered"]:
        client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": stage}, headers=headers)
    invoice = client.post(
        "/api/v1/invoices", json={"deal_id": deal["id"], "issued_on": ISSUED.isoformat()}, headers=headers
    )
    assert invoice.status_code == 201, invoice.json
    return invoice.json


def _evaluate(session, today):
    evaluate_alerts(
        db_session=session,
        settings=AlertSettings(today=today),
        on_opened=lambda ids: queue_immediate(db_session=session, alert_ids=ids, public_url="http://agency.test"),
    )
    session.commit()


def test_the_reminder_email_carries_the_issued_pdf(
    client, session, manager, make_creator, auth_for, mail_config, smtp_server
):
    _, mailbox = smtp_server
    invoice = _issued_invoice(client, manager, make_creator, auth_for)
    stored = session.scalar(select(InvoiceDocument).where(InvoiceDocument.invoice_id == invoice["id"]))
    _evaluate(session, DUE + timedelta(days=7))
    queued = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == manager.email)).all()
    assert len(queued) == 1 and queued[0].attachments == [{"kind": "invoice_pdf", "invoice_id": invoice["id"]}]
    assert send_pending(session.get_bind(), mail_config)["sent"] == 1
    email = mailbox.messages[0]
    assert invoice["number"] in email["Subject"]
    assert "attached" in email.get_body(preferencelist=("plain",)).get_content()
    files = list(email.iter_attachments())
    assert [(f.get_content_type(), f.get_filename()) for f in files] == [
        ("application/pdf", f"{invoice['number']}.pdf")
    ]
    assert files[0].get_content() == stored.content and stored.content.startswith(b"%PDF")
    # The next step (+ 14) is emailed with the same document.
    _evaluate(session, DUE + timedelta(days=14))
    assert send_pending(session.get_bind(), mail_config)["sent"] == 1
    assert next(mailbox.messages[1].iter_attachments()).get_content() == stored.content


def test_a_missing_attachment_fails_its_message_alone(session, manager, mail_config, smtp_server):
    _, mailbox = smtp_server

    def outbox(n, **fields):
        message = OutboxMessage(
            user_id=manager.id, kind="immediate", message_id=f"<attach-{n}@agency>", recipient=manager.email,
            subject=f"Reminder {n}", body_text="text", body_html="<p>html</p>", alert_ids=[], **fields,
        )  # fmt: skip
        session.add(message)
        session.flush()
        return message

    broken = outbox(0, attachments=[{"kind": "invoice_pdf", "invoice_id": 987654}])  # claimed first
    for n in (1, 2):
        outbox(n)
    session.commit()
    counts = send_pending(session.get_bind(), mail_config)
    assert counts["sent"] == 2 and counts["failed"] == 1
    assert sorted(m["Message-ID"] for m in mailbox.messages) == ["<attach-1@agency>", "<attach-2@agency>"]
    session.refresh(broken)
    assert broken.status is OutboxStatus.pending and "AttachmentMissing" in broken.last_error
    for attempt in range(2, MAX_ATTEMPTS + 1):
        with time_machine.travel(utcnow() + timedelta(hours=attempt), tick=False):
            send_pending(session.get_bind(), mail_config)
    session.refresh(broken)
    assert broken.status is OutboxStatus.dead and len(mailbox.messages) == 2
